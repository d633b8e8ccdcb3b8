"""Each dashboard page in Streamlit's AppTest, on a workspace built by the real commands."""

from __future__ import annotations

import polars as pl
import pytest

from housevoice.dashboard.guard import plain
from housevoice.registry import Registry
from housevoice.store import Workspace

pytestmark = pytest.mark.slow


def shown_text(app) -> str:
    parts = [e.value for kind in ("title", "text", "caption", "markdown", "info", "error", "success") for e in getattr(app, kind)]
    return "\n".join(map(str, parts))


def frames(app) -> list[pl.DataFrame]:
    return [pl.from_pandas(d.value) for d in app.dataframe] + [pl.from_pandas(t.value) for t in app.table]


def test_versions_page_lists_every_version_with_its_scores(app, open_page, dashboard_ws, built_workspace):
    open_page(app, "versions")
    table = frames(app)[0]
    ids = set(table["version_id"])
    assert {built_workspace["first"], built_workspace["second"]} <= ids
    assert table.filter(pl.col("version_id") == built_workspace["second"])["data: records"][0] > 0
    assert table["voice fidelity"].drop_nulls().len() >= 2
    assert app.metric[0].value == "none yet"
    # the trade-off plot: every version with both scores, the base model among them
    both = table.filter(pl.col("voice fidelity").is_not_null() & pl.col("benchmark").is_not_null())
    assert {built_workspace["first"], built_workspace["second"], built_workspace["base"]} <= set(both["version_id"])
    assert not app.info and any("diamonds are base models" in c.value for c in app.caption)


def test_one_evaluate_run_scores_several_versions_and_their_base_once(built_workspace):
    # The workspace's voice scores came from one `evaluate voice --version A --version B`.
    said = built_workspace["voice_output"]
    first, second, base = built_workspace["first"], built_workspace["second"], built_workspace["base"]
    assert f"{first}: voice" in said and f"{second}: voice" in said
    base_lines = [line for line in said.splitlines() if line.startswith(f"{base}: voice")]
    assert len(base_lines) == 2 and "kept from an earlier run" not in base_lines[0] and "kept from an earlier run" in base_lines[1]
    assert f"--version {first} --version {second}" in said  # the next step names both
    registry = Registry(Workspace.open(built_workspace["root"]))
    means = [r["version_id"] for r in registry.eval_results() if r["suite"] == "voice" and r["metric"] == "mean"]
    assert sorted(means) == sorted([first, second, base])


def test_compare_page_puts_scores_and_responses_side_by_side(app, open_page, dashboard_ws, built_workspace):
    first, second = built_workspace["first"], built_workspace["second"]
    open_page(app, "compare")
    assert app.multiselect[0].value == [first, second]
    scores = frames(app)[0]
    assert {first, second, f"Δ {second} − {first}"} <= set(scores.columns)
    assert "voice · mean" in scores["score"].to_list()
    samples = Workspace.open(dashboard_ws).read_table("samples")
    texts = [t.value for t in app.text]
    assert set(samples["prompt"]) <= set(texts)
    assert sum(r in texts for r in samples["response"] if r) >= 2
    # the reward model's mean per version in the scores, its score per response beside the response
    reward = built_workspace["reward"]
    assert f"reward · score:{reward}" in scores["score"].to_list()
    stored = Workspace.open(dashboard_ws).read_table("sample_scores").filter(pl.col("scorer") == reward)
    captions = "\n".join(c.value for c in app.caption)
    assert "reward: not scored" not in captions
    assert any(plain(f"reward {s:.2f}") in captions for s in stored["score"])

    word = max(samples["prompt"][0].split(), key=len).strip('".')
    app.text_input[0].input(word).run()
    shown = [t for t in (x.value for x in app.text) if t in set(samples["prompt"])]
    assert shown and all(word.lower() in t.lower() for t in shown)


def test_data_page_shows_what_a_version_learned_and_who_used_a_record(app, open_page, dashboard_ws, built_workspace):
    second = built_workspace["second"]
    learned = Registry(Workspace.open(dashboard_ws)).lineage(second, "record")
    open_page(app, "training_data")
    assert app.selectbox[0].value == second
    by_source = frames(app)[0]
    assert by_source["records"].sum() == len(learned)
    app.text_input[0].input(learned[0]).run()
    used = [c.value for c in app.caption if c.value.startswith("used by")]
    assert used and second in used[0].replace("\\", "")
    assert [m.label for m in app.metric] == ["Decided by people", "Waiting for review", "Records to train on"]


def test_record_text_with_markup_is_shown_as_it_is(app, open_page, dashboard_ws):
    open_page(app, "training_data")
    app.text_input[0].input("boring").run()
    assert any("The case for <b>boring</b> tools" in t.value for t in app.text)
    assert not any(m.proto.allow_html for m in app.markdown)


def test_promote_page_promotes_with_name_and_reason_and_logs_it(app, open_page, dashboard_ws, built_workspace):
    second = built_workspace["second"]
    open_page(app, "promote")
    app.selectbox[0].select(second).run()
    app.text_input[0].input("Dana Lee")
    app.text_area[0].input("best voice so far")
    app.button[0].click().run()
    assert not app.error, [e.value for e in app.error]
    assert "now live" in app.success[0].value
    assert app.metric[0].value == second
    history = frames(app)[-1]
    assert history.select("version_id", "action", "actor", "reason").row(0) == (second, "promote", "Dana Lee", "best voice so far")
    assert Registry(Workspace.open(dashboard_ws)).get(second)["stage"] == "promoted"


def test_promote_page_without_a_reason_writes_nothing(app, open_page, dashboard_ws, digest):
    before = digest(dashboard_ws)
    open_page(app, "promote")
    app.text_input[0].input("Dana Lee")
    app.button[0].click().run()
    assert "a reason is required" in shown_text(app)
    assert digest(dashboard_ws) == before


def test_promote_page_says_which_gate_failed(app, open_page, dashboard_ws):
    from housevoice.config import Config

    if "promote" not in Config.model_fields:
        pytest.skip("housevoice.toml cannot carry a [promote] table until the config knows it")
    config = dashboard_ws / "housevoice.toml"
    config.write_text(config.read_text().replace("[promote]\n", "[promote]\nmin_voice_gain = 0.9\n", 1))
    open_page(app, "promote")
    assert "failed gate min_voice_gain" in shown_text(app).replace("\\", "")


def test_empty_workspace_says_there_is_no_registry_and_creates_none(app, open_page, workspace, monkeypatch, digest):
    monkeypatch.setenv("HOUSEVOICE_WORKSPACE", str(workspace.root))
    before = digest(workspace.root)
    for page in ("versions", "compare", "training_data", "promote"):
        open_page(app, page)
        assert "has no model registry yet" in shown_text(app).replace("\\", ""), page
    assert not workspace.registry_path.exists()
    assert digest(workspace.root) == before


def test_registry_without_versions_says_what_to_train(app, open_page, workspace, monkeypatch):
    Registry(workspace)
    monkeypatch.setenv("HOUSEVOICE_WORKSPACE", str(workspace.root))
    open_page(app, "versions")
    assert "No model versions yet" in shown_text(app)


def test_missing_workspace_is_named_on_the_page(app, open_page, tmp_path, monkeypatch):
    monkeypatch.setenv("HOUSEVOICE_WORKSPACE", str(tmp_path / "nowhere"))
    open_page(app, "compare")
    assert "no workspace at" in shown_text(app)
    assert not (tmp_path / "nowhere").exists()
