"""HoneCallback with a real transformers Trainer (a tiny GPT-2 made from a config: nothing downloaded).

Needs torch and transformers (the venv of scripts/ml-venv.sh). Without them the tests are skipped, unless
HONE_REQUIRE_ML=1 (set by `make test-python` when that venv exists: CI never skips them)."""

import os
import types

import pytest

import hone_job
from hone_job import HoneJobError
from conftest import lines, strict

if os.environ.get("HONE_REQUIRE_ML") == "1":
    import torch  # noqa: F401  (an ImportError here fails the run: the ML venv is broken)
    import transformers  # noqa: F401
else:
    pytest.importorskip("torch", reason="torch is not installed: run scripts/ml-venv.sh install, then make test-python")
    pytest.importorskip("transformers", reason="transformers is not installed: run scripts/ml-venv.sh install")

import torch
from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainerCallback, TrainingArguments

from hone_job.transformers import HoneCallback, check_checkpoint_folder, truncate_curve


class Bytes(torch.utils.data.Dataset):
    """Fixed windows of a text's bytes (token id = byte value)."""

    def __init__(self, text, block=32):
        data = list(text.encode())
        self.items = [torch.tensor(data[i:i + block]) for i in range(0, len(data) - block, block)]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return {"input_ids": self.items[i], "labels": self.items[i]}


class ReadsTheCurve(TrainerCallback):
    """Runs after HoneCallback: what metrics.jsonl holds at each log, while training goes on."""

    def __init__(self, path):
        self.path, self.seen = path, []

    def on_log(self, args, state, control, logs=None, **kw):
        if "loss" in (logs or {}):
            self.seen.append((state.global_step, len(lines(self.path))))


def trainer(job, max_steps, save_steps):
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=256, n_positions=64, n_embd=32, n_layer=1, n_head=2))
    text = (hone_job.__doc__ or "") * 8
    args = TrainingArguments(output_dir=job.checkpoint_dir, max_steps=max_steps, per_device_train_batch_size=4,
                             learning_rate=1e-3, logging_steps=5, save_strategy="steps", save_steps=save_steps,
                             report_to=[], use_cpu=True, disable_tqdm=True, seed=0, dataloader_num_workers=0)
    probe = ReadsTheCurve(job.output("metrics.jsonl"))
    return Trainer(model=model, args=args, train_dataset=Bytes(text), callbacks=[HoneCallback(job, echo=True), probe]), probe


def test_real_trainer_writes_the_curve_live_checkpoints_apart_and_the_summary(job_file, tmp_path, capsys):
    job_file(checkpointDir=str(tmp_path / "ckpt"))
    job = hone_job.load()
    t, probe = trainer(job, max_steps=20, save_steps=10)
    t.train()
    curve = lines(tmp_path / "out" / "metrics.jsonl")
    assert [r["step"] for r in curve] == [5, 10, 15, 20]
    assert all(isinstance(r["loss"], float) and "learning_rate" in r and "grad_norm" in r for r in curve)
    # each point was in the file when the Trainer logged it, not written at the end
    assert probe.seen == [(5, 1), (10, 2), (15, 3), (20, 4)]
    assert sorted(os.listdir(tmp_path / "ckpt")) == ["checkpoint-10", "checkpoint-20"]
    assert sorted(os.listdir(tmp_path / "out")) == ["metrics.jsonl", "summary.json"]
    summary = strict(tmp_path / "out" / "summary.json")
    assert summary["steps"] == 20 and summary["train_loss"] > 0 and summary["train_runtime"] > 0
    assert summary["_meta"]["train_loss"] == {"kind": "metric", "direction": "min"}
    assert summary["_meta"]["steps"] == {"kind": "count"}
    assert "step step=20 loss=" in capsys.readouterr().out  # the task log shows the loss as it trains


