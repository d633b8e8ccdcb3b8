"""Versions page: every model version with its scores, and the voice-versus-benchmark trade-off."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from housevoice.dashboard import data
from housevoice.dashboard.guard import workspace_or_stop

st.title("Versions")
ws = workspace_or_stop()
root = str(ws.root)
versions = data.versions_table(root, data.stamp(ws))
st.caption(f"workspace {ws.root} · {len(versions)} versions")
if versions.is_empty():
    st.info(f"No model versions yet. Train one with: housevoice tune sft {ws.root} --base MODEL")
    st.stop()

live = versions.filter(pl.col("stage") == "promoted")["version_id"].to_list()
st.metric("Promoted version", live[-1] if live else "none yet")
st.dataframe(
    versions.rename({"parent_version": "parent", "created_at": "created", "records": "data: records",
                     "pairs": "data: pairs", "voice_fidelity": "voice fidelity",
                     "pairwise_accuracy": "reward accuracy"}),
    hide_index=True, width="stretch",
)

st.subheader("Voice fidelity vs benchmark score")
scored = versions.filter(pl.col("voice_fidelity").is_not_null() & pl.col("benchmark").is_not_null())
if scored.is_empty():
    missing_voice = versions.filter(pl.col("voice_fidelity").is_null() & (pl.col("kind") != "reward")).height
    st.info("No version has both a voice fidelity and a benchmark score yet "
            f"({missing_voice} without a voice score): run `housevoice evaluate voice` and `evaluate bench`.")
else:
    points = scored.with_columns(
        pl.when(pl.col("kind") == "base").then(pl.lit("base model")).otherwise(pl.lit("tuned")).alias("marker")
    ).to_pandas()
    base = alt.Chart(points).encode(
        x=alt.X("benchmark:Q", title="benchmark score (mean over tasks)", scale=alt.Scale(zero=False)),
        y=alt.Y("voice_fidelity:Q", title="voice fidelity", scale=alt.Scale(zero=False)),
        tooltip=["version_id", "kind", "stage", "voice_fidelity", "benchmark"],
    )
    dots = base.mark_point(filled=True, size=120).encode(
        shape=alt.Shape("marker:N", scale=alt.Scale(domain=["base model", "tuned"], range=["diamond", "circle"])),
        color="kind:N",
    )
    labels = base.mark_text(align="left", dx=8).encode(text="version_id:N")
    st.altair_chart(dots + labels, width="stretch")
    st.caption("Up is more like your voice, right is better on general benchmarks; diamonds are base models.")
