"""The importers, on sample files written in each tool's documented format (see hone_job/importers.py)."""

import json

import pytest

from hone_job import HoneJobError, NonFiniteWarning
from hone_job.__main__ import main
from hone_job.importers import (read_llamafactory, read_torchtune, read_trainer_state, trainer_state_totals,
                                write_metrics)
from conftest import lines, strict

# What LLaMA-Factory's LogCallback wrote for a LoRA SFT run with eval every 2 steps (json.dumps of its dict,
# None values dropped; the eval line has no "loss"), then a prediction run's progress-only lines.
LLAMAFACTORY = """\
{"current_steps": 1, "total_steps": 4, "loss": 2.0512, "lr": 5e-05, "epoch": 0.25, "percentage": 25.0, "elapsed_time": "0:00:01", "remaining_time": "0:00:03", "throughput": 1843.22, "total_tokens": 2048}
{"current_steps": 2, "total_steps": 4, "loss": 1.8731, "lr": 3.75e-05, "epoch": 0.5, "percentage": 50.0, "elapsed_time": "0:00:02", "remaining_time": "0:00:02", "throughput": 1850.1, "total_tokens": 4096}
{"current_steps": 2, "total_steps": 4, "eval_loss": 1.9102, "epoch": 0.5, "percentage": 50.0, "elapsed_time": "0:00:02", "remaining_time": "0:00:02"}
{"current_steps": 3, "total_steps": 4, "loss": NaN, "lr": 2.5e-05, "epoch": 0.75, "percentage": 75.0, "elapsed_time": "0:00:03", "remaining_time": "0:00:01"}
{"current_steps": 4, "total_steps": 4, "loss": 1.7002, "lr": 1.25e-05, "epoch": 1.0, "percentage": 100.0, "elapsed_time": "0:00:04", "remaining_time": "0:00:00"}

{"current_steps": 5, "total_steps": 10, "percentage": 50.0, "elapsed_time": "0:00:01", "remaining_time": "0:00:01"}
"""


def test_llamafactory(tmp_path):
    p = tmp_path / "trainer_log.jsonl"
    p.write_text(LLAMAFACTORY)
    rows = read_llamafactory(str(p))
    assert rows[0] == {"step": 1, "loss": 2.0512, "lr": 5e-05, "epoch": 0.25, "throughput": 1843.22, "total_tokens": 2048}
    assert rows[2] == {"step": 2, "eval_loss": 1.9102, "epoch": 0.5}
    assert [r["step"] for r in rows] == [1, 2, 2, 3, 4]  # the progress-only line is no point
    out = tmp_path / "metrics.jsonl"
    with pytest.warns(NonFiniteWarning, match=r"metrics.jsonl: step 3.loss is nan, written as null"):
        assert write_metrics(rows, str(out)) == 5
    assert lines(out)[3] == {"step": 3, "loss": None, "lr": 2.5e-05, "epoch": 0.75}


def test_llamafactory_rejects_other_files(tmp_path):
    p = tmp_path / "trainer_log.jsonl"
    p.write_text('{"step": 1, "loss": 2.0}\n')
    with pytest.raises(HoneJobError, match=rf'{p}:1: no "current_steps" number: not a LLaMA-Factory trainer_log.jsonl line'):
        read_llamafactory(str(p))
    p.write_text('{"current_steps": 1}\n{"current_steps": 2, \n')
    with pytest.raises(HoneJobError, match=rf"{p}:2:\d+: LLaMA-Factory trainer log: line is not valid JSON"):
        read_llamafactory(str(p))


# torchtune's DiskLogger(output_fmt="jsonl"): log_dict() lines from lora_finetune_single_device, then two
# log() calls of one step (one line each), a value that json could only write through str() (a numpy
# float32), and a 0-d tensor through tolist().
TORCHTUNE_JSONL = """\
{"step": 1, "loss": 2.3125, "lr": 0.0003, "tokens_per_second_per_gpu": 1520.4, "peak_memory_alloc": 3.12}
{"step": 2, "loss": 2.1875, "lr": 0.0003, "tokens_per_second_per_gpu": 1533.9, "peak_memory_alloc": 3.12}
{"step": 3, "val_loss": 2.25}
{"step": 3, "val_ppl": 9.4877}
{"step": 4, "loss": "2.0625", "grad_norm": [0.875], "note": "warmup done"}
"""

