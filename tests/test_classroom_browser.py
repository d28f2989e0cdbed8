"""The brand game in real headless Chromium: `momentsim classroom` on a free localhost port, two teams
and the teacher in separate browser contexts (separate cookies, as separate computers would have).

A small market (300 consumers, 10-day rounds) keeps it fast; the full size is measured in
benchmarks/bench_classroom.py.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from sim.plots import brand_colour

playwright = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
WAIT_MS = 30_000
SHOTS = Path(os.environ.get("MOMENTSIM_SCREENSHOTS", ROOT / "tests" / "screenshots"))

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`python -m sim classroom ... --dir DIR --port P`, its codes and teacher key read from its start message."""

    def __init__(self, folder: Path, port: int, log: Path):
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        with open(log, "w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "sim", "classroom", "--teams", "3", "--rounds", "3", "--days-per-round",
                 "10", "--population", "300", "--seed", "11", "--dir", str(folder), "--port", str(port)],
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 90
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"momentsim classroom exited with {self.process.returncode}:\n{log.read_text()}")
            try:
                urllib.request.urlopen(self.url + "/", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"momentsim classroom did not answer within 90 s:\n{log.read_text()}")
                time.sleep(0.3)
        text = log.read_text()
        self.codes = dict(re.findall(r"^    (\w+) +([A-Z0-9]{6})$", text, re.M))
        self.key = re.search(r"/teacher\?key=(\S+)", text).group(1)
        self.text = text

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-background-networking", "--disable-component-update"])
        yield chromium
        chromium.close()


