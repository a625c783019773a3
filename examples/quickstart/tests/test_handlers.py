"""The quickstart handlers, run the way hone runs them (specs/job-contract.md).

Each test writes a job.json into a temporary directory, runs the handler as a
subprocess with the working directory set to the quickstart repository and
HONE_JOB pointing at the job, then checks what a user would look at.

    cd examples/quickstart && python3 -m pytest -q tests
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE = os.path.join(ROOT, "artifacts", "tiny-char-v1.npz")
TRAIN = os.path.join(ROOT, "data", "tickets-train.txt")
VAL = os.path.join(ROOT, "data", "tickets-val.txt")
TEST = os.path.join(ROOT, "data", "tickets-test.jsonl")

# the two runs of the example, cut short so the suite stays fast
SMALL = {"epochs": 1, "lr": 0.0003, "steps": 300, "seed": 0}
LARGE = {"epochs": 1, "lr": 0.003, "steps": 300, "seed": 0}


def ref(name, version, path):
    return {"name": name, "version": version, "path": path}


def run_job(path, outdir, params):
    return {
        "kind": "run", "object": "support/test", "id": "test-run", "attempt": 1,
        "params": params,
        "baseModel": ref("tiny-char", "v1", path or BASE),
        "trainDataset": ref("tickets", "v1", TRAIN),
        "validationDataset": ref("tickets-val", "v1", VAL),
        "runtime": {"name": "numpy", "version": "v1"},
        "outputDir": outdir,
    }


def eval_job(model_path, outdir, params=None):
    return {
        "kind": "eval", "object": "support/test-eval", "id": "test-eval", "attempt": 1,
        "params": params or {},
        "model": ref("tiny-char", "v1", model_path),
        "dataset": ref("tickets-test", "v1", TEST),
        "runtime": {"name": "numpy", "version": "v1"},
        "outputDir": outdir,
    }


def run_handler(script, job, tmp, name="job"):
    """Write job.json under tmp and run handlers/<script> like hone would."""
    job_path = os.path.join(str(tmp), f"{name}.json")
    with open(job_path, "w") as f:
        json.dump(job, f)
    env = dict(os.environ, HONE_JOB=job_path, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, f"handlers/{script}"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def ok(proc):
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_json(path):
    with open(path) as f:
        return json.load(f)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """Fine-tune with both param sets and evaluate base + both fine-tunes, once."""
    tmp = tmp_path_factory.mktemp("jobs")
    out = {}
    for name, params in (("small", SMALL), ("large", LARGE)):
        d = str(tmp / f"run-{name}")
        out[f"run-{name}"] = (ok(run_handler("finetune.py", run_job(None, d, params), tmp, f"run-{name}")), d)
    for name, model in (("base", BASE),
                        ("small", os.path.join(out["run-small"][1], "model.npz")),
                        ("large", os.path.join(out["run-large"][1], "model.npz"))):
        d = str(tmp / f"eval-{name}")
        out[f"eval-{name}"] = (ok(run_handler("evaluate.py", eval_job(model, d), tmp, f"eval-{name}")), d)
    out["tmp"] = tmp
    return out


# ---------------------------------------------------------------- fine-tune


@pytest.mark.parametrize("name", ["small", "large"])
def test_finetune_writes_its_outputs(work, name):
    proc, d = work[f"run-{name}"]
    assert sorted(f for f in os.listdir(d) if not f.startswith(".")) == ["metrics.jsonl", "model.npz", "summary.json"]
    summary = read_json(os.path.join(d, "summary.json"))
    for key in ("train_loss", "val_loss", "val_perplexity", "base_val_loss", "steps"):
        assert isinstance(summary[key], (int, float)), key
    assert summary["steps"] == 300
    assert math.isclose(summary["val_perplexity"], math.exp(summary["val_loss"]), rel_tol=1e-3)
    assert summary["val_loss"] < summary["base_val_loss"]
    # progress lines for the task log
    assert "step" in proc.stdout and "done in" in proc.stdout


@pytest.mark.parametrize("name", ["small", "large"])
def test_metrics_curve_goes_down(work, name):
    _, d = work[f"run-{name}"]
    rows = read_jsonl(os.path.join(d, "metrics.jsonl"))
    assert len(rows) >= 10
    steps = [r["step"] for r in rows]
    assert steps == sorted(steps) and steps[0] == 0 and steps[-1] == 300
    for r in rows:
        assert set(r) >= {"step", "loss", "val_loss"}
    losses = [r["loss"] for r in rows]
    vals = [r["val_loss"] for r in rows]
    # decreasing-ish: the end is well below the start, and no step is far above the first
    assert losses[-1] < 0.8 * losses[0]
    assert vals[-1] < 0.8 * vals[0]
    assert max(vals) <= vals[0] + 1e-6
    third = len(vals) // 3
    assert sum(vals[-third:]) / third < sum(vals[:third]) / third


def test_finetuned_model_loads_like_the_base(work):
    sys.path.insert(0, os.path.join(ROOT, "handlers"))
    try:
        import common
        base = common.load_model(BASE)
        tuned = common.load_model(os.path.join(work["run-large"][1], "model.npz"))
    finally:
        sys.path.pop(0)
    for k in common.PARAM_NAMES:
        assert base[k].shape == tuned[k].shape
    assert tuned["config"]["fine_tuned_from"] == "tiny-char@v1"
    assert tuned["config"]["context"] == base["config"]["context"]


def test_finetune_is_deterministic(work, tmp_path):
    d = str(tmp_path / "again")
    ok(run_handler("finetune.py", run_job(None, d, LARGE), tmp_path))
    first = work["run-large"][1]
    assert sha256(os.path.join(d, "model.npz")) == sha256(os.path.join(first, "model.npz"))
    assert read_jsonl(os.path.join(d, "metrics.jsonl")) == read_jsonl(os.path.join(first, "metrics.jsonl"))
    assert read_json(os.path.join(d, "summary.json")) == read_json(os.path.join(first, "summary.json"))


def test_param_sets_give_different_results(work):
    small = read_json(os.path.join(work["run-small"][1], "summary.json"))
    large = read_json(os.path.join(work["run-large"][1], "summary.json"))
    assert abs(small["val_loss"] - large["val_loss"]) > 0.1
    assert sha256(os.path.join(work["run-small"][1], "model.npz")) != sha256(os.path.join(work["run-large"][1], "model.npz"))


# ---------------------------------------------------------------- evaluate


@pytest.mark.parametrize("name", ["base", "small", "large"])
def test_eval_results_one_row_per_sample(work, name):
    proc, d = work[f"eval-{name}"]
    with open(TEST) as f:
        ids = [json.loads(line)["id"] for line in f if line.strip()]
    rows = read_jsonl(os.path.join(d, "results.jsonl"))
    assert [r["id"] for r in rows] == ids
    for r in rows:
        assert set(r) >= {"id", "text", "score", "perplexity", "accuracy", "correct"}
        assert len(r["text"]) <= 80
        assert r["score"] <= 0 and r["perplexity"] >= 1
        assert 0 <= r["accuracy"] <= 1
        assert isinstance(r["correct"], bool)
        assert math.isclose(r["perplexity"], math.exp(-r["score"]), rel_tol=1e-3)
    summary = read_json(os.path.join(d, "summary.json"))
    assert summary["samples"] == len(ids)
    assert 0 <= summary["accuracy"] <= 1 and summary["perplexity"] >= 1
    assert "done in" in proc.stdout


def test_finetunes_beat_the_base_model(work):
    base = read_json(os.path.join(work["eval-base"][1], "summary.json"))
    for name in ("small", "large"):
        tuned = read_json(os.path.join(work[f"eval-{name}"][1], "summary.json"))
        assert tuned["perplexity"] < base["perplexity"] * 0.7, (name, tuned, base)
        assert tuned["accuracy"] > base["accuracy"] + 0.1, (name, tuned, base)
        # the gate the example's evals carry: metrics.accuracy >= baseline - 0.05
        assert tuned["accuracy"] >= base["accuracy"] - 0.05


def test_eval_params_limit_and_criterion(tmp_path):
    d = str(tmp_path / "out")
    ok(run_handler("evaluate.py", eval_job(BASE, d, {"limit": 5, "correct_at": 0.0}), tmp_path))
    rows = read_jsonl(os.path.join(d, "results.jsonl"))
    assert len(rows) == 5 and all(r["correct"] for r in rows)
    assert read_json(os.path.join(d, "summary.json"))["correct_rate"] == 1.0


# ---------------------------------------------------------------- bad inputs


def fails(proc, *needles):
    assert proc.returncode != 0, proc.stdout
    assert "error:" in proc.stderr
    for n in needles:
        assert n in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("script", ["finetune.py", "evaluate.py"])
def test_no_job_file(script, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "HONE_JOB"}
    proc = subprocess.run([sys.executable, f"handlers/{script}"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    fails(proc, "HONE_JOB")
    env["HONE_JOB"] = str(tmp_path / "nope.json")
    proc = subprocess.run([sys.executable, f"handlers/{script}"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    fails(proc, "nope.json")


def test_missing_base_model(tmp_path):
    fails(run_handler("finetune.py", run_job(str(tmp_path / "missing.npz"), str(tmp_path / "o"), SMALL), tmp_path),
          "baseModel", "missing.npz")


def test_missing_train_dataset(tmp_path):
    job = run_job(None, str(tmp_path / "o"), SMALL)
    job["trainDataset"]["path"] = str(tmp_path / "no-such.txt")
    fails(run_handler("finetune.py", job, tmp_path), "trainDataset", "no-such.txt")
    del job["trainDataset"]
    fails(run_handler("finetune.py", job, tmp_path), "trainDataset")


def test_missing_eval_inputs(tmp_path):
    fails(run_handler("evaluate.py", eval_job(str(tmp_path / "gone.npz"), str(tmp_path / "o")), tmp_path),
          "model", "gone.npz")
    job = eval_job(BASE, str(tmp_path / "o"))
    job["dataset"]["path"] = str(tmp_path / "gone.jsonl")
    fails(run_handler("evaluate.py", job, tmp_path), "dataset", "gone.jsonl")


def test_bad_params_and_wrong_kind(tmp_path):
    fails(run_handler("finetune.py", run_job(None, str(tmp_path / "o"), {"lr": "fast"}), tmp_path), "params.lr")
    fails(run_handler("evaluate.py", run_job(None, str(tmp_path / "o"), {}), tmp_path), "eval", "run")


def test_not_a_model_file(tmp_path):
    bogus = tmp_path / "bogus.npz"
    bogus.write_text("not a zip")
    fails(run_handler("evaluate.py", eval_job(str(bogus), str(tmp_path / "o")), tmp_path), "bogus.npz")
