"""Real-browser fixtures: a `streamlit run` server on 127.0.0.1 and Debian's chromium via Playwright.

Each server gets its own data directory and database; it is stopped by its process
group id when the test ends.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO / "artifacts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    data_dir: Path
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)


def start_server(
    tmp_dir: Path, env: dict[str, str] | None = None, timeout: float = 60.0, *, script: Path | None = None,
    cwd: Path | None = None,
) -> Server:
    """Start the app (or another `script`, for baselines) on a free loopback port and wait until it answers
    its health check."""
    port = free_port()
    data_dir = tmp_dir / f"data-{port}"
    data_dir.mkdir(parents=True, exist_ok=True)
    log = tmp_dir / f"streamlit-{port}.log"
    # Each server gets its own database unless the test names one: the AppTest conftest sets DATABASE_URL in
    # this process's environment, and a shared database would show one test's stored data to the next.
    own = {"CAMPAIGN_LENS_DATA_DIR": str(data_dir), "DATABASE_URL": f"sqlite:///{data_dir / 'campaign_lens.db'}"}
    full_env = {**os.environ, **own, **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script or "dashboard.py"), "--server.address=127.0.0.1",
         f"--server.port={port}", "--server.headless=true", "--server.fileWatcherType=none",
         "--browser.gatherUsageStats=false"],
        cwd=cwd or REPO, env=full_env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    server = Server(f"http://127.0.0.1:{port}", process, data_dir, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"streamlit did not become healthy:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def app_server(tmp_path) -> Iterator[Callable[..., Server]]:
    """Factory: `app_server(env={...})` starts a fresh server; all are stopped at the end."""
    servers: list[Server] = []

    def factory(env: dict[str, str] | None = None) -> Server:
        server = start_server(tmp_path, env)
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                  "--no-first-run", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def wait_for_app(page, timeout: float = 30_000) -> None:
    """Wait until the script has finished running (content, not the load event)."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout)
    page.wait_for_function(
        "() => { const app = document.querySelector(\"[data-testid='stApp']\");"
        " return app && app.getAttribute('data-test-script-state') === 'notRunning'; }",
        timeout=timeout,
    )


def exports_input(page):
    """The Data page's file input for exports (the page has another uploader, for currency rates)."""
    return page.get_by_role("region", name="Exports").get_by_test_id("stFileUploaderDropzoneInput")


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


DOCS_SCREENSHOTS = REPO / "docs" / "screenshots"


def docs_screenshot(page, name: str) -> Path:
    """Save a page screenshot as a test artifact; refresh the README's copy only when asked.

    `UPDATE_SCREENSHOTS=1 .venv/bin/python -m pytest tests/e2e` rewrites docs/screenshots/, so an
    ordinary test run never leaves the work tree changed.
    """
    path = screenshot(page, name)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOTS / f"{name}.png")
    return path
