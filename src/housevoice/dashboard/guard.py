"""What every page does first: open the workspace and its registry, or say plainly why it cannot."""

from __future__ import annotations

import re

import streamlit as st

from housevoice.dashboard.data import open_registry, open_workspace
from housevoice.errors import HousevoiceError
from housevoice.store import Workspace

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=])")


def show_problem(exc: HousevoiceError) -> None:
    st.error(plain(exc.message))
    if exc.hint:
        st.info(plain(exc.hint))


def workspace_or_stop(*, need_registry: bool = True) -> Workspace:
    """The workspace the app serves; stops the page with a readable message when it is missing or empty."""
    try:
        ws = open_workspace()
        if need_registry:
            open_registry(ws)
    except HousevoiceError as exc:  # no workspace, a damaged one, or nothing trained yet (NoRegistry)
        show_problem(exc)
        st.stop()
    return ws


def plain(text: object) -> str:
    """Text for st.caption/markdown with every Markdown character escaped, so data never turns into links or markup."""
    return _MARKDOWN.sub(r"\\\1", str(text))
