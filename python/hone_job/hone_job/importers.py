"""Training curves written by third-party trainers, turned into hone's metrics.jsonl (one JSON object per
point, "step" plus numbers), for handlers that drive a CLI such as `llamafactory-cli train` or `tune run`:

    python -m hone_job import llamafactory  saves/run/trainer_log.jsonl
    python -m hone_job import torchtune     logs/log_1718000000.jsonl
    python -m hone_job import trainer-state saves/run/checkpoint-500/trainer_state.json

Each reader returns the rows; write_metrics() writes them (NaN and infinities as null, with a warning).
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Optional

from ._json import HoneJobError, clean, dumps, read_json_file, read_json_lines, write_atomically

# LLaMA-Factory's LogCallback.on_log (src/llamafactory/train/callbacks.py) appends one object per log to
# trainer_log.jsonl: current_steps, total_steps, loss, eval_loss, predict_loss, reward, accuracy, lr, epoch,
# percentage, elapsed_time and remaining_time ("H:MM:SS" text), and with token counting throughput and
# total_tokens (None values dropped). During prediction it writes progress-only lines every 5 steps.
LLAMAFACTORY_PROGRESS = ("current_steps", "total_steps", "percentage", "elapsed_time", "remaining_time")


def read_llamafactory(path: str) -> list:
    """Points of a LLaMA-Factory trainer_log.jsonl: step = current_steps; the progress fields are dropped,
    and so are lines that hold nothing else."""
    rows = []
    for n, obj in read_json_lines(path, "LLaMA-Factory trainer log"):
        if not isinstance(obj, dict):
            raise HoneJobError(f"{path}:{n}: a trainer_log.jsonl line must be an object, found {type(obj).__name__}")
        step = obj.get("current_steps")
        if not _number(step):
            raise HoneJobError(f"{path}:{n}: no \"current_steps\" number: not a LLaMA-Factory trainer_log.jsonl line")
        values = {k: v for k, v in obj.items() if k not in LLAMAFACTORY_PROGRESS and _number(v)}
        if values:
            rows.append({"step": step, **values})
    return rows


# torchtune's DiskLogger (torchtune/training/metric_logging.py) with output_fmt="jsonl" writes
# {"step": N, name: value} per log() call and {"step": N, **payload} per log_dict(); tensors through
# .tolist(), anything else json cannot write through str(). With the default output_fmt="txt" the same
# calls write "Step N | name:value" and "Step N | name:value name:value " lines.
_TXT_LINE = re.compile(r"^Step (\d+) \| (.*)$")


def read_torchtune(path: str) -> list:
    """Points of a torchtune DiskLogger file, JSON lines or text; consecutive lines of one step (log() calls)
    become one point. Values that are not numbers (text, non-scalar tensors) are left out."""
    with open(path, encoding="utf-8") as f:
        first = next((line for line in f if line.strip()), "")
    raw = _torchtune_text(path) if first.startswith("Step ") else _torchtune_jsonl(path)
    rows: list = []
    for step, values in raw:
        values = {k: v for k, v in ((k, _as_number(v)) for k, v in values.items()) if v is not None}
        if not values:
            continue
        if rows and rows[-1]["step"] == step:
            rows[-1].update(values)
        else:
            rows.append({"step": step, **values})
    return rows


def _torchtune_jsonl(path: str) -> list:
    out = []
    for n, obj in read_json_lines(path, "torchtune log"):
        if not isinstance(obj, dict) or not _number(obj.get("step")):
            raise HoneJobError(f"{path}:{n}: a torchtune DiskLogger line is an object with a \"step\" number")
        out.append((obj["step"], {k: v for k, v in obj.items() if k != "step"}))
    return out


def _torchtune_text(path: str) -> list:
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            m = _TXT_LINE.match(line.rstrip("\n"))
            if not m:
                raise HoneJobError(f"{path}:{n}: not a torchtune DiskLogger line (\"Step N | name:value ...\")")
            values = {}
            for pair in m.group(2).split():
                name, sep, value = pair.rpartition(":")
                if sep and name:
                    values[name] = value
            out.append((int(m.group(1)), values))
    return out


# transformers' Trainer keeps every log in TrainerState.log_history and writes it into each checkpoint's
# trainer_state.json: {"global_step", "log_history": [{"loss", "grad_norm", "learning_rate", "epoch", "step"},
# {"eval_loss", "eval_runtime", ..., "step"}, ..., {"train_runtime", "train_loss", "total_flos", "step"}]}.


def read_trainer_state(path: str) -> list:
    """Points of a trainer_state.json's log_history; the run's totals (the entry with train_runtime) are not
    a point: trainer_state_totals() returns them."""
    return [row for row in _log_history(path) if "train_runtime" not in row]


def trainer_state_totals(path: str) -> dict:
    """The totals entry of a trainer_state.json (train_loss, train_runtime, ...), {} when training never ended."""
    totals = [row for row in _log_history(path) if "train_runtime" in row]
    return {k: v for k, v in totals[-1].items() if k != "step"} if totals else {}


def _log_history(path: str) -> list:
    state = read_json_file(path, "trainer_state.json")
    history = state.get("log_history") if isinstance(state, dict) else None
    if not isinstance(history, list):
        raise HoneJobError(f"{path}: no \"log_history\" list: not a transformers trainer_state.json")
    rows = []
    for i, entry in enumerate(history):
        if not isinstance(entry, dict) or not _number(entry.get("step")):
            raise HoneJobError(f"{path}: log_history[{i}] is not an object with a \"step\" number")
        rows.append({"step": entry["step"], **{k: v for k, v in entry.items() if k != "step" and _number(v)}})
    return rows


# How the figures transformers' Trainer reports read in summary.json (specs/handler-kit.md).
TRAINER_META = {
    "train_loss": {"direction": "min", "kind": "metric"},
    "eval_loss": {"direction": "min", "kind": "metric"},
    "train_runtime": {"kind": "info", "unit": "s"},
    "train_samples_per_second": {"kind": "info"},
    "train_steps_per_second": {"kind": "info"},
    "total_flos": {"kind": "count"},
    "steps": {"kind": "count"},
    "epoch": {"kind": "count"},
}


READERS = {"llamafactory": read_llamafactory, "torchtune": read_torchtune, "trainer-state": read_trainer_state}


def write_metrics(rows: Iterable[Mapping[str, Any]], path: str, append: bool = False) -> int:
    """Write rows as metrics.jsonl (replacing the file, or appended to it); returns how many."""
    lines = [dumps(clean(dict(row), path, f"step {row.get('step')}")) for row in rows]
    text = "".join(line + "\n" for line in lines)
    if append:
        with open(path, "a", encoding="utf-8") as f:
            f.write(text)
    else:
        write_atomically(path, text)
    return len(lines)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _as_number(v: Any) -> Optional[float]:
    """A logged value as a number: numbers as they are (NaN kept for clean() to report), numeric text
    (str() of a numpy scalar, or the text format) parsed, one-element lists (a 0-d tensor's tolist()) unwrapped."""
    if _number(v):
        return v
    if isinstance(v, list) and len(v) == 1:
        return _as_number(v[0])
    if isinstance(v, str):
        text = v.strip()
        m = re.fullmatch(r"tensor\((.*?)(, .*)?\)", text)  # str() of a torch tensor
        if m:
            text = m.group(1)
        try:
            number = float(text)
        except ValueError:
            return None
        return int(number) if re.fullmatch(r"-?\d+", text) else number
    return None