def test_resuming_after_a_crash_keeps_one_point_per_step(job_file, tmp_path):
    job_file(checkpointDir=str(tmp_path / "ckpt"))
    job = hone_job.load()
    first, _ = trainer(job, max_steps=20, save_steps=10)
    first.train()
    # as if the attempt died after step 20 was logged but before checkpoint-20 was saved
    import shutil
    shutil.rmtree(tmp_path / "ckpt" / "checkpoint-20")
    (tmp_path / "out" / "summary.json").unlink()
    assert job.latest_checkpoint() == str(tmp_path / "ckpt" / "checkpoint-10")
    again, _ = trainer(job, max_steps=20, save_steps=10)
    again.train(resume_from_checkpoint=job.latest_checkpoint())
    assert [r["step"] for r in lines(tmp_path / "out" / "metrics.jsonl")] == [5, 10, 15, 20]
    assert strict(tmp_path / "out" / "summary.json")["steps"] == 20


def test_checkpoints_inside_output_dir_are_refused(job_file, tmp_path):
    job_file()
    job = hone_job.load()
    for folder in (job.output_dir, os.path.join(job.output_dir, "ckpt")):
        with pytest.raises(HoneJobError, match=r"is inside the job's outputDir .*use output_dir=job.checkpoint_dir"):
            check_checkpoint_folder(folder, job)
    check_checkpoint_folder(job.checkpoint_dir, job)
    check_checkpoint_folder(job.output_dir + "-ckpt", job)  # a sibling whose name starts alike is fine


def state(step, main=True):
    return types.SimpleNamespace(is_world_process_zero=main, global_step=step, epoch=1.0)


def test_other_ranks_write_nothing(job_file, tmp_path):
    job_file()
    cb = HoneCallback(hone_job.load(), echo=False)
    args = types.SimpleNamespace(output_dir=str(tmp_path / "checkpoints"))
    cb.on_log(args, state(5, main=False), None, logs={"loss": 1.0})
    cb.on_train_end(args, state(5, main=False), None)
    assert os.listdir(tmp_path / "out") == []
    cb.on_log(args, state(5), None, logs={"loss": 1.0, "learning_rate": 0.1, "epoch": 0.5})
    assert lines(tmp_path / "out" / "metrics.jsonl") == [{"step": 5, "loss": 1.0, "learning_rate": 0.1, "epoch": 0.5}]


def test_final_log_and_eval_go_to_the_summary(job_file, tmp_path):
    job_file()
    cb = HoneCallback(hone_job.load(), echo=False)
    args = types.SimpleNamespace(output_dir=str(tmp_path / "checkpoints"))
    cb.on_log(args, state(10), None, logs={"eval_loss": 1.5, "eval_runtime": 0.2, "epoch": 1.0})
    cb.on_log(args, state(10), None, logs={"train_runtime": 3.0, "train_loss": 1.75, "total_flos": 10.0, "epoch": 1.0})
    cb.on_train_end(args, state(10), None)
    assert [r["step"] for r in lines(tmp_path / "out" / "metrics.jsonl")] == [10]  # the totals are no point
    s = strict(tmp_path / "out" / "summary.json")
    assert {k: s[k] for k in ("train_loss", "eval_loss", "train_runtime", "steps", "epoch")} == {
        "train_loss": 1.75, "eval_loss": 1.5, "train_runtime": 3.0, "steps": 10, "epoch": 1.0}
    assert s["_meta"]["eval_loss"] == {"kind": "metric", "direction": "min"}
    assert s["_meta"]["train_runtime"] == {"kind": "info", "unit": "s"}
    assert s["_meta"]["eval_runtime"] == {"kind": "info", "unit": "s"}


def test_truncate_curve(tmp_path):
    p = tmp_path / "metrics.jsonl"
    p.write_text('{"step": 5, "loss": 1}\n{"step": 10, "loss": 1}\n{"note": "x"}\n{"step": 15, "loss": 1}\n')
    assert truncate_curve(str(p), 10) == 1
    assert lines(p) == [{"step": 5, "loss": 1}, {"step": 10, "loss": 1}, {"note": "x"}]
    assert truncate_curve(str(tmp_path / "none.jsonl"), 10) == 0
