"""Shared fixtures: workspaces, the shared real-data folder, and running the real command."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from housevoice.store import Workspace

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real-data folder {SHARED_DATA} is not beside the repository")
    return SHARED_DATA


@pytest.fixture
def workspace(tmp_path):
    from housevoice.store import Workspace

    return Workspace.create(tmp_path / "ws")


def run_cli(*args: str | os.PathLike, check: bool | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `housevoice ARGS…` as a user would, in a subprocess; returns the completed process."""
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", HF_HUB_OFFLINE="1")
    proc = subprocess.run(
        [sys.executable, "-m", "housevoice", *map(str, args)],
        capture_output=True, text=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL,
    )
    if check is True and proc.returncode != 0:
        raise AssertionError(f"housevoice {' '.join(map(str, args))} failed:\n{proc.stdout}\n{proc.stderr}")
    if check is False and proc.returncode == 0:
        raise AssertionError(f"housevoice {' '.join(map(str, args))} should have failed:\n{proc.stdout}")
    return proc


def tree_digest(root: Path) -> dict[str, str]:
    """Content hash of every file under root (except the lock file): proves nothing changed."""
    import hashlib

    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name != ".housevoice.lock":
            out[p.relative_to(root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def digest():
    return tree_digest


# -- one real Label Studio per test session (the label tests and the kill test use it) --------
@dataclass
class LabelServer:
    """The session's server: its own workspace, URL and admin token."""

    ws: Workspace
    url: str
    token: str
    port: int

    def restart(self) -> None:
        from housevoice.label.server import serve

        serve(self.ws, port=self.port)


@pytest.fixture(scope="session")
def label_server(tmp_path_factory):
    from housevoice.label.server import serve, stop
    from housevoice.store import Workspace

    ws = Workspace.create(tmp_path_factory.mktemp("served") / "ws", name="served")
    server = serve(ws)  # the first run in a fresh CI machine installs Label Studio's own environment too
    yield LabelServer(ws, server.url, server.token, int(server.url.rsplit(":", 1)[1]))
    stop(ws)
