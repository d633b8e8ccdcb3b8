"""Promote page: make a version live (or roll back) with a name and a reason; the audit log below."""

from __future__ import annotations

import polars as pl
import streamlit as st

from housevoice.dashboard import data
from housevoice.dashboard.guard import plain, show_problem, workspace_or_stop
from housevoice.dashboard.promotion import PROMOTABLE_KINDS, check_gates, promote_version, promotion_gates
from housevoice.errors import HousevoiceError

st.title("Promote")
ws = workspace_or_stop()
root = str(ws.root)
versions = data.versions_table(root, data.stamp(ws))
live = versions.filter(pl.col("stage") == "promoted")["version_id"].to_list()
st.metric("Promoted version", live[-1] if live else "none yet")
if "promotion_done" in st.session_state:
    st.success(plain(st.session_state.pop("promotion_done")))

choices = versions.filter(pl.col("kind").is_in(PROMOTABLE_KINDS) & (pl.col("stage") != "promoted"))
if choices.is_empty():
    st.info("No version to promote: train one with `housevoice tune sft`.")
else:
    action = st.radio("Action", ["promote", "rollback"], horizontal=True,
                      help="rollback returns to a version that was live before")
    ids = choices["version_id"].to_list()
    version_id = st.selectbox("Version", ids, index=len(ids) - 1)
    try:
        gates = promotion_gates(ws)
        registry = data.open_registry(ws)
        checks = check_gates(registry, registry.get(version_id), gates) if action == "promote" else []
    except HousevoiceError as exc:
        show_problem(exc)
        checks = []
    if action == "promote" and not checks:
        st.caption("No promotion gates are set ([promote] in housevoice.toml).")
    for check in checks:
        (st.success if check.passed else st.error)(plain(f"{'passed' if check.passed else 'failed'} gate {check.name}: {check.detail}"))
    with st.form("promotion", clear_on_submit=False):
        actor = st.text_input("Your name")
        reason = st.text_area("Reason (kept in the audit log)")
        submitted = st.form_submit_button(f"{action.capitalize()} {version_id}")
    if submitted:
        try:
            result = promote_version(ws, version_id, actor=actor, reason=reason, action=action)
        except HousevoiceError as exc:
            show_problem(exc)
        else:
            before = f" (was {result.previous})" if result.previous else ""
            st.session_state["promotion_done"] = f"{result.action}: {result.version_id} is now live{before}"
            st.rerun()

st.subheader("History")
history = data.promotions(root, data.stamp(ws))
if history.is_empty():
    st.caption("No promotions yet.")
else:
    st.dataframe(history.reverse(), hide_index=True, width="stretch")
