"""The Streamlit entry point: one navigation over the Versions, Compare, Data and Promote pages."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

HERE = Path(__file__).parent

st.set_page_config(page_title="housevoice", layout="wide")
navigation = st.navigation([
    st.Page(HERE / "views" / "versions.py", title="Versions", url_path="versions", default=True),
    st.Page(HERE / "views" / "compare.py", title="Compare", url_path="compare"),
    st.Page(HERE / "views" / "training_data.py", title="Data", url_path="data"),
    st.Page(HERE / "views" / "promote.py", title="Promote", url_path="promote"),
])
navigation.run()
