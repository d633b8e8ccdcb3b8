"""Data page: what a version learned from, which versions used a record, curation and review progress."""

from __future__ import annotations

import polars as pl
import streamlit as st

from housevoice.dashboard import data
from housevoice.dashboard.guard import plain, show_problem, workspace_or_stop
from housevoice.errors import HousevoiceError

st.title("Data")
ws = workspace_or_stop()
root = str(ws.root)
versions = data.versions_table(root, data.stamp(ws))
records = data.table(root, "records", data.stamp(ws, "records"))
curated = data.table(root, "curated", data.stamp(ws, "curated"))

# ---- lineage of one version ---------------------------------------------------------------
st.subheader("What a version learned from")
trained = versions.filter(pl.col("records") > 0)["version_id"].to_list()
if not trained:
    st.info("No version has learned from records yet.")
else:
    version_id = st.selectbox("Version", trained, index=len(trained) - 1)
    learned = pl.DataFrame({"record_id": data.lineage_ids(root, version_id, data.stamp(ws))}, schema={"record_id": pl.String})
    rows = learned.join(records, on="record_id", how="left").join(
        curated.select("record_id", "flags"), on="record_id", how="left")
    st.caption(f"{rows.height} records")
    by = st.columns(4)
    counts = {
        "source": rows.group_by("source").len(),
        "author": rows.group_by(pl.col("author").fill_null("(none)")).len(),
        "year": rows.group_by(pl.col("published_at").dt.year().cast(pl.String).fill_null("(undated)").alias("year")).len(),
        "flag": rows.select(pl.col("flags").list.eval(pl.element().struct.field("name")).alias("flag"))
                    .explode("flag").drop_nulls().group_by("flag").len(),
    }
    for column, (name, frame) in zip(by, counts.items()):
        with column:
            st.caption(f"by {name}")
            st.dataframe(frame.rename({"len": "records"}).sort("records", descending=True), hide_index=True)

# ---- which versions used a record ---------------------------------------------------------
st.subheader("Find a record")
needle = st.text_input("Record id, source key or words in the title")
if needle:
    text = needle.strip().lower()
    found = records.filter(
        (pl.col("record_id") == needle.strip()) | (pl.col("source_key") == needle.strip())
        | pl.col("title").str.to_lowercase().str.contains(text, literal=True).fill_null(False)
    ).head(20)
    if found.is_empty():
        st.info("No record matches.")
    for record_id, source, title, body in found.select("record_id", "source", "title", "text").iter_rows():
        with st.container(border=True):
            st.text(f"{title or '(untitled)'}\n{record_id} · {source}")
            users = data.versions_using(root, record_id, data.stamp(ws))
            st.caption(plain("used by: " + (", ".join(users) if users else "no version")))
            with st.expander("text"):
                st.text(body[:4000])

# ---- curation and review ------------------------------------------------------------------
st.subheader("Curation")
if curated.is_empty():
    st.info(f"Not curated yet: housevoice curate {ws.root}")
else:
    left, right = st.columns(2)
    with left:
        st.caption("routes")
        st.dataframe(curated.group_by("route").len().rename({"len": "records"}).sort("route"), hide_index=True)
    with right:
        st.caption("flags")
        flags = curated.select(pl.col("flags").list.eval(pl.element().struct.field("name")).alias("flag")).explode("flag")
        st.dataframe(flags.drop_nulls().group_by("flag").len().rename({"len": "records"}).sort("records", descending=True),
                     hide_index=True)

st.subheader("Review progress")
try:
    from housevoice.label.decisions import decision_summary

    summary = decision_summary(ws)
    decided, pending, training = st.columns(3)
    decided.metric("Decided by people", summary.by_origin.get("people", 0))
    pending.metric("Waiting for review", summary.awaiting_review)
    training.metric("Records to train on", summary.training)
except HousevoiceError as exc:
    show_problem(exc)
try:
    from housevoice.label.agreement import agreement_report

    overall = agreement_report(ws).overall
    if overall.alpha is None and overall.pairwise is None:
        st.caption("Agreement: not measurable yet (no response pair ranked by two annotators).")
    else:
        alpha = f"{overall.alpha:.2f}" if overall.alpha is not None else "n/a"
        pairwise = f"{overall.pairwise:.0%}" if overall.pairwise is not None else "n/a"
        st.caption(f"Agreement between {overall.annotators} annotators: Krippendorff's alpha {alpha}, "
                   f"pairwise {pairwise} over {overall.shared_items} shared pairs")
except HousevoiceError as exc:
    show_problem(exc)
except Exception:  # no rankings at all can leave the agreement report nothing to group
    st.caption("Agreement: no rankings yet.")