# The same calls with the default output_fmt="txt".
TORCHTUNE_TXT = """\
Step 1 | loss:2.3125 lr:0.0003 tokens_per_second_per_gpu:1520.4 peak_memory_alloc:3.12 
Step 2 | loss:2.1875 lr:0.0003 tokens_per_second_per_gpu:1533.9 peak_memory_alloc:3.12 
Step 3 | val_loss:2.25
Step 3 | val_ppl:9.4877
Step 4 | loss:tensor(2.0625) note:warmup 
"""


def test_torchtune_jsonl(tmp_path):
    p = tmp_path / "log_1718000000.jsonl"
    p.write_text(TORCHTUNE_JSONL)
    rows = read_torchtune(str(p))
    assert rows == [
        {"step": 1, "loss": 2.3125, "lr": 0.0003, "tokens_per_second_per_gpu": 1520.4, "peak_memory_alloc": 3.12},
        {"step": 2, "loss": 2.1875, "lr": 0.0003, "tokens_per_second_per_gpu": 1533.9, "peak_memory_alloc": 3.12},
        {"step": 3, "val_loss": 2.25, "val_ppl": 9.4877},
        {"step": 4, "loss": 2.0625, "grad_norm": 0.875},
    ]


def test_torchtune_text_reads_the_same(tmp_path):
    p = tmp_path / "log_1718000000.txt"
    p.write_text(TORCHTUNE_TXT)
    rows = read_torchtune(str(p))
    assert rows[:3] == read_torchtune_jsonl_rows(tmp_path)[:3]
    assert rows[3] == {"step": 4, "loss": 2.0625}


def read_torchtune_jsonl_rows(tmp_path):
    p = tmp_path / "same.jsonl"
    p.write_text(TORCHTUNE_JSONL)
    return read_torchtune(str(p))


def test_torchtune_rejects_other_files(tmp_path):
    p = tmp_path / "log.jsonl"
    p.write_text('{"loss": 1.0}\n')
    with pytest.raises(HoneJobError, match=rf'{p}:1: a torchtune DiskLogger line is an object with a "step" number'):
        read_torchtune(str(p))
    p.write_text("Step 1 | loss:1.0\nepoch 2 loss 0.5\n")
    with pytest.raises(HoneJobError, match=rf'{p}:2: not a torchtune DiskLogger line'):
        read_torchtune(str(p))


# A trainer_state.json as Trainer writes it into checkpoint-N/ (logging_steps=2, eval each epoch), with the
# totals entry on_train_end adds to log_history.
TRAINER_STATE = {
    "best_global_step": None, "best_metric": None, "best_model_checkpoint": None,
    "epoch": 2.0, "eval_steps": 500, "global_step": 4, "is_hyper_param_search": False,
    "is_local_process_zero": True, "is_world_process_zero": True,
    "log_history": [
        {"epoch": 0.5, "grad_norm": 1.0528565645217896, "learning_rate": 4.8e-05, "loss": 2.1677, "step": 2},
        {"epoch": 1.0, "grad_norm": 0.898628830909729, "learning_rate": 3.8e-05, "loss": 1.9376, "step": 4},
        {"epoch": 1.0, "eval_loss": 1.95, "eval_runtime": 0.51, "eval_samples_per_second": 39.2,
         "eval_steps_per_second": 5.1, "step": 4},
        {"epoch": 2.0, "step": 4, "total_flos": 1523.0, "train_loss": 2.05, "train_runtime": 3.21,
         "train_samples_per_second": 12.4, "train_steps_per_second": 1.25},
    ],
    "logging_steps": 2, "max_steps": 4, "num_input_tokens_seen": 0, "num_train_epochs": 2,
    "save_steps": 500, "stateful_callbacks": {}, "total_flos": 1523.0, "train_batch_size": 8, "trial_name": None,
    "trial_params": None,
}


