"""hone's handler kit: the job contract from inside a handler (specs/handler-kit.md).

    import hone_job
    job = hone_job.load()                     # $HONE_JOB -> job.json
    base = job.input("baseModel").path        # a file or a model folder, verified by hone
    lr = job.param("lr", 3e-4, float)
    job.log(step=10, loss=2.31)               # metrics.jsonl, flushed: the live curve
    job.summary({"val_loss": 1.9, "samples": 200},
                meta={"val_loss": {"direction": "min"}, "samples": {"kind": "count"}})
    job.results([{"id": "q1", "correct": True}])   # evals: results.jsonl

Only the standard library; hone_job.transformers holds the Trainer callback.
"""

from __future__ import annotations

import os
from typing import Optional

from ._json import HoneJobError, NonFiniteWarning, read_json_file
from .job import (DIRECTIONS, KINDS, META_KEY, METRICS_FILE, RESULTS_FILE, SUMMARY_FILE, Input, Job,
                  read_summary)

__all__ = ["load", "Job", "Input", "HoneJobError", "NonFiniteWarning", "read_summary", "METRICS_FILE",
           "SUMMARY_FILE", "RESULTS_FILE", "META_KEY", "DIRECTIONS", "KINDS"]
__version__ = "0.1.0"

ENV = "HONE_JOB"


def load(path: Optional[str] = None, kind: Optional[str] = None) -> Job:
    """The job hone launched this handler for: job.json at `path`, default $HONE_JOB.

    `kind` ("run" or "eval"), when given, must be the job's kind: a run handler named by an eval fails
    here with a clear message instead of later with a KeyError. Errors are HoneJobError, naming the file."""
    if path is None:
        path = os.environ.get(ENV)
        if not path:
            raise HoneJobError(f"{ENV} is not set: hone passes the job file in ${ENV} "
                               f"(to run a handler by hand: {ENV}=path/to/job.json python handler.py)")
    data = read_json_file(path, "job file")
    if not isinstance(data, dict):
        raise HoneJobError(f"{path}: job file must be a JSON object, found {type(data).__name__}")
    job = Job(data, path)
    if kind is not None and job.kind != kind:
        raise HoneJobError(f"{path}: this handler runs {kind} jobs, but the job's kind is {job.kind or 'missing'!r}")
    return job
