"""SFT → samples → reward model → RLHF → DPO through the commands a user runs, with lineage checked."""

from __future__ import annotations

import json
import re

import polars as pl

from housevoice.registry import Registry


def last_line(proc) -> str:
    return proc.stdout.strip().splitlines()[-1].strip()


def test_whole_tuning_loop_registers_versions_with_lineage(cli, tune_ws, tiny_model, tune_template):
    from housevoice.tune.datasets import training_records

    ws, decided = tune_ws, tune_template[1]
    root = ws.root
    registry = Registry(ws)

    # SFT on keep + approved, minus rejected
    sft = cli("tune", "sft", root, "--base", tiny_model, "--epochs", "1", check=True)
    sft_id = last_line(sft)
    assert sft_id.startswith("sft-") and "trained on" in sft.stdout
    # on a CPU nothing is packed: one epoch is one step per batch of 4 examples
    examples, steps = map(int, re.search(r"\((\d+) examples, (\d+) steps\)", sft.stdout).groups())
    assert steps == -(-examples // 4)
    version = registry.get(sft_id)
    assert version["status"] == "ready" and version["dataset_hash"]
    assert (root / version["artifact_path"] / "adapter_config.json").is_file()
    learned = set(registry.lineage(sft_id, "record"))
    assert learned == set(training_records(ws)["record_id"].to_list())
    assert decided["rejected"] not in learned
    if decided["approved"]:
        assert decided["approved"] in learned
    curated = ws.read_table("curated")
    dropped = set(curated.filter(pl.col("route") == "drop")["record_id"].to_list())
    assert not learned & dropped

    # samples: n=2 per held-out prompt, sampling settings recorded
    cli("tune", "sample", root, "--versions", sft_id, "--max-new-tokens", "12", check=True)
    samples = ws.read_table("samples")
    assert set(samples["version_id"]) == {sft_id}
    assert samples.group_by("prompt_id").len()["len"].to_list() == [2] * samples["prompt_id"].n_unique()
    params = json.loads(samples["params"][0])
    assert {"temperature", "top_p", "seed", "max_new_tokens"} <= set(params)
    trained_titles = {f'Write a blog post titled "{t}".' for t in ws.read_table("records").filter(
        pl.col("record_id").is_in(list(learned)))["title"].to_list()}
    assert not set(samples["prompt"]) & trained_titles

    # reward model on the SFT version, held-out accuracy stored, lineage to the pairs it learned from
    rew = cli("tune", "reward", root, "--epochs", "1", check=True)
    reward_id = last_line(rew)
    assert "held-out pairwise accuracy" in rew.stdout
    assert registry.get(reward_id)["parent_version"] == sft_id
    [accuracy] = [r for r in registry.eval_results(reward_id) if r["metric"] == "pairwise_accuracy"]
    assert 0 <= accuracy["value"] <= 1 and accuracy["n"] > 0
    reward_pairs = set(registry.lineage(reward_id, "pair"))
    assert reward_pairs and reward_pairs <= set(ws.read_table("preferences")["pair_id"].to_list())

    # RLHF (GRPO) against the reward model: per-step log and plot in reports/
    rl = cli("tune", "rlhf", root, "--policy", sft_id, "--reward", reward_id, "--steps", "2",
             "--max-new-tokens", "12", check=True)
    rl_id = last_line(rl)
    assert registry.get(rl_id)["status"] == "ready" and registry.get(rl_id)["parent_version"] == sft_id
    log = pl.read_csv(root / "reports" / f"{rl_id}-rlhf.csv")
    assert log.columns == ["step", "reward", "kl", "length"] and len(log) == 2
    assert (root / "reports" / f"{rl_id}-rlhf.png").stat().st_size > 0
    assert set(registry.lineage(rl_id, "pair")) == reward_pairs

    # DPO on the pairs, and the new version can be sampled like any other
    dpo = cli("tune", "dpo", root, "--policy", sft_id, "--epochs", "1", check=True)
    dpo_id = last_line(dpo)
    assert set(registry.lineage(dpo_id, "pair")) == set(ws.read_table("preferences")["pair_id"].to_list())
    cli("tune", "sample", root, "--versions", dpo_id, rl_id, "--n", "1", "--max-new-tokens", "8", check=True)
    assert {dpo_id, rl_id} <= set(ws.read_table("samples")["version_id"])

    # the reward model reads every sample: a score per response, a mean per version, nothing scored twice
    out = cli("evaluate", "reward", root, "--reward", reward_id, check=True).stdout
    samples = ws.read_table("samples")
    scores = ws.read_table("sample_scores")
    assert sorted(scores["sample_id"]) == sorted(samples["sample_id"]) and set(scores["scorer"]) == {reward_id}
    assert f"{samples.height} responses scored by {reward_id}" in out
    means = scores.join(samples, on="sample_id").group_by("version_id").agg(pl.col("score").mean())
    stored = {r["version_id"]: r for r in registry.eval_results() if r["metric"] == f"score:{reward_id}"}
    assert set(stored) == {sft_id, dpo_id, rl_id}
    for version_id, mean in means.iter_rows():
        assert abs(stored[version_id]["value"] - mean) < 1e-9 and stored[version_id]["suite"] == "reward"
    again = cli("evaluate", "reward", root, "--reward", reward_id, "--versions", sft_id, check=True).stdout
    assert "0 responses scored" in again and ws.read_table("sample_scores").equals(scores)

    # a policy is not a reward model: one clear line, nothing written
    wrong = cli("evaluate", "reward", root, "--reward", sft_id)
    assert wrong.returncode == 1 and f"{sft_id} is a sft version" in wrong.stderr
    assert "Traceback" not in wrong.stderr and ws.read_table("sample_scores").equals(scores)
