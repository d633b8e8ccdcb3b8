"""The dashboard in a real browser: started by `housevoice dashboard`, the Compare page shows both versions' scores."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from housevoice.registry import Registry
from housevoice.store import Workspace

pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_compare_page_in_chromium_shows_both_versions_scores(dashboard_ws, built_workspace, tmp_path):
    if not CHROMIUM.exists():
        if os.environ.get("CI"):  # the test command installs it; in CI a missing browser is a failure
            pytest.fail("Debian's chromium is not installed: ./scripts/test installs it with apt-get")
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "housevoice", "dashboard", str(dashboard_ws), "--port", str(port)],
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        first_line = server.stdout.readline()
        assert f"http://127.0.0.1:{port}" in first_line
        deadline = time.time() + 60
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.3)
        scores = {r["version_id"]: r["value"] for r in Registry(Workspace.open(dashboard_ws)).eval_results()
                  if r["suite"] == "voice" and r["metric"] == "mean"}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/compare", timeout=60_000)
            table = page.locator("[data-testid='stTable']").first
            table.wait_for(timeout=60_000)
            text = table.inner_text()
            page.screenshot(path=str(tmp_path / "compare.png"), full_page=True)
            browser.close()
        for version in (built_workspace["first"], built_workspace["second"]):
            assert version in text
            assert f"{scores[version]:.4f}"[:4] in text
        assert (tmp_path / "compare.png").stat().st_size > 10_000
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
