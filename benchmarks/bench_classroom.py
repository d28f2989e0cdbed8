"""Load check of the brand game: 12 teams and the teacher on one machine, 5,000 consumers, 90-day rounds.

Starts `momentsim classroom` as a subprocess on a free localhost port. Thirteen plain HTTP clients
(threads, each with its own cookies) do what the screens do: each team joins with its code, submits
its levers, and polls its status at the pages' interval (0.7 s); when the round has advanced it
fetches its page and its chart, as the browser does. The teacher posts "advance" and fetches the
leaderboard page and chart. Per round, the time from "advance" until the last of the 13 screens has
its page and chart is printed (goal: under 5 s).

    .venv/bin/python benchmarks/bench_classroom.py [--rounds 4] [--teams 12] [--population 5000] [--days 90]
    .venv/bin/python benchmarks/bench_classroom.py --browsers   # the screens are real Chromium pages

With ``--browsers`` the 13 screens are pages of headless Chromium (one browser context each, as
separate computers): their own JavaScript polls, and a screen counts when its page shows the
round and its chart image has loaded.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLL = 0.7  # seconds between a page's status polls (sim/classroom/web.py SCRIPT)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> bytes:
        with self.opener.open(self.base + path, timeout=60) as r:
            return r.read()

    def post(self, path: str, data: dict) -> bytes:
        body = urllib.parse.urlencode(data).encode()
        with self.opener.open(urllib.request.Request(self.base + path, data=body, method="POST"), timeout=60) as r:
            return r.read()


def screen(client: Client, status: str, pages: list[str], target: int, done: dict, name: str) -> None:
    """Poll like the page does until round ``target`` is shown, then fetch what the browser fetches."""
    while True:
        state = json.loads(client.get(status))
        if state["round"] >= target and not state["running"]:
            break
        time.sleep(POLL)
    for path in pages:
        data = client.get(path.format(round=target))
        assert data, path
    done[name] = time.perf_counter()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--teams", type=int, default=12)
    ap.add_argument("--population", type=int, default=5000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--browsers", action="store_true", help="real Chromium pages instead of HTTP clients")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-classroom-"))
    port = free_port()
    log = folder / "server.log"
    command = [sys.executable, "-m", "sim", "classroom", "--teams", str(args.teams), "--rounds", str(args.rounds),
               "--days-per-round", str(args.days), "--population", str(args.population), "--dir",
               str(folder / "game"), "--port", str(port)]
    started = time.perf_counter()
    with open(log, "w") as out:
        server = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit(log.read_text())
                time.sleep(0.2)
        print(f"server up in {time.perf_counter() - started:.1f} s "
              f"({args.teams} teams, {args.population:,} consumers, {args.days}-day rounds)")
        text = log.read_text()
        codes = dict(re.findall(r"^    (\w+) +([A-Z0-9]{6})$", text, re.M))
        key = re.search(r"/teacher\?key=(\S+)", text).group(1)
        teams = {}
        for team, code in codes.items():
            client = Client(base)
            client.post("/join", {"code": code})
            teams[team] = client
        teacher = Client(base)
        teacher.get(f"/teacher?key={key}")
        if args.browsers:
            return browsers(base, codes, key, args.rounds)
        rng = random.Random(1)
        times = []
        for k in range(1, args.rounds + 1):
            for team, client in teams.items():
                client.post(f"/team/{team}/submit", {
                    "price": f"{rng.uniform(8, 13):.2f}", "quality": f"{rng.uniform(0.55, 0.8):.2f}",
                    "ad_spend": f"{rng.uniform(0, 50):.1f}", "review_prompting": f"{rng.uniform(0, 0.5):.2f}",
                    "service_recovery": f"{rng.uniform(0.3, 0.9):.2f}"})
            done: dict[str, float] = {}
            threads = [threading.Thread(target=screen, args=(
                client, f"/team/{team}/status", [f"/team/{team}", f"/team/{team}/chart.svg?round={{round}}"], k,
                done, team)) for team, client in teams.items()]
            threads.append(threading.Thread(target=screen, args=(
                teacher, "/teacher/status", ["/teacher", "/teacher/board.svg?round={round}"], k, done, "teacher")))
            t0 = time.perf_counter()
            teacher.post("/teacher/advance", {})
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            last = max(done.values()) - t0
            first = min(done.values()) - t0
            times.append(last)
            print(f"round {k}: every screen ({len(done)}) had the results {last:.2f} s after advance "
                  f"(first {first:.2f} s)")
        print(f"worst round: {max(times):.2f} s (goal < 5 s); load average {os.getloadavg()[0]:.2f}")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def browsers(base: str, codes: dict[str, str], key: str, rounds: int) -> None:
    """Each screen a Chromium page in its own context; the teacher clicks Advance."""
    from playwright.sync_api import sync_playwright

    rng = random.Random(1)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-background-networking", "--disable-component-update"])
        pages = {}
        for team, code in codes.items():
            page = chromium.new_context().new_page()
            page.goto(base + "/")
            page.fill("#code", code)
            page.click("#join")
            page.wait_for_url(f"**/team/{team}")
            pages[team] = page
        teacher = chromium.new_context().new_page()
        teacher.goto(f"{base}/teacher?key={key}")
        probe = Client(base)  # polls fast, to tell the server's time from the screens'
        probe.post("/join", {"code": codes["alpha"]})
        times = []
        for k in range(1, rounds + 1):
            for page in pages.values():
                page.fill("#price", f"{rng.uniform(8, 13):.2f}")
                page.fill("#ad_spend", f"{rng.uniform(0, 50):.1f}")
                page.click("#submit")
                page.wait_for_selector("#state.ok")
            t0 = time.perf_counter()
            teacher.click("#advance")
            clicked = time.perf_counter() - t0
            while json.loads(probe.get("/team/alpha/status"))["round"] < k:
                time.sleep(0.05)
            ready = time.perf_counter() - t0
            done = []
            for page in [*pages.values(), teacher]:
                page.wait_for_selector(f"#round[data-round='{k}']", timeout=60_000)
                image = page.locator("#chart, #board").first
                while not image.evaluate("img => img.complete && img.naturalWidth > 0"):  # asked again: a page
                    time.sleep(0.02)                                                        # may swap its body
                done.append(time.perf_counter() - t0)
            times.append(max(done))
            print(f"round {k}: every screen ({len(done)} Chromium pages) had the results {max(done):.2f} s "
                  f"after advance (first {min(done):.2f} s; the click returned after {clicked:.2f} s, the server "
                  f"had the round after {ready:.2f} s)")
        print(f"worst round: {max(times):.2f} s (goal < 5 s); load average {os.getloadavg()[0]:.2f}")
        chromium.close()


if __name__ == "__main__":
    main()
