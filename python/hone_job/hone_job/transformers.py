"""HoneCallback: the Hugging Face Trainer's logs into hone's files, live.

    job = hone_job.load()
    args = TrainingArguments(output_dir=job.checkpoint_dir, ...)   # checkpoints: never in outputDir
    trainer = Trainer(model, args, ..., callbacks=[HoneCallback(job)])
    trainer.train(resume_from_checkpoint=job.latest_checkpoint())
    model.save_pretrained(job.output_dir)                           # the model: outputDir

Checkpoints stay where TrainingArguments.output_dir says; the callback refuses to start when that is inside
outputDir (hone would store and publish every checkpoint-*/optimizer.pt as part of the model).
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Mapping, Optional

from transformers import TrainerCallback

from . import load
from ._json import HoneJobError, dumps, write_atomically
from .importers import TRAINER_META
from .job import METRICS_FILE, Job

# The Trainer's last log (on_log after training) holds the run's totals, not a point of the curve.
_FINAL_KEYS = ("train_runtime", "train_loss")


class HoneCallback(TrainerCallback):
    """on_log appends each log to metrics.jsonl (rank 0 only). The Trainer prints each log on stdout itself
    (the task log that `hone logs --follow` shows); echo=True prints hone's line too. on_train_begin checks
    where checkpoints go and, when resuming, drops the curve's points past the checkpoint; on_train_end
    merges the training figures into summary.json."""

    def __init__(self, job: Optional[Job] = None, echo: bool = False):
        self.job = job if job is not None else load()
        self.echo = echo
        self.final: dict = {}
        self.last_eval: dict = {}

    # Trainer calls every event on every rank; only the main process writes hone's files.

    def on_train_begin(self, args, state, control, **kwargs):
        check_checkpoint_folder(args.output_dir, self.job)
        if state.is_world_process_zero and state.global_step > 0:
            truncate_curve(self.job.output(METRICS_FILE), state.global_step)

    def on_log(self, args, state, control, logs: Optional[Mapping[str, Any]] = None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        numbers = {k: v for k, v in logs.items() if _is_number(v)}
        if any(k in numbers for k in _FINAL_KEYS):
            self.final.update(numbers)
            return
        if any(k.startswith("eval_") for k in numbers):
            self.last_eval.update({k: v for k, v in numbers.items() if k.startswith("eval_")})
        row = self.job.log(step=state.global_step, **numbers)
        if self.echo:
            print("step " + " ".join(f"{k}={_short(v)}" for k, v in row.items()), flush=True)

    def on_save(self, args, state, control, **kwargs):
        if state.is_world_process_zero and self.echo:
            print(f"checkpoint step {state.global_step} saved in {args.output_dir} (not part of the model)",
                  flush=True)

    def on_train_end(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        figures = {k: v for k, v in self.final.items() if k != "epoch"}
        figures.update(self.last_eval)
        figures["steps"] = state.global_step
        if state.epoch is not None:
            figures["epoch"] = state.epoch
        self.job.update_summary(figures, {k: meta_of(k) for k in figures if meta_of(k)})


def meta_of(name: str) -> Optional[dict]:
    """The annotation of a figure the Trainer reports: TRAINER_META, and for the eval_* figures the same rule
    (eval_loss and other losses min, runtimes and throughput info)."""
    if name in TRAINER_META:
        return TRAINER_META[name]
    if name.endswith("_runtime"):
        return {"kind": "info", "unit": "s"}
    if name.endswith("_per_second"):
        return {"kind": "info"}
    if name.endswith("_loss"):
        return {"kind": "metric", "direction": "min"}
    return None


def check_checkpoint_folder(folder: str, job: Job) -> None:
    """Checkpoints inside outputDir would become part of the model hone stores and publishes."""
    out = os.path.realpath(job.output_dir)
    here = os.path.realpath(folder)
    if here == out or here.startswith(out + os.sep):
        raise HoneJobError(f"TrainingArguments.output_dir {folder} is inside the job's outputDir {job.output_dir}: "
                           f"every checkpoint would be stored and published as part of the model; "
                           f"use output_dir=job.checkpoint_dir ({job.checkpoint_dir})")


def truncate_curve(path: str, step: int) -> int:
    """Resuming from the checkpoint at `step`: the points logged after it (by the attempt that died) are
    logged again, so they are dropped. Returns how many were."""
    if not os.path.exists(path):
        return 0
    kept, dropped = [], 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                s = json.loads(line).get("step")
            except (json.JSONDecodeError, AttributeError):
                s = None
            if isinstance(s, (int, float)) and s > step:
                dropped += 1
            else:
                kept.append(line if line.endswith("\n") else line + "\n")
    if dropped:
        write_atomically(path, "".join(kept))
    return dropped


def _is_number(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, float)):
        return True
    item = getattr(v, "item", None)
    return callable(item) and getattr(v, "ndim", 0) == 0


def _short(v: Any) -> str:
    if isinstance(v, float) and math.isfinite(v):
        return f"{v:.6g}"
    return dumps(v)

