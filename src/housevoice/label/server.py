"""A local Label Studio for one workspace: its own virtual environment, start, stop, credentials."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import venv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from housevoice.errors import HousevoiceError
from housevoice.store import Workspace, write_atomic

LABEL_STUDIO_VERSION = "1.23.2"
VENV_ENV = "HOUSEVOICE_LABEL_STUDIO_VENV"
ADMIN_EMAIL = "admin@housevoice.local"


@dataclass
class LocalServer:
    """A running local Label Studio: where it listens and how to log in."""

    url: str
    pid: int
    username: str
    password: str
    token: str
    data_dir: Path
    started: bool  # False when it was already running


def label_studio_venv() -> Path:
    """Where Label Studio's own environment lives (it pins Django, pyarrow and numpy below ours)."""
    if os.environ.get(VENV_ENV):
        return Path(os.environ[VENV_ENV]).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "housevoice" / "label-studio-venv"


def _installed(root: Path) -> bool:
    return (root / "bin" / "label-studio").is_file() and any(
        root.glob(f"lib/python*/site-packages/label_studio-{LABEL_STUDIO_VERSION}.dist-info")
    )


def ensure_label_studio(say: Callable[[str], None] = print) -> Path:
    """Create the Label Studio environment on first use (about 2 minutes, ~1 GB); return its path."""
    root = label_studio_venv()
    if _installed(root):
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root) + ".lock", timeout=900):
        if _installed(root):
            return root  # another command installed it while we waited
        say(f"installing Label Studio {LABEL_STUDIO_VERSION} into its own environment {root} "
            "(first use only: about 2 minutes, ~1 GB)…")
        if not (root / "bin" / "python").is_file():
            venv.EnvBuilder(with_pip=True).create(root)
        cmd = [str(root / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
               "--progress-bar", "off", f"label-studio=={LABEL_STUDIO_VERSION}"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise HousevoiceError(f"installing Label Studio into {root} failed: {last}",
                                  hint=f"retry, or point {VENV_ENV} at a venv with label-studio=={LABEL_STUDIO_VERSION}")
        say("Label Studio installed")
    return root


def data_dir(ws: Workspace) -> Path:
    return ws.root / "label-studio"


def _credentials(ws: Workspace) -> dict:
    """The admin login, made once with a random password and token; the file is readable by its owner only."""
    path = data_dir(ws) / "credentials.json"
    if path.is_file():
        return json.loads(path.read_text())
    creds = {"username": ADMIN_EMAIL, "password": secrets.token_urlsafe(18), "token": secrets.token_hex(20)}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(creds, indent=2).encode())
    os.chmod(path, 0o600)
    return creds


def _state_path(ws: Workspace) -> Path:
    return data_dir(ws) / "server.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of this process counts as gone
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return True


def running_server(ws: Workspace) -> dict | None:
    """The state of this workspace's server ({url, pid, port}) when its process is alive."""
    path = _state_path(ws)
    if not path.is_file():
        return None
    state = json.loads(path.read_text())
    return state if _alive(int(state["pid"])) else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    import requests

    try:
        return requests.get(f"{url}/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def serve(workspace: Workspace | Path | str, *, port: int | None = None, timeout: float = 300,
          say: Callable[[str], None] = print) -> LocalServer:
    """Start this workspace's Label Studio on 127.0.0.1 (or report the one already running)."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    creds = _credentials(ws)
    state = running_server(ws)
    if state:
        return LocalServer(state["url"], state["pid"], creds["username"], creds["password"], creds["token"],
                           data_dir(ws), started=False)
    root = ensure_label_studio(say)
    port = port or _free_port()
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            raise HousevoiceError(f"port {port} on 127.0.0.1 is already in use", hint="pick another with --port, or leave it out")
    url = f"http://127.0.0.1:{port}"
    first = not (data_dir(ws) / "label_studio.sqlite3").is_file()
    env = dict(
        os.environ,
        LABEL_STUDIO_BASE_DATA_DIR=str(data_dir(ws)),
        LABEL_STUDIO_USERNAME=creds["username"],
        LABEL_STUDIO_PASSWORD=creds["password"],
        LABEL_STUDIO_USER_TOKEN=creds["token"],
        LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN="true",
        LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK="true",
        COLLECT_ANALYTICS="false",
        LATEST_VERSION_CHECK="false",
        SENTRY_DSN="",
        FRONTEND_SENTRY_DSN="",
        VIRTUAL_ENV=str(root),
        PATH=f"{root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    env.pop("PYTHONPATH", None)
    log_path = data_dir(ws) / "server.log"
    if first:
        say("first start: Label Studio sets up its database (about a minute)…")
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [str(root / "bin" / "label-studio"), "start", "--no-browser", "--internal-host", "127.0.0.1",
             "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=data_dir(ws), start_new_session=True,  # its own process group: `stop` ends it and its children
        )
    write_atomic(_state_path(ws), json.dumps({"url": url, "pid": proc.pid, "port": port}).encode())
    deadline = time.monotonic() + timeout
    while not _healthy(url):
        if proc.poll() is not None:
            _state_path(ws).unlink(missing_ok=True)
            tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["(no output)"]
            raise HousevoiceError(f"Label Studio stopped while starting: {tail[0]}", hint=f"see {log_path}")
        if time.monotonic() > deadline:
            _stop_pid(proc.pid)
            _state_path(ws).unlink(missing_ok=True)
            raise HousevoiceError(f"Label Studio did not answer at {url} within {timeout:.0f} s", hint=f"see {log_path}")
        time.sleep(0.5)
    return LocalServer(url, proc.pid, creds["username"], creds["password"], creds["token"], data_dir(ws), started=True)


def _stop_pid(pid: int, grace: float = 15) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
        try:
            os.waitpid(pid, os.WNOHANG)  # reap it when this process started it
        except ChildProcessError:
            pass
    if _alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def stop(workspace: Workspace | Path | str) -> bool:
    """Stop this workspace's Label Studio; False when none was running."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    state = running_server(ws)
    _state_path(ws).unlink(missing_ok=True)
    if not state:
        return False
    _stop_pid(int(state["pid"]))
    return True


def local_login(ws: Workspace) -> dict:
    """Credentials of this workspace's local server (for the client; never printed with the token)."""
    return _credentials(ws)

