"""The local server's lifecycle and the one-line errors for a server that is down, unknown or refusing us."""

from __future__ import annotations

import json
import stat

import pytest
import requests

from housevoice.errors import HousevoiceError
from housevoice.store import Workspace

pytestmark = pytest.mark.slow


def test_serve_keeps_credentials_private_and_answers_on_localhost(live_server):
    creds = live_server.ws.root / "label-studio" / "credentials.json"
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    token = json.loads(creds.read_text())["token"]
    assert live_server.url.startswith("http://127.0.0.1:")
    me = requests.get(f"{live_server.url}/api/current-user/whoami", headers={"Authorization": f"Token {token}"}, timeout=10)
    assert me.status_code == 200 and me.json()["email"] == "admin@housevoice.local"


def test_serve_again_reports_the_running_server(live_server, cli):
    out = cli("label", "serve", live_server.ws.root, check=True).stdout
    assert f"already running Label Studio at {live_server.url}" in out
    assert "password: in" in out and "housevoice label stop" in out
    assert json.loads((live_server.ws.root / "label-studio" / "credentials.json").read_text())["password"] not in out


def test_stop_then_commands_say_the_server_is_not_started(live_server, cli):
    out = cli("label", "stop", live_server.ws.root, check=True).stdout
    assert "stopped Label Studio" in out
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{live_server.url}/health", timeout=5)
    proc = cli("label", "review", "pull", live_server.ws.root, check=False)
    assert "Label Studio is not running" in proc.stderr and "housevoice label serve" in proc.stderr
    assert "Traceback" not in proc.stderr
    live_server.restart()


def test_bad_token_is_one_clear_line(team_ws, cli, monkeypatch):
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "not-a-token")
    proc = cli("label", "review", "push", team_ws.root, check=False)
    assert proc.returncode == 1
    assert "refused the API token" in proc.stderr and "Traceback" not in proc.stderr


def test_missing_token_names_the_environment_variable(team_ws, cli, monkeypatch):
    monkeypatch.delenv("LABEL_STUDIO_API_KEY")
    proc = cli("label", "review", "push", team_ws.root, check=False)
    assert "LABEL_STUDIO_API_KEY" in proc.stderr and proc.returncode == 1


def test_wrong_url_is_one_clear_line(make_workspace, use_server, live_server, monkeypatch):
    from housevoice.label.review import push_review

    ws = make_workspace()
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    use_server(ws, f"http://127.0.0.1:{port}")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", live_server.token)
    with pytest.raises(HousevoiceError, match="cannot reach Label Studio at http://127.0.0.1"):
        push_review(Workspace.open(ws.root))
