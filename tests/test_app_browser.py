"""The app in a real browser: `momentsim ui` on a free localhost port, driven by Playwright.

Debian's Chromium runs headless with no network beyond localhost, so a page that loads
cleanly here loads offline. Screenshots of each state go to $MOMENTSIM_SCREENSHOTS or
tests/screenshots/ for a person to look at.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

playwright = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(os.environ.get("MOMENTSIM_SCREENSHOTS", ROOT / "tests" / "screenshots"))
WAIT_MS = 30_000  # the longest any single wait may take

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """The server's scenario library folder (``--library``)."""
    return tmp_path_factory.mktemp("library")


@pytest.fixture(scope="module")
def server(tmp_path_factory, library):
    """`python -m sim ui baseline --port P --library DIR`: its address, killed at teardown."""
    port = free_port()
    log = tmp_path_factory.mktemp("ui") / "server.log"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "-m", "sim", "ui", "baseline", "--port", str(port),
                                    "--library", str(library)],
                                   cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"momentsim ui exited with {process.returncode}:\n{log.read_text()}")
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"momentsim ui did not answer within 60 s:\n{log.read_text()}")
                time.sleep(0.3)
        assert f"momentsim app: {url[:-1]}" in log.read_text()
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-background-networking", "--disable-component-update"])
        yield chromium
        chromium.close()


class Problems:
    """Console errors and failed requests seen by a page."""

    def __init__(self, page):
        self.console, self.requests = [], []
        page.on("console", lambda m: self.console.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.console.append(str(e)))
        page.on("requestfailed", lambda r: self.requests.append(f"{r.url} {r.failure}"))
        page.on("response", lambda r: self.requests.append(f"{r.url} {r.status}") if r.status >= 400 else None)


