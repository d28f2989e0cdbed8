"""``momentsim classroom``: open (or resume) a game in a folder and serve it until Ctrl-C."""

from __future__ import annotations

import ipaddress
import socket
import sys

from pathlib import Path

from .. import api
from .game import STATE_FILE, Game, GameError, new_config, open_game

DEFAULTS = {"teams": 4, "rounds": 6, "days_per_round": 60, "population": 5000}


def is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port(host: str, port: int) -> None:
    """Refuse a port that cannot be listened on, before the game is opened."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise GameError(f"--host {host} --port {port}: cannot listen there: {exc.strerror or exc}") from None


def start_message(game, resumed: bool, host: str, port: int) -> str:
    cfg = game.config
    shown = f"[{host}]" if ":" in host else host
    where = shown if is_local(host) else ("<this computer's address>" if host in ("0.0.0.0", "::") else shown)
    base = f"http://{where}:{port}"
    lines = [f"momentsim classroom: {'resumed' if resumed else 'new'} game in {game.folder} "
             f"(scenario {cfg.scenario_name}, {len(cfg.teams)} teams, {cfg.rounds} rounds of "
             f"{cfg.days_per_round} days, round {game.round} played)",
             f"  teams join at {base}/ with their code:"]
    lines += [f"    {team:<10} {game.codes[team]}" for team in cfg.teams]
    lines.append(f"  teacher: {base}/teacher?key={game.teacher_key}")
    if is_local(host):
        lines.append(f"  listening on {host} only: browsers on this computer. To let students join from "
                     f"the network, start with --host 0.0.0.0")
    else:
        lines.append(f"  listening on {host}: BEYOND THIS COMPUTER, anyone on the network can open the join "
                     f"page (only the codes let them play; keep the teacher key to yourself)")
    lines.append("  Ctrl-C stops the server; the game is saved after every round and resumes with the same --dir")
    return "\n".join(lines)


def main(args) -> int:
    import uvicorn

    from .web import make_app

    given = {k: getattr(args, k) for k in DEFAULTS if getattr(args, k) is not None}
    options = {**DEFAULTS, **given}
    # Everything that can be wrong is checked before anything is written: the saved game or the
    # options of a new one, then the port.
    api.check_writable(args.dir, "--dir")
    resumed = (Path(args.dir) / STATE_FILE).exists()
    saved = Game.load(args.dir) if resumed else None
    config = None if resumed else new_config(
        args.scenario or "baseline", options["teams"], options["rounds"], options["days_per_round"],
        options["population"], args.seed, args.budget)
    check_port(args.host, args.port)
    game, resumed = (saved, True) if resumed else open_game(args.dir, lambda: config)
    if resumed and (given or args.scenario or args.seed is not None or args.budget is not None):
        print(f"momentsim classroom: resuming the game saved in {args.dir}: its own scenario, teams and "
              f"rounds are used, not the options given for a new game", file=sys.stderr)
    print(start_message(game, resumed, args.host, args.port), flush=True)
    uvicorn.run(make_app(game), host=args.host, port=args.port, log_level="warning", access_log=False)
    print("momentsim classroom: stopped", file=sys.stderr)
    return 0
