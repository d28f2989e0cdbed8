"""``momentsim ui``: check the scenario, then start the Solara server with the page.

The server is ``solara run sim.app.page`` in a child process (production mode, no
telemetry, no browser opened); the scenario reaches the page through an environment
variable. A scenario with a mistake ends in ``momentsim: error: ...`` (exit 2) before
any server starts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from .. import api
from .library import DEFAULT_DIR, LIBRARY_ENV, SCENARIO_ENV


def command(host: str, port: int) -> list[str]:
    """The server's command line."""
    return [sys.executable, "-m", "solara", "run", "sim.app.page", "--host", host, "--port", str(port),
            "--production", "--no-open", "--log-level", "warning"]


CLOSED_TAB_KEPT = "2m"  # how long a closed or dropped tab's session is kept for a reconnect


def environment(scenario: str, library: str | Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env[SCENARIO_ENV] = scenario
    env[LIBRARY_ENV] = str(Path(library or DEFAULT_DIR).expanduser().resolve())
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"  # works offline, tells nobody
    env.setdefault("PYTHONUNBUFFERED", "1")
    # A closed tab's session (and its models' memory) is let go this long after the browser went away;
    # Solara keeps it 24 h by default for a reconnect. A reconnect within it finds the page as it was.
    env.setdefault("SOLARA_KERNEL_CULL_TIMEOUT", CLOSED_TAB_KEPT)
    # Solara warns on every page load over plain http (localhost by IP); nothing to act on.
    env["PYTHONWARNINGS"] = ",".join(filter(None, [env.get("PYTHONWARNINGS"),
                                                   "ignore:Cookies with samesite=none:UserWarning"]))
    return env


def main(args) -> int:
    """Serve the app on ``args.host``:``args.port`` with ``args.scenario`` until Ctrl-C; saved what-ifs
    go to ``args.library`` (default: a folder under the user's home)."""
    scenario = args.scenario
    api.load(scenario)  # raises ScenarioError (exit 2) before any server starts
    if Path(scenario).is_file():
        scenario = str(Path(scenario).resolve())  # the server may run from another folder
    host = args.host
    shown = f"[{host}]" if ":" in host else host
    env = environment(scenario, getattr(args, "library", None))
    print(f"momentsim app: http://{shown}:{args.port}  (scenario {args.scenario}; "
          f"library {env[LIBRARY_ENV]}; Ctrl-C to stop)", flush=True)
    server = subprocess.Popen(command(host, args.port), env=env)

    def forward(signum, _frame):  # `kill` of momentsim stops the server too
        server.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        return server.wait()
    except KeyboardInterrupt:
        # Ctrl-C reaches the server too (same process group); give it a moment to close.
        server.send_signal(signal.SIGINT)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        print("momentsim app: stopped", file=sys.stderr)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
