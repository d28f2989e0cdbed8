"""Remake docs/img/app.png, the README's picture of the app.

Starts ``momentsim ui quality_crisis`` on a free port, raises our service recovery to 0.6
(the what-if), runs the year, and takes a 1440x1000 screenshot with Debian's Chromium.

    .venv/bin/python scripts/app_screenshot.py [OUT.png]
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent


def main(out: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    server = subprocess.Popen([sys.executable, "-m", "sim", "ui", "quality_crisis", "--port", str(port)],
                              cwd=ROOT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    sys.exit("the app did not start")
                time.sleep(0.3)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-background-networking", "--disable-component-update"])
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.set_default_timeout(120_000)
            page.goto(url)
            page.wait_for_selector(".momentsim-day[data-day='0']")
            box = page.locator(".lever-brands-ours-service_recovery input")
            box.fill("0.6")
            box.press("Enter")
            page.wait_for_selector(".momentsim-comparing")
            page.click(".momentsim-run")
            page.wait_for_selector(".momentsim-day[data-day='365']")
            page.wait_for_selector(".momentsim-run")
            page.wait_for_timeout(1500)
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
            browser.close()
        print(f"wrote {out}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(15)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "img" / "app.png")
