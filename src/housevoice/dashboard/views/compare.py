"""Compare page: two or more versions' scores side by side, and their responses to the same prompts."""

from __future__ import annotations

import math

import altair as alt
import polars as pl
import streamlit as st

from housevoice.dashboard import data
from housevoice.dashboard.guard import plain, workspace_or_stop

PROMPTS_SHOWN = 10

st.title("Compare")
ws = workspace_or_stop()
root = str(ws.root)
versions = data.versions_table(root, data.stamp(ws))
ids = versions["version_id"].to_list()
if len(ids) < 1:
    st.info(f"No model versions yet. Train one with: housevoice tune sft {ws.root} --base MODEL")
    st.stop()
tuned = versions.filter(~pl.col("kind").is_in(["reward", "base"]))["version_id"].to_list()
chosen = st.multiselect("Versions", ids, default=(tuned or ids)[-2:], help="the first one is the reference for deltas")
if not chosen:
    st.info("Pick at least one version.")
    st.stop()

# ---- scores side by side ------------------------------------------------------------------
scores = data.latest_eval(root, data.stamp(ws)).filter(pl.col("version_id").is_in(chosen))
voice_n = scores.filter((pl.col("suite") == "voice") & pl.col("metric").is_in(["std", "n"])).pivot(
    on="metric", index="version_id", values="value") if not scores.is_empty() else pl.DataFrame()
shown = scores.filter(~((pl.col("suite") == "voice") & pl.col("metric").is_in(["std", "n"])))
if shown.is_empty():
    st.info("No scores for these versions yet: run `housevoice evaluate voice` / `evaluate bench`.")
else:
    if {"std", "n"} <= set(voice_n.columns):
        # a voice mean's error bar is its standard error, from the spread and count evaluate stored
        spread = dict(zip(voice_n["version_id"], (s / math.sqrt(n) if s is not None and n else None
                                                  for s, n in zip(voice_n["std"], voice_n["n"]))))
        shown = shown.with_columns(pl.when((pl.col("suite") == "voice") & pl.col("stderr").is_null())
                                   .then(pl.col("version_id").replace_strict(spread, default=None, return_dtype=pl.Float64))
                                   .otherwise(pl.col("stderr")).alias("stderr"))
    shown = shown.with_columns((pl.col("suite") + " · " + pl.col("metric")).alias("score"))
    wide = shown.pivot(on="version_id", index="score", values="value")
    reference = chosen[0]
    for other in chosen[1:]:
        if reference in wide.columns and other in wide.columns:
            wide = wide.with_columns((pl.col(other) - pl.col(reference)).alias(f"Δ {other} − {reference}"))
    st.subheader("Scores")
    st.table(wide)  # a few rows: a plain table, readable and searchable in the page
    bars = shown.with_columns((pl.col("value") - pl.col("stderr")).alias("low"),
                              (pl.col("value") + pl.col("stderr")).alias("high")).to_pandas()
    chart = alt.Chart(bars).encode(y=alt.Y("version_id:N", title=None), color="version_id:N")
    layered = alt.layer(
        chart.mark_point(filled=True, size=80).encode(x=alt.X("value:Q", title=None, scale=alt.Scale(zero=False))),
        chart.mark_rule().encode(x="low:Q", x2="high:Q"),
    ).properties(height=60, width=280).facet(facet=alt.Facet("score:N", title=None), columns=3).resolve_scale(x="independent")
    st.altair_chart(layered)
    st.caption("Bars are ± one standard error where the evaluation reported one.")

# ---- responses side by side ----------------------------------------------------------------
st.subheader("Responses to the same prompts")
answers = data.samples(root, data.stamp(ws, "samples")).filter(pl.col("version_id").is_in(chosen))
if answers.is_empty():
    st.info(f"No responses from these versions yet: housevoice tune sample {ws.root} --versions {' '.join(chosen)}")
    st.stop()
answered_by = answers.group_by("prompt_id").agg(pl.col("version_id").n_unique().alias("versions"), pl.col("prompt").first())
common = answered_by.filter(pl.col("versions") == len(chosen)) if len(chosen) > 1 else answered_by
only_common = st.toggle("Only prompts every chosen version answered", value=not common.is_empty())
prompts = (common if only_common else answered_by).sort("prompt_id")
needle = st.text_input("Filter prompts", placeholder="words in the prompt")
if needle:
    prompts = prompts.filter(pl.col("prompt").str.to_lowercase().str.contains(needle.lower(), literal=True))
st.caption(f"{prompts.height} prompts" + (f"; showing the first {PROMPTS_SHOWN}" if prompts.height > PROMPTS_SHOWN else ""))
rewards = data.table(root, "sample_scores", data.stamp(ws, "sample_scores")).join(
    answers.select("sample_id"), on="sample_id")
scorers = rewards.sort("scored_at")["scorer"].unique(maintain_order=True).to_list()[::-1]  # newest first
scorer = st.selectbox("Reward model", scorers, help="scores from `housevoice evaluate reward`") if len(scorers) > 1 \
    else (scorers[0] if scorers else None)
reward_of = dict(rewards.filter(pl.col("scorer") == scorer).select("sample_id", "score").iter_rows()) if scorer else {}
if not scorer:
    st.caption(f"No reward scores yet: housevoice evaluate reward {ws.root} --reward REWARD_VERSION")
for prompt_id, prompt in prompts.head(PROMPTS_SHOWN).select("prompt_id", "prompt").iter_rows():
    with st.container(border=True):
        st.text(prompt)  # st.text never interprets markup: model and record text is shown as it is
        columns = st.columns(len(chosen))
        replies = answers.filter(pl.col("prompt_id") == prompt_id)
        voice = data.response_voice_scores(ws, replies["response"].to_list(), replies["params"].to_list())
        replies = replies.with_columns(pl.Series("voice", voice, dtype=pl.Float64))
        for column, version_id in zip(columns, chosen):
            with column:
                st.caption(plain(version_id))
                mine = replies.filter(pl.col("version_id") == version_id)
                if mine.is_empty():
                    st.caption("no response to this prompt")
                for sample_id, response, params, score in mine.select("sample_id", "response", "params", "voice").iter_rows():
                    st.text(response or "(empty response)")
                    voice_text = f"voice {score:.2f}" if score is not None else "voice: no profile yet"
                    reward = reward_of.get(sample_id)
                    reward_text = f"reward {reward:.2f}" if reward is not None else "reward: not scored"
                    st.caption(plain(f"{voice_text} · {reward_text} · {data.sample_params(params)}"))
