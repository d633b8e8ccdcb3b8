"""`housevoice dashboard` and `housevoice promote`: thin wrappers over the app and `promote_version`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

console = Console(highlight=False, markup=False, soft_wrap=True)

WorkspaceArg = Annotated[Path, typer.Argument(help="the workspace folder (made by `housevoice init`)")]
APP = Path(__file__).with_name("app.py")


def dashboard(
    workspace: WorkspaceArg,
    port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 8501,
) -> None:
    """Open the dashboard: compare model versions side by side and promote one.

    Example: housevoice dashboard ws --port 8501
    """
    from housevoice.store import Workspace

    ws = Workspace.open(workspace)
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, **{"HOUSEVOICE_WORKSPACE": str(ws.root.resolve()),
                              "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"})
    command = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.address", "127.0.0.1",
               "--server.port", str(port), "--server.headless", "true", "--global.developmentMode", "false",
               "--client.toolbarMode", "viewer"]  # no Deploy button: the app serves private data
    console.print(f"dashboard for {ws.root} at {url}  (Ctrl+C stops it)")
    sys.stdout.flush()  # the URL must reach a pipe before the server blocks
    try:
        code = subprocess.call(command, env=env, stdout=subprocess.DEVNULL)
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


def promote(
    workspace: WorkspaceArg,
    version: Annotated[str, typer.Argument(help="the version to make live")],
    actor: Annotated[Optional[str], typer.Option(help="who promotes (kept in the audit log)")] = None,
    reason: Annotated[Optional[str], typer.Option(help="why (kept in the audit log)")] = None,
    rollback: Annotated[bool, typer.Option("--rollback", help="return to a version that was live before (not gated)")] = False,
) -> None:
    """Promote a version through the promotion gates of housevoice.toml, or roll back; appended to the promotions audit log.

    Example: housevoice promote ws sft-20250101-120000-ab12 --actor "Dana Lee" --reason "best voice, no benchmark drop"
    """
    from housevoice.dashboard.promotion import promote_version

    result = promote_version(workspace, version, actor=actor or "", reason=reason or "",
                             action="rollback" if rollback else "promote")
    for check in result.checks:
        console.print(f"gate {check.name} passed: {check.detail}")
    before = f"; {result.previous} was live before and is now archived" if result.previous else ""
    console.print(f"{result.action}: {result.version_id} is now the promoted version{before}")
    console.print(f"logged: {result.actor}: {result.reason}")
    console.print(f"next: housevoice dashboard {workspace}")


def register(app: typer.Typer) -> None:
    app.command("dashboard")(dashboard)
    app.command("promote")(promote)