@pytest.fixture
def page(server, browser):
    """A fresh page (its own session) showing day 0 of the baseline."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.problems = Problems(page)
    page.goto(server, timeout=WAIT_MS)
    page.wait_for_selector(".momentsim-day[data-day='0']")
    page.wait_for_selector(".momentsim-chart-sentiment img")
    yield page
    context.close()


def shot(page, name: str) -> None:
    """The whole page, charts below the fold included (it scrolls inside Solara's layout, not the body)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    tallest = page.evaluate("Math.max(...Array.from(document.querySelectorAll('*'), e => e.scrollHeight))")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(tallest), 5000))})
    page.wait_for_timeout(300)  # let the layout settle at the new height
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    page.set_viewport_size(size)


def field(page, key: str):
    return page.locator(f".lever-{key.replace('.', '-')} input")


def set_field(page, key: str, text: str) -> None:
    box = field(page, key)
    box.fill(text)
    box.press("Enter")


def run_to_end(page, days: int) -> None:
    set_field(page, "steps", str(days))
    page.wait_for_selector(f".momentsim-day:has-text('Day 0 / {days}')")
    page.click(".momentsim-run")
    page.wait_for_selector(f".momentsim-day[data-day='{days}']")
    page.wait_for_selector(".momentsim-run")  # back from Pause to Run: the run is over


def test_page_loads_with_no_console_errors_and_no_failed_requests(page):
    assert page.is_visible("text=momentsim — what-if studio")
    assert page.inner_text(".momentsim-day") == "Day 0 / 365"
    assert page.locator(".momentsim-kpi").count() == 2  # one KPI card a brand
    page.wait_for_selector(".momentsim-chart-network img")
    page.wait_for_timeout(500)
    shot(page, "01-loaded")
    assert page.problems.console == []
    assert page.problems.requests == []


def test_pick_a_scenario_and_run_30_days(page):
    page.click(".momentsim-scenario")
    page.get_by_role("option", name="quality_crisis").click()
    page.wait_for_selector("text=About this scenario: Quality crisis")
    page.wait_for_selector(".momentsim-day[data-day='0']")
    before = page.locator(".momentsim-chart-sentiment img").screenshot()
    run_to_end(page, 30)
    assert page.inner_text(".momentsim-day") == "Day 30 / 30"
    after = page.locator(".momentsim-chart-sentiment img").screenshot()
    assert after != before
    page.click("text=About this scenario")
    page.wait_for_selector("text=Things to try")
    shot(page, "02-ran-30-days")
    assert page.problems.console == []


def test_an_invalid_value_shows_the_message_and_keeps_the_old_value(page):
    set_field(page, "brands.ours.quality", "abc")
    message = page.locator(".lever-brands-ours-quality .v-messages")
    message.filter(has_text="expected a number in [0, 1], found 'abc'").wait_for()
    assert "still 0.68" in message.inner_text()  # baseline: ours at 0.68
    set_field(page, "population.size", "-5")
    page.locator(".lever-population-size .v-messages").filter(has_text="expected an integer > 0").wait_for()
    shot(page, "03-invalid-value")
    assert page.locator(".momentsim-comparing").count() == 0  # nothing changed, nothing to compare
    page.click(".momentsim-step")
    page.wait_for_selector(".momentsim-day[data-day='1']")  # the app still works
    assert page.problems.console == []


def test_a_lever_change_shows_both_runs_and_their_difference(page):
    set_field(page, "brands.ours.review_prompting", "0.4")
    page.wait_for_selector(".momentsim-comparing")
    run_to_end(page, 40)
    assert page.locator(".momentsim-kpi", has_text="what-if; change vs scenario").count() == 2
    assert page.locator("text=what-if: timeseries CSV").count() == 1
    assert page.locator("text=scenario: timeseries CSV").count() == 1
    # The headline chart is taller with the difference panel below the two runs.
    box = page.locator(".momentsim-chart-sentiment img").bounding_box()
    assert box["height"] / box["width"] > 0.45
    shot(page, "04-comparison")
    assert page.problems.console == []


def test_exported_csv_matches_a_cli_run_of_the_same_scenario_and_seed(page, tmp_path):
    run_to_end(page, 30)
    with page.expect_download(timeout=WAIT_MS) as download:
        page.click("text=scenario: timeseries CSV")
    exported = tmp_path / "exported.csv"
    download.value.save_as(exported)
    subprocess.run([sys.executable, "-m", "sim", "run", "baseline", "--steps", "30", "--seed", "42",
                    "--out", str(tmp_path / "cli")], cwd=ROOT, check=True, capture_output=True, timeout=120)
    cli = (tmp_path / "cli" / "timeseries.csv").read_bytes()
    assert exported.read_bytes() == cli
    assert len(cli.splitlines()) == 32  # header and days 0 to 30
    with page.expect_download(timeout=WAIT_MS) as download:
        page.click("text=charts: PNG")
    assert Path(download.value.path()).read_bytes().startswith(b"\x89PNG")
    shot(page, "05-exported")
    assert page.problems.console == []



def drop_file(page, name: str, text: str) -> None:
    """Drop a file on Solara's drop zone as a person's drag from the desktop does.

    Chromium gives no file-system entry to a scripted DataTransfer, so the event carries one
    made by hand: a FileSystemFileEntry-like object holding a real File, which is all Solara's
    drop handler reads (``webkitGetAsEntry().file(...)``); the bytes then travel the app's real
    upload channel to the server.
    """
    page.eval_on_selector(".solara-file-drop", """(zone, [name, text]) => {
        const file = new File([text], name, {type: "application/toml"});
        const entry = {isFile: true, name, file: (resolve) => resolve(file)};
        const drop = new Event("drop", {bubbles: true, cancelable: true});
        Object.defineProperty(drop, "dataTransfer", {value: {items: [{webkitGetAsEntry: () => entry}]}});
        zone.dispatchEvent(drop);
    }""", [name, text])


def test_a_dropped_scenario_file_is_loaded_and_a_bad_one_is_refused(page):
    good = ('steps = 20\nseed = 5\n[about]\ntitle = "Dropped: three brands"\nsummary = "From a file."\n'
            '[population]\nsize = 300\n[market]\nbrands = ["ours", "theirs", "newcomer"]\n'
            '[brands.newcomer]\nquality = 0.8\n')
    drop_file(page, "mine.toml", good)
    page.wait_for_selector("text=About this scenario: Dropped: three brands")
    page.locator(".momentsim-kpi").nth(2).wait_for()  # one card a brand, the newcomer too
    assert page.locator(".momentsim-kpi").count() == 3
    assert page.inner_text(".momentsim-day") == "Day 0 / 20"
    shot(page, "06-dropped-file")
    drop_file(page, "broken.toml", good.replace("quality = 0.8", "quality = 8"))
    error = page.locator(".momentsim-load-error")
    error.filter(has_text="broken.toml").filter(has_text="brands.newcomer.quality").wait_for()
    assert "found 8" in error.inner_text()
    assert page.is_visible("text=About this scenario: Dropped: three brands")  # the good one stays
    shot(page, "07-dropped-bad-file")
    assert page.problems.console == []


def day_shown(page) -> int:
    return int(page.get_attribute(".momentsim-day", "data-day"))


def test_run_pause_step_and_reset_at_a_chosen_speed(page):
    page.locator(".momentsim-speed").click()
    page.get_by_role("option", name="5 days/s").click()
    page.click(".momentsim-run")
    page.wait_for_selector(".momentsim-pause")
    page.wait_for_function("Number(document.querySelector('.momentsim-day').dataset.day) >= 3",
                           timeout=WAIT_MS)
    page.click(".momentsim-pause")
    page.wait_for_selector(".momentsim-run")
    page.wait_for_timeout(2500)  # the pause redraws the day the run stopped on
    paused = day_shown(page)
    # 5 days a second from day 0: well short of the year (not max speed), and it stays put.
    assert 3 <= paused < 100
    page.wait_for_timeout(1500)
    assert day_shown(page) == paused
    page.click(".momentsim-step")
    page.wait_for_selector(f".momentsim-day[data-day='{paused + 1}']")
    page.click(".momentsim-reset")
    page.wait_for_selector(".momentsim-day[data-day='0']")
    assert page.problems.console == []
