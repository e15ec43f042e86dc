"""The interactive view in a real browser: `solara run` as a server, Debian's Chromium driven
by Playwright (the system browser; nothing is downloaded).

The page loads, the Step button advances the day, and a screenshot of the page is not blank;
Run to end shows the last day within :data:`RUN_TO_END_BOUND` seconds.
Needs /usr/bin/chromium (`apt-get install -y chromium`; .ci/run installs it) and solara's
front-end packages in its proxy cache (`.venv/bin/python -m affiliate_sim.viz.app --fetch-assets`;
.ci/run does it): without them the test fails and says so.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "src" / "affiliate_sim" / "viz" / "app.py"
SERVER_START_TIMEOUT = 60.0
DAY = re.compile(r"Day (\d+) of (\d+)")
#: Seconds from the click on "Run to end" to the last day shown (the 450 days of the
#: default case step in about 2 s, and the page is drawn once).
RUN_TO_END_BOUND = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            pytest.fail(f"solara exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"solara did not listen on port {port} within {timeout:.0f} s:\n"
                f"{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    """End the server and anything it started (its own process group)."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture
def server(tmp_path):
    """`solara run` on a free localhost port; yields its URL; stopped afterwards."""
    solara = Path(sys.executable).parent / "solara"
    port = free_port()
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    log = tmp_path / "solara.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(solara), "run", str(APP), "--host", "127.0.0.1", "--port", str(port),
             "--production", "--no-open"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
    try:
        from affiliate_sim.viz import app  # imported while the server starts

        missing = app.missing_frontend_packages()
        if missing:
            pytest.fail(f"solara's front-end packages {missing} are not in "
                        f"{app.asset_cache()}: the page would stay blank offline. Run "
                        "`.venv/bin/python -m affiliate_sim.viz.app --fetch-assets` "
                        "(.ci/run does).")
        wait_for_port(port, proc, log, SERVER_START_TIMEOUT)
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop(proc)


def need_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium "
                    "(`apt-get install -y chromium`; .ci/run does it)")


@contextlib.contextmanager
def view_page(server):
    """The view's page in headless Chromium (closed afterwards)."""
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1100})
            page.goto(server, timeout=30_000)
            yield page
        finally:
            browser.close()


def test_page_loads_steps_and_shows_the_view(server, tmp_path):
    from PIL import Image

    with view_page(server) as page:
        label = page.get_by_text(DAY)
        label.wait_for(timeout=30_000)
        day, days = map(int, DAY.search(label.inner_text()).groups())
        assert (day, days) == (0, 450)

        page.get_by_role("button", name="Step").click()
        page.get_by_text(f"Day {day + 1} of {days}").wait_for(timeout=30_000)
        # the event log shows the day's events (the scripted pledge of day 0)
        page.get_by_text("day 0: pledge", exact=False).wait_for(timeout=30_000)
        # the two figures (map, time series) are loaded images
        page.wait_for_function(
            "() => [...document.images].filter(i => i.naturalWidth > 300).length >= 2",
            timeout=30_000)
        assert page.get_by_text("Event log").count() == 1
        shot = tmp_path / "view.png"
        page.screenshot(path=str(shot), full_page=True)

    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels.shape[0] >= 1000 and pixels.shape[1] == 1600
    colours = np.unique(pixels.reshape(-1, 3), axis=0)
    assert len(colours) > 50, f"screenshot {shot} looks blank ({len(colours)} colours)"
    assert pixels.std() > 10, f"screenshot {shot} looks blank"


def test_run_to_end_shows_the_last_day_in_time(server):
    with view_page(server) as page:
        page.get_by_text("Day 0 of 450").wait_for(timeout=30_000)
        button = page.get_by_role("button", name="Run to end")
        start = time.monotonic()
        button.click()
        page.get_by_text("Day 450 of 450 (2015-12-29)").wait_for(
            timeout=RUN_TO_END_BOUND * 1000)
        elapsed = time.monotonic() - start
        assert elapsed < RUN_TO_END_BOUND
        # the figures show the last day too, and nothing is left to run
        page.get_by_text(re.compile(r"ran 450 days in")).wait_for(timeout=10_000)
        assert button.is_disabled()
        assert page.get_by_role("button", name="Step").is_disabled()
        print(f"run to end: last day shown {elapsed:.1f} s after the click")