def test_trainer_state(tmp_path):
    p = tmp_path / "trainer_state.json"
    p.write_text(json.dumps(TRAINER_STATE, indent=2))
    rows = read_trainer_state(str(p))
    assert rows == [
        {"step": 2, "epoch": 0.5, "grad_norm": 1.0528565645217896, "learning_rate": 4.8e-05, "loss": 2.1677},
        {"step": 4, "epoch": 1.0, "grad_norm": 0.898628830909729, "learning_rate": 3.8e-05, "loss": 1.9376},
        {"step": 4, "epoch": 1.0, "eval_loss": 1.95, "eval_runtime": 0.51, "eval_samples_per_second": 39.2,
         "eval_steps_per_second": 5.1},
    ]
    assert trainer_state_totals(str(p)) == {"epoch": 2.0, "total_flos": 1523.0, "train_loss": 2.05, "train_runtime": 3.21,
                                            "train_samples_per_second": 12.4, "train_steps_per_second": 1.25}


def test_trainer_state_without_totals_and_errors(tmp_path):
    p = tmp_path / "trainer_state.json"
    p.write_text(json.dumps({**TRAINER_STATE, "log_history": TRAINER_STATE["log_history"][:2]}))
    assert trainer_state_totals(str(p)) == {} and len(read_trainer_state(str(p))) == 2
    p.write_text('{"global_step": 4}')
    with pytest.raises(HoneJobError, match=rf'{p}: no "log_history" list: not a transformers trainer_state.json'):
        read_trainer_state(str(p))
    p.write_text('{"log_history": [{"loss": 1.0}]}')
    with pytest.raises(HoneJobError, match=rf'{p}: log_history\[0\] is not an object with a "step" number'):
        read_trainer_state(str(p))


def test_cli_imports_into_the_jobs_output_dir(job_file, tmp_path, capsys):
    job_file()
    p = tmp_path / "trainer_state.json"
    p.write_text(json.dumps(TRAINER_STATE))
    assert main(["import", "trainer-state", str(p), "--summary"]) == 0
    assert [r["step"] for r in lines(tmp_path / "out" / "metrics.jsonl")] == [2, 4, 4]
    summary = strict(tmp_path / "out" / "summary.json")
    assert summary["train_loss"] == 2.05 and summary["_meta"]["train_loss"] == {"kind": "metric", "direction": "min"}
    assert "imported 3 points" in capsys.readouterr().out


def test_cli_out_and_append(tmp_path, monkeypatch):
    monkeypatch.delenv("HONE_JOB", raising=False)
    p = tmp_path / "trainer_log.jsonl"
    p.write_text(LLAMAFACTORY.replace("NaN", "1.8"))
    out = tmp_path / "m.jsonl"
    assert main(["import", "llamafactory", str(p), "--out", str(out)]) == 0
    assert main(["import", "llamafactory", str(p), "--out", str(out), "--append"]) == 0
    assert len(lines(out)) == 10


def test_cli_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("HONE_JOB", raising=False)
    assert main(["import", "torchtune", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "m.jsonl")]) == 1
    assert "error:" in capsys.readouterr().err
    assert main(["import", "torchtune", str(tmp_path / "x")]) == 1
    assert "HONE_JOB is not set" in capsys.readouterr().err


def test_cli_as_a_handler_script_runs_it(tmp_path):
    # `python -m hone_job import …` from a shell, as a handler that drives a third-party CLI would
    import os
    import subprocess
    import sys
    p = tmp_path / "log_1718000000.jsonl"
    p.write_text(TORCHTUNE_JSONL)
    kit = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, "-m", "hone_job", "import", "torchtune", str(p), "--out", str(tmp_path / "m.jsonl")],
                          env={**os.environ, "PYTHONPATH": kit}, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("imported 4 points from ")
    assert [r["step"] for r in lines(tmp_path / "m.jsonl")] == [1, 2, 3, 4]
    proc = subprocess.run([sys.executable, "-m", "hone_job", "import", "nope", str(p)],
                          env={**os.environ, "PYTHONPATH": kit}, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "invalid choice: 'nope'" in proc.stderr
