"""lm-eval runs on held-out writing and the shipped tasks: what is held out, what is stored, what is reused."""

from __future__ import annotations

import json

import pytest

from housevoice.errors import HousevoiceError


def test_shipped_tasks_are_found_by_lm_eval_with_absolute_data_paths(tmp_path):
    from lm_eval.tasks import TaskManager

    from housevoice.evaluate.bench import DEFAULT_TASKS, write_task_folder

    data = tmp_path / "heldout.jsonl"
    data.write_text(json.dumps({"record_id": "r1", "text": "Lead with the answer."}) + "\n")
    folder = write_task_folder(tmp_path / "tasks", data)
    manager = TaskManager(include_path=str(folder), include_defaults=False)
    assert set(DEFAULT_TASKS) <= set(manager.all_tasks)
    for yaml in folder.glob("*.yaml"):
        assert "@DATA_FILE@" not in yaml.read_text()
    assert str(data.resolve()) in (folder / "heldout_perplexity.yaml").read_text()


def test_shipped_multiple_choice_items_are_well_formed():
    from housevoice.evaluate.bench import TASKS_DIR

    items = [json.loads(line) for line in (TASKS_DIR / "housevoice_mc.jsonl").read_text().splitlines()]
    assert len(items) >= 50
    assert len({i["question"] for i in items}) == len(items)
    assert all(len(i["choices"]) == 4 and 0 <= i["answer"] < 4 for i in items)


def test_held_out_writing_leaves_out_what_was_learned_and_other_authors(eval_ws):
    from housevoice.evaluate.heldout import held_out_records, learned_by
    from housevoice.registry import Registry
    from housevoice.store import Workspace

    ws = Workspace.open(eval_ws["root"])
    registry = Registry(ws)
    learned = learned_by(registry, eval_ws["sft"])
    held = held_out_records(ws, learned)
    assert set(eval_ws["held_out"]) <= set(held["record_id"])
    assert not set(held["record_id"]) & learned
    assert set(held["author"]) == {"Sam Writer"}  # the guest author's posts are not our writing


def test_base_model_runs_once_per_held_out_set(eval_ws):
    from housevoice.evaluate.bench import evaluate_bench
    from housevoice.registry import Registry
    from housevoice.store import Workspace

    first = evaluate_bench(eval_ws["root"], eval_ws["sft"], tasks=["housevoice_mc"], limit=4)
    second = evaluate_bench(eval_ws["root"], eval_ws["sft"], tasks=["housevoice_mc"], limit=4)
    assert [s.reused for s in first.scores] == [False, False]
    assert [s.reused for s in second.scores] == [False, True]
    base_id = first.scores[1].version_id
    registry = Registry(Workspace.open(eval_ws["root"]))
    assert registry.get(base_id)["kind"] == "base"
    rows = registry.eval_results(base_id)
    assert len({r["created_at"] + str(r["details_path"]) for r in rows}) == 1  # stored once
    assert {r["metric"] for r in rows} == {"housevoice_mc/acc", "housevoice_mc/acc_norm"}
    assert all(r["n"] == 4 and r["stderr"] is not None for r in rows)


def test_hub_task_offline_raises_before_loading_anything(eval_ws, tmp_path, monkeypatch):
    from housevoice.evaluate.bench import evaluate_bench

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))
    with pytest.raises(HousevoiceError, match="arc_easy: not a shipped task") as info:
        evaluate_bench(eval_ws["root"], eval_ws["sft"], tasks=["arc_easy"])
    assert "--tasks heldout_perplexity,housevoice_mc" in info.value.hint


def test_metric_rows_keep_stderr_and_n_and_skip_lengths():
    from housevoice.evaluate.bench import metric_rows

    rows = metric_rows({
        "results": {"housevoice_mc": {"alias": "housevoice_mc", "acc,none": 0.25, "acc_stderr,none": 0.05,
                                      "sample_len,none": 70},
                    "heldout_perplexity": {"word_perplexity,none": 12.5, "word_perplexity_stderr,none": "N/A"}},
        "n-samples": {"housevoice_mc": {"original": 70, "effective": 70},
                      "heldout_perplexity": {"original": 3, "effective": 3}},
    })
    assert rows == [{"metric": "housevoice_mc/acc", "value": 0.25, "stderr": 0.05, "n": 70},
                    {"metric": "heldout_perplexity/word_perplexity", "value": 12.5, "stderr": None, "n": 3}]


def test_bench_outside_a_git_checkout_prints_nothing_from_git(eval_ws, tmp_path, monkeypatch, capfd):
    # lm-eval runs `git describe` in the working directory; its complaint belongs in the run's log.
    from housevoice.evaluate.bench import evaluate_bench

    monkeypatch.chdir(tmp_path)
    capfd.readouterr()
    evaluate_bench(eval_ws["root"], eval_ws["sft"], tasks=["housevoice_mc"], limit=2)
    err = capfd.readouterr().err
    assert "fatal" not in err and "git" not in err
