"""The example's handlers as hone runs them (HONE_JOB -> a job.json written here, the kit on PYTHONPATH), on
the committed base model and data: a LoRA fine-tune, then evals of the adapter (base from job.json) and of
the base. Needs the ML venv (scripts/ml-venv.sh); skipped without it unless HONE_REQUIRE_ML=1."""

import hashlib
import json
import os
import subprocess
import sys

import pytest

if os.environ.get("HONE_REQUIRE_ML") != "1":
    pytest.importorskip("torch", reason="torch is not installed: run scripts/ml-venv.sh install")
    pytest.importorskip("peft", reason="peft is not installed: run scripts/ml-venv.sh install")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KIT = os.path.join(os.path.dirname(os.path.dirname(ROOT)), "python", "hone_job")
BASE = os.path.join(ROOT, "artifacts", "tiny-gpt")
MODEL_FILES = ["config.json", "generation_config.json", "model.safetensors", "pretrain.json", "tokenizer_config.json"]


def ref(name, path):
    return {"name": name, "version": "v1", "path": path, "sha256": "0" * 64}


def run(tmp_path, name, job, handler):
    folder = tmp_path / name
    (folder / "out").mkdir(parents=True)
    job = {"object": f"docs/{name}", "id": name, "attempt": 0, "outputDir": str(folder / "out"), **job}
    (folder / "job.json").write_text(json.dumps(job))
    env = {**os.environ, "HONE_JOB": str(folder / "job.json"), "PYTHONPATH": KIT}
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "handlers", handler)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    return proc, folder


def lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="module")
def finetuned(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lora")
    proc, folder = run(tmp, "lora-r8", {
        "kind": "run", "params": {"rank": 8, "steps": 40, "eval_steps": 20, "save_steps": 20, "logging_steps": 10},
        "baseModel": ref("tiny-gpt", BASE), "trainDataset": ref("pyqa", os.path.join(ROOT, "data", "train.jsonl")),
        "validationDataset": ref("pyqa-val", os.path.join(ROOT, "data", "val.jsonl")),
        "checkpointDir": str(tmp / "lora-r8" / "ckpt")}, "finetune.py")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return tmp, folder, proc


def test_finetune_writes_the_adapter_curve_and_summary_and_keeps_checkpoints_out(finetuned):
    tmp, folder, proc = finetuned
    assert sorted(os.listdir(folder / "out")) == ["adapter_config.json", "adapter_model.safetensors",
                                                  "metrics.jsonl", "summary.json"]
    assert os.listdir(folder / "ckpt") == ["checkpoint-40"]  # save_total_limit 1: the newest only
    with open(folder / "out" / "adapter_config.json") as f:
        config = json.load(f)
    assert config["base_model_name_or_path"] == "tiny-gpt@v1" and config["r"] == 8
    curve = lines(folder / "out" / "metrics.jsonl")
    losses = [r["loss"] for r in curve if "loss" in r]
    assert [r["step"] for r in curve if "loss" in r] == [10, 20, 30, 40] and losses[-1] < losses[0]
    assert [r["step"] for r in curve if "eval_loss" in r] == [20, 40]
    with open(folder / "out" / "summary.json") as f:
        summary = json.load(f)
    assert summary["steps"] == 40 and summary["eval_loss"] == curve[-1]["eval_loss"]
    assert summary["_meta"]["eval_perplexity"] == {"kind": "metric", "direction": "min", "unit": "per byte"}
    assert summary["_meta"]["trainable_parameters"] == {"kind": "count"}
    assert "'loss'" in proc.stdout  # the task log shows the loss as it trains


def evaluate(tmp, name, model, limit=24):
    return run(tmp, name, {"kind": "eval", "params": {"limit": limit}, **model,
                           "dataset": ref("pyqa-test", os.path.join(ROOT, "data", "test.jsonl"))}, "evaluate.py")


def summary_of(folder):
    with open(folder / "out" / "summary.json") as f:
        return json.load(f)


def test_eval_loads_base_and_adapter_from_job_json_and_the_fine_tune_helps(finetuned):
    tmp, run_folder, _ = finetuned
    adapter = {"name": "lora-r8", "version": "draft-0", "path": str(run_folder / "out"), "fromRun": "docs/lora-r8",
               "sha256": "0" * 64}
    proc, tuned = evaluate(tmp, "lora-test", {"model": adapter, "baseModel": ref("tiny-gpt", BASE)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "adapter lora-r8@draft-0 on tiny-gpt@v1" in proc.stdout
    proc, base = evaluate(tmp, "base-test", {"model": ref("tiny-gpt", BASE)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    t, b = summary_of(tuned), summary_of(base)
    assert t["samples"] == b["samples"] == 24
    assert t["perplexity"] < b["perplexity"] / 2  # 40 LoRA steps already halve the answers' perplexity
    assert t["exact_match"] >= b["exact_match"]
    assert t["_meta"] == {"perplexity": {"kind": "metric", "direction": "min", "unit": "per byte"},
                          "exact_match": {"kind": "metric", "direction": "max"}, "samples": {"kind": "count"}}
    rows = lines(tuned / "out" / "results.jsonl")
    assert [r["id"] for r in rows] == [f"test-{i:04d}" for i in range(1, 25)]
    assert sum(r["correct"] for r in rows) == round(t["exact_match"] * 24)


def test_eval_of_an_adapter_without_its_base_says_so(finetuned):
    tmp, run_folder, _ = finetuned
    proc, _ = evaluate(tmp, "no-base", {"model": {"name": "lora-r8", "version": "draft-0", "path": str(run_folder / "out")}})
    assert proc.returncode == 2
    assert "model lora-r8@draft-0 is a LoRA adapter" in proc.stderr and "names no base model" in proc.stderr


def test_base_model_folder_is_small_and_records_how_it_was_made():
    assert sorted(os.listdir(BASE)) == MODEL_FILES
    assert sum(os.path.getsize(os.path.join(BASE, f)) for f in MODEL_FILES) < 5_000_000
    with open(os.path.join(BASE, "pretrain.json")) as f:
        record = json.load(f)
    assert record["made_by"] == "tools/pretrain.py" and len(record["corpus_sha256"]) == 64


def digests(folder):
    out = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            out[name] = hashlib.sha256(f.read()).hexdigest()
    return out


def test_pretraining_is_deterministic(tmp_path):
    # a few steps twice (the full run is `tools/pretrain.py --check`, about a minute of CPU)
    for name in ("a", "b"):
        proc = subprocess.run([sys.executable, "tools/pretrain.py", "--steps", "3", "--out", str(tmp_path / name)],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
    a, b = digests(tmp_path / "a"), digests(tmp_path / "b")
    assert sorted(a) == MODEL_FILES and a == b
