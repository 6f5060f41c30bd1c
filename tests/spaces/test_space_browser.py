"""The Space in a real browser: spaces/app.py is started on a free port, headless Chromium
clicks the Breakout example and "Label video", and every output must appear (labeled video,
timeline plot, segments table, labels zip, summary). A screenshot is saved for inspection."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

SPACE_DIR = Path(__file__).resolve().parents[2] / "spaces"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"  # gitignored
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium's own connections are refused here.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_SECONDS = 120  # importing torch, transformers and gradio on 2 busy cores
RESULT_MS = 120_000  # labeling, drawing and plotting the 8 s example

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="chromium not installed (`make test` installs it: SYSTEM_PACKAGES in the Makefile)",
    ),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the Space exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(
        f"the Space did not answer at {url} in {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}"
    )


@pytest.fixture(scope="module")
def space_url(tmp_path_factory):
    """spaces/app.py served on a free localhost port, offline, for the whole module."""
    port = free_port()
    log = tmp_path_factory.mktemp("space") / "space.log"
    env = {
        **os.environ,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
    }
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "app.py"], cwd=SPACE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def page(space_url):
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=CHROMIUM_FLAGS,
            headless=True,
            viewport={"width": 1280, "height": 1500},
        )
        page = browser.new_page()
        page.goto(space_url)
        page.wait_for_selector("#label-button", timeout=60_000)
        yield page
        browser.close()


def test_labeling_the_example_shows_every_output(page):
    from playwright.sync_api import expect

    page.locator("#video-examples tbody tr").first.click()  # video, checkpoint, threshold
    page.locator("#input-video video").wait_for(timeout=30_000)
    page.locator("#label-button").click()

    page.locator("#labeled-video video").wait_for(timeout=RESULT_MS)
    src = page.locator("#labeled-video video").get_attribute("src")
    assert src and "breakout_labeled.mp4" in src
    timeline = page.locator("#timeline img")
    timeline.wait_for(timeout=10_000)
    assert "breakout_timeline.png" in timeline.get_attribute("src")
    segments = page.locator("#segments")
    expect(segments).to_contain_text("mean confidence")
    expect(segments).to_contain_text("end_of_video")  # the last frame is always dropped
    expect(segments).to_contain_text("kept")  # the example row's threshold keeps most frames
    download = page.locator("#labels-zip a").first
    assert download.inner_text().endswith(".zip") or "zip" in download.get_attribute("href")
    status = page.locator("#status").inner_text()
    assert "breakout.mp4" in status and "Kept" in status

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "space.png"
    page.wait_for_timeout(500)  # let the video element paint its first frame
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 10_000


def test_an_upload_that_is_not_a_video_gets_a_clear_message(page, tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video")
    page.locator("#input-video input[type=file]").set_input_files(str(fake))
    page.locator("#label-button").click()
    message = page.get_by_text("cannot be read as a video")
    message.wait_for(timeout=60_000)
    assert message.first.is_visible()


def test_the_policy_tab_predicts_a_chunk_for_the_example_frame(page):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Policy on a frame").click()
    page.locator("#frame-examples button.gallery-item").first.click()
    page.locator("#policy-frame img").wait_for(timeout=30_000)
    page.locator("#policy-button").click()
    page.locator("#chunk-plot img").wait_for(timeout=RESULT_MS)
    expect(page.locator("#policy-status")).to_contain_text("predicted 8 steps")
    expect(page.locator("#chunk-table")).to_contain_text("j_left.x")