def loaded(locator, seconds: float = 20.0) -> bool:
    """Whether the image shows within ``seconds`` (asked again and again: a page may swap its body)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if locator.evaluate("img => img.complete && img.naturalWidth > 0"):
            return True
        time.sleep(0.1)
    return False


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"classroom-{name}.png"), full_page=True)


def join(context, server, team):
    page = context.new_page()
    page.goto(server.url + "/")
    page.fill("#code", server.codes[team].lower())  # typed as a student would, in any case
    page.click("#join")
    page.wait_for_url(f"**/team/{team}")
    return page


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def post(url, data):
    """(status, body) of a form posted by a plain HTTP client (redirects not followed)."""
    request = urllib.request.Request(url, data=urllib.parse.urlencode(data).encode(), method="POST")
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_a_class_plays_a_round_and_a_restart_resumes_it(browser, tmp_path):
    folder, port = tmp_path / "game", free_port()
    server = Server(folder, port, tmp_path / "server.log")
    try:
        assert "listening on 127.0.0.1 only" in server.text
        assert set(server.codes) == {"alpha", "bravo", "charlie"}
        alpha_ctx, bravo_ctx, teacher_ctx, stranger_ctx = (browser.new_context() for _ in range(4))

        # A wrong code is refused, politely, and nothing is opened.
        stranger = stranger_ctx.new_page()
        stranger.goto(server.url + "/")
        stranger.fill("#code", "ZZZZZZ")
        stranger.click("#join")
        assert "not a join code of this game" in stranger.locator("#refusal").inner_text()
        assert stranger.goto(server.url + "/team/alpha").status == 401

        alpha = join(alpha_ctx, server, "alpha")
        bravo = join(bravo_ctx, server, "bravo")
        assert "Not yet submitted for round 1" in alpha.locator("#state").inner_text()

        # Input is validated with a clear message, and nothing is stored.
        alpha.fill("#price", "abc")
        alpha.fill("#ad_spend", "500")
        alpha.click("#submit")
        assert alpha.locator("#error-price").inner_text() == "price: expected a number, found 'abc'"
        assert "expected at most your budget of 50 a day, found 500" in alpha.locator("#error-ad_spend").inner_text()
        alpha.fill("#price", "13")
        alpha.fill("#ad_spend", "25")
        alpha.fill("#quality", "0.75")
        alpha.click("#submit")
        alpha.wait_for_selector("text=Submitted for round 1")

        # A team cannot see or change another team's brand: not by URL, not by posting its form.
        assert alpha.goto(server.url + "/team/bravo").status == 403
        assert "you can see and change only your own brand" in alpha.locator("#refusal").inner_text()
        response = alpha_ctx.request.post(server.url + "/team/bravo/submit", form={
            "price": "2.5", "quality": "0", "ad_spend": "0", "review_prompting": "0", "service_recovery": "0"})
        assert response.status == 403
        assert alpha.goto(server.url + "/team/bravo/chart.svg").status == 403
        saved = json.loads((folder / "game.json").read_text())
        assert set(saved["pending"]) == {"alpha"} and saved["pending"]["alpha"]["price"] == 13.0
        alpha.goto(server.url + "/team/alpha")

        # The teacher's page needs the teacher key; a team's code is not one.
        teacher = teacher_ctx.new_page()
        assert teacher.goto(server.url + "/teacher").status == 403
        assert teacher.goto(server.url + "/teacher?key=wrong").status == 403
        assert teacher.goto(server.url + f"/teacher?key={server.codes['alpha']}").status == 403
        assert alpha_ctx.request.post(server.url + "/teacher/advance").status == 403  # a team cannot advance
        teacher.goto(server.url + f"/teacher?key={server.key}")
        assert teacher.url == server.url + "/teacher"  # the key leaves the address bar
        assert teacher.locator("#submitted").inner_text() == "alpha"
        bravo.click("#submit")  # bravo submits its levers as they are
        playwright.expect(teacher.locator("#submitted")).to_have_text("alpha, bravo", timeout=WAIT_MS)
        teacher.select_option("#kind", "quality_crisis")
        teacher.select_option("#inject-team", "charlie")
        teacher.click("#inject")
        assert "Quality crisis at charlie" in teacher.locator("#events").inner_text()

        # Advance: every screen shows the round's results by itself (the pages poll).
        teacher.click("#advance")
        for page in (alpha, bravo):
            page.wait_for_selector("#results", timeout=WAIT_MS)
            assert page.locator("#round").get_attribute("data-round") == "1"
            page.wait_for_selector("#chart")
            assert loaded(page.locator("#chart"))
        teacher.wait_for_selector("#leaderboard", timeout=WAIT_MS)
        assert "customers told friends good things" in alpha.locator("#stories").inner_text()
        profit = alpha.locator("#profit").inner_text()
        shot(alpha, "team")
        board = teacher.locator("#leaderboard").inner_text()
        assert all(team in board for team in ("alpha", "bravo", "charlie"))
        assert loaded(teacher.locator("#board"))
        assert not teacher.locator("#codes table").is_visible()  # the codes stay off the projector
        shot(teacher, "teacher")
        export = teacher_ctx.request.get(server.url + "/teacher/decisions.csv")
        assert export.status == 200 and export.text().count("\n") == 1 + 3
        assert stranger_ctx.request.get(server.url + "/teacher/decisions.csv").status == 403

        # "What if alpha had not": the same seed, alpha's round-1 decision reverted.
        teacher.select_option("#whatif-team", "alpha")
        teacher.click("#whatif")
        teacher.wait_for_selector("#whatif-result", timeout=WAIT_MS)
        assert "without that decision" in teacher.locator("#whatif-result").inner_text()
        # bravo's what-if is drawn in bravo's own colour, money in the scenario's currency ("units")
        assert teacher_ctx.request.get(server.url + "/teacher/whatif?team=bravo&round=1").status == 200
        svg = teacher_ctx.request.get(server.url + "/teacher/whatif.svg?team=bravo&round=1").text().lower()
        assert brand_colour(1).lower() in svg
        assert "(units)" in svg

        # The debrief: a team's decisions against its outcomes, round by round.
        teacher.goto(server.url + "/teacher/debrief/alpha")
        rows = teacher.locator("#debrief tr")
        assert rows.count() == 2 and rows.nth(1).locator("td").nth(1).inner_text() == "13"
        assert loaded(teacher.locator("img"))
        assert alpha_ctx.request.get(server.url + "/teacher/debrief/alpha").status == 403
        teacher.goto(server.url + "/teacher")

        # A team's screens are bounded: a fifth screen while four are in use is refused politely.
        statuses = [post(server.url + "/join", {"code": server.codes["charlie"]})[0] for _ in range(5)]
        assert statuses[:4] == [303] * 4
        assert statuses[4] == 503
        # Forms larger than any of the game's are refused, not parsed.
        assert post(server.url + "/join", {f"field{i}": "x" for i in range(100)})[0] == 413
        assert post(server.url + "/join", {"code": "x" * 20_000})[0] == 413

        # Restart: the server stops and starts again on the same folder; the class resumes.
        server.stop()
        server = Server(folder, port, tmp_path / "server2.log")
        assert "resumed game" in server.text and "round 1 played" in server.text
        # Sessions do not survive a restart: the open pages find out by themselves and ask to join again.
        alpha.wait_for_selector("#refusal", timeout=WAIT_MS)
        assert "Join with your team's code" in alpha.locator("#refusal").inner_text()
        teacher.wait_for_selector("#refusal", timeout=WAIT_MS)
        assert "needs the teacher key" in teacher.locator("#refusal").inner_text()
        alpha = join(alpha_ctx, server, "alpha")
        assert alpha.locator("#profit").inner_text() == profit
        assert alpha.locator("#price").input_value() == "13"

        # The teacher rejoins with the key and sets the timer: the round advances by itself.
        teacher.goto(server.url + f"/teacher?key={server.key}")
        assert "alpha" in teacher.locator("#leaderboard").inner_text()
        teacher.fill("#seconds", "1")
        teacher.click("#set-timer")
        alpha.wait_for_selector("#round[data-round='2']", timeout=WAIT_MS)
        assert "Round 2 of 3 played" in alpha.locator("#round").inner_text()
    finally:
        server.stop()
