"""The job contract from the handler's side (specs/handler-kit.md): read job.json, write metrics.jsonl,
summary.json and results.jsonl into outputDir."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional

from ._json import HoneJobError, clean, dumps, read_json_file, write_atomically

METRICS_FILE = "metrics.jsonl"
SUMMARY_FILE = "summary.json"
RESULTS_FILE = "results.jsonl"
# The one reserved key of summary.json: annotations of the metrics beside it (specs/handler-kit.md).
META_KEY = "_meta"
DIRECTIONS = ("min", "max")
KINDS = ("metric", "count", "info")
# Fallback folder for checkpoints when job.json names no checkpointDir: beside job.json, in the job's
# own directory (kept for the attempt, never collected: only outputDir is).
FALLBACK_CHECKPOINT_FOLDER = "checkpoints"
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


@dataclass(frozen=True)
class Input:
    """A version the job reads: `path` is a file or a folder, already verified against `digest` by hone."""

    role: str  # the job.json key: baseModel, trainDataset, validationDataset, model, dataset
    name: str
    version: str
    path: str
    digest: Optional[str]
    base: Optional["Input"] = None  # an adapter's base model, when job.json carries it
    from_run: Optional[str] = None  # an eval of a run's draft output: the run

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def is_dir(self) -> bool:
        return os.path.isdir(self.path)


class Job:
    """One job as job.json describes it. Build it with hone_job.load()."""

    def __init__(self, data: Mapping[str, Any], path: str):
        self.path = path
        self.data = dict(data)
        self.kind: str = _string(data, "kind", path, required=False) or ""
        self.object: str = _string(data, "object", path, required=False) or ""
        self.id: str = _string(data, "id", path, required=False) or ""
        attempt = data.get("attempt", 0)
        if isinstance(attempt, bool) or not isinstance(attempt, int):
            raise HoneJobError(f"{path}: \"attempt\" must be a whole number, found {attempt!r}")
        self.attempt: int = attempt
        params = data.get("params", {})
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise HoneJobError(f"{path}: \"params\" must be an object, found {type(params).__name__}")
        self.params: dict = params
        out = _string(data, "outputDir", path, required=True)
        self.output_dir: str = out if os.path.isabs(out) else os.path.join(os.path.dirname(os.path.abspath(path)), out)
        ckpt = _string(data, "checkpointDir", path, required=False)
        if ckpt is None:
            ckpt = os.path.join(os.path.dirname(os.path.abspath(path)), FALLBACK_CHECKPOINT_FOLDER)
        elif not os.path.isabs(ckpt):
            ckpt = os.path.join(os.path.dirname(os.path.abspath(path)), ckpt)
        self._checkpoint_dir = ckpt
        self.inputs: dict = _inputs(data, path)

    def __repr__(self) -> str:
        return f"Job({self.kind or '?'} {self.object or '?'}, attempt {self.attempt}, {self.path})"

    # ---------------------------------------------------------------- reading

    def input(self, role: str) -> Input:
        """The input named `role` in job.json (`baseModel`, `trainDataset`, `model`, ...)."""
        if role not in self.inputs:
            have = ", ".join(sorted(self.inputs)) or "none"
            raise HoneJobError(f"{self.path}: no input \"{role}\" in this {self.kind or 'job'} (inputs: {have})")
        return self.inputs[role]

    def param(self, name: str, default: Any = None, type: Any = None) -> Any:
        """params[name], or `default` when absent; with `type` (int, float, str, bool) checked and converted:
        an int param accepts 3 and 3.0, never True or 3.5; a float accepts any number."""
        if name not in self.params or self.params[name] is None:
            return default
        value = self.params[name]
        if type is None:
            return value
        bad = HoneJobError(f"{self.path}: params.{name} must be {_type_word(type)}, found {value!r}")
        if type is bool:
            if not isinstance(value, bool):
                raise bad
            return value
        if isinstance(value, bool):
            raise bad
        if type is int:
            if isinstance(value, int):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise bad
        if type is float:
            if isinstance(value, (int, float)):
                return float(value)
            raise bad
        if type is str:
            if isinstance(value, str):
                return value
            raise bad
        try:
            return type(value)
        except (TypeError, ValueError):
            raise bad from None

    @property
    def checkpoint_dir(self) -> str:
        """Where checkpoints go: job.json's checkpointDir, else the folder `checkpoints` beside job.json.
        Outside outputDir, so never stored or published; kept for resuming the same attempt. Created here."""
        os.makedirs(self._checkpoint_dir, exist_ok=True)
        return self._checkpoint_dir

    def latest_checkpoint(self) -> Optional[str]:
        """The newest `checkpoint-<step>` folder in checkpoint_dir (for Trainer.train(resume_from_checkpoint=…)),
        or None on a first start."""
        try:
            names = os.listdir(self._checkpoint_dir)
        except FileNotFoundError:
            return None
        steps = [(int(m.group(1)), n) for n in names if (m := _CHECKPOINT.match(n))
                 and os.path.isdir(os.path.join(self._checkpoint_dir, n))]
        return os.path.join(self._checkpoint_dir, max(steps)[1]) if steps else None

    def output(self, *parts: str) -> str:
        """A path inside outputDir (the folder is created)."""
        os.makedirs(self.output_dir, exist_ok=True)
        return os.path.join(self.output_dir, *parts)

    # ---------------------------------------------------------------- writing

    def log(self, step: Optional[int] = None, **metrics: Any) -> dict:
        """Append one point of the training curve to metrics.jsonl and flush it (hone commits the file;
        `hone report` charts every numeric key against "step"). NaN and infinities are written as null,
        with a warning. Returns the row written."""
        where = self.output(METRICS_FILE)
        row: dict = {}
        if step is not None:
            value = clean(step, where, "step") if not isinstance(step, (str, Mapping, list)) else None
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise HoneJobError(f"{where}: step must be a number, found {step!r}")
            row["step"] = value
        for key, value in metrics.items():
            row[key] = clean(value, where, key)
        append_line(where, dumps(row))
        return row

    def summary(self, metrics: Mapping[str, Any], meta: Optional[Mapping[str, Mapping[str, str]]] = None) -> dict:
        """Write summary.json: `metrics` flat at the top (what hone records as the status's metrics, what
        gates and views read), and `meta` ({name: {"direction": "min"|"max", "kind": "metric"|"count"|"info"}})
        under the reserved key "_meta". Replaces an earlier summary. Returns the document written."""
        where = self.output(SUMMARY_FILE)
        doc = summary_document(metrics, meta, where)
        write_atomically(where, dumps(doc, indent=2, sort_keys=True) + "\n")
        return doc

    def update_summary(self, metrics: Mapping[str, Any], meta: Optional[Mapping[str, Mapping[str, str]]] = None) -> dict:
        """Like summary(), keeping the metrics (and annotations) of an earlier summary.json that these do not
        replace: the Trainer callback writes the training figures, the handler adds its own after."""
        where = self.output(SUMMARY_FILE)
        old_metrics, old_meta = read_summary(where) if os.path.exists(where) else ({}, {})
        merged_meta = {**old_meta, **(meta or {})}
        merged = {**old_metrics, **metrics}
        doc = summary_document(merged, {k: v for k, v in merged_meta.items() if k in merged}, where)
        write_atomically(where, dumps(doc, indent=2, sort_keys=True) + "\n")
        return doc

    def results(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Write results.jsonl, one object per row, each with a unique "id" (hone joins evals' rows by it).
        Checked whole before the file is replaced; returns the number of rows."""
        where = self.output(RESULTS_FILE)
        lines, seen = [], {}
        for i, row in enumerate(rows):
            if not isinstance(row, Mapping):
                raise HoneJobError(f"{where}: row {i} is a {type(row).__name__}, not a mapping")
            if "id" not in row or row["id"] is None:
                raise HoneJobError(f"{where}: row {i} has no \"id\" (hone compares evals row by row through it)")
            rid = row["id"]
            if not isinstance(rid, (str, int)) or isinstance(rid, bool):
                raise HoneJobError(f"{where}: row {i}: \"id\" must be a string or a whole number, found {rid!r}")
            if rid in seen:
                raise HoneJobError(f"{where}: rows {seen[rid]} and {i} have the same id {rid!r}")
            seen[rid] = i
            lines.append(dumps(clean(dict(row), where, f"row {i}")))
        write_atomically(where, "".join(line + "\n" for line in lines))
        return len(lines)


# -------------------------------------------------------------------- summary.json


def summary_document(metrics: Mapping[str, Any], meta: Optional[Mapping[str, Mapping[str, str]]], where: str) -> dict:
    """The summary.json object for `metrics` and their annotations, checked (see Job.summary)."""
    if not isinstance(metrics, Mapping):
        raise HoneJobError(f"{where}: the summary's metrics must be a mapping, found {type(metrics).__name__}")
    doc: dict = {}
    for key, value in metrics.items():
        if not isinstance(key, str) or not key:
            raise HoneJobError(f"{where}: metric name {key!r} is not a non-empty string")
        if key.startswith("_"):
            raise HoneJobError(f"{where}: metric \"{key}\": names starting with \"_\" are reserved for hone")
        doc[key] = clean(value, where, key)
    if meta:
        checked = {}
        for key, entry in meta.items():
            if key not in doc:
                raise HoneJobError(f"{where}: _meta names \"{key}\", which is not a metric of this summary "
                                   f"(metrics: {', '.join(sorted(doc)) or 'none'})")
            checked[key] = _meta_entry(entry, key, where)
        doc[META_KEY] = checked
    return doc


def read_summary(path: str) -> tuple:
    """(metrics, meta) of a summary.json written in either form: flat metrics (what every handler wrote
    before the kit), or flat metrics with "_meta"."""
    doc = read_json_file(path, "summary.json")
    if not isinstance(doc, dict):
        raise HoneJobError(f"{path}: summary.json must be a JSON object, found {type(doc).__name__}")
    meta = doc.get(META_KEY) or {}
    if not isinstance(meta, dict):
        raise HoneJobError(f"{path}: \"{META_KEY}\" must be an object, found {type(meta).__name__}")
    return {k: v for k, v in doc.items() if k != META_KEY}, meta


def _meta_entry(entry: Any, key: str, where: str) -> dict:
    if not isinstance(entry, Mapping):
        raise HoneJobError(f"{where}: _meta.{key} must be a mapping like {{\"direction\": \"min\"}}, found {entry!r}")
    unknown = sorted(set(entry) - {"direction", "kind", "unit"})
    if unknown:
        raise HoneJobError(f"{where}: _meta.{key}: unknown field \"{unknown[0]}\" (fields: direction, kind, unit)")
    kind = entry.get("kind", "metric")
    if kind not in KINDS:
        raise HoneJobError(f"{where}: _meta.{key}.kind must be one of {', '.join(KINDS)}, found {kind!r}")
    out = {"kind": kind}
    if "direction" in entry:
        direction = entry["direction"]
        if direction not in DIRECTIONS:
            raise HoneJobError(f"{where}: _meta.{key}.direction must be min or max, found {direction!r}")
        if kind != "metric":
            raise HoneJobError(f"{where}: _meta.{key}: a {kind} has no direction (only kind metric is ranked)")
        out["direction"] = direction
    if "unit" in entry:
        if not isinstance(entry["unit"], str):
            raise HoneJobError(f"{where}: _meta.{key}.unit must be a string, found {entry['unit']!r}")
        out["unit"] = entry["unit"]
    return out


# -------------------------------------------------------------------- helpers


def append_line(path: str, line: str) -> None:
    """One whole line appended and flushed (one write: a reader sees it whole or not at all)."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush()


def _string(data: Mapping, key: str, path: str, required: bool) -> Optional[str]:
    value = data.get(key)
    if value is None:
        if required:
            raise HoneJobError(f"{path}: missing \"{key}\" (hone writes it into every job.json)")
        return None
    if not isinstance(value, str) or (required and not value):
        raise HoneJobError(f"{path}: \"{key}\" must be a non-empty string, found {value!r}")
    return value


def _input(obj: Any, role: str, path: str) -> Input:
    if not isinstance(obj, dict):
        raise HoneJobError(f"{path}: \"{role}\" must be an object with name, version and path, found {obj!r}")
    for key in ("name", "version", "path"):
        if not isinstance(obj.get(key), str) or not obj.get(key):
            raise HoneJobError(f"{path}: \"{role}.{key}\" must be a non-empty string, found {obj.get(key)!r}")
    base_obj = obj.get("base", obj.get("baseModel"))
    base = _input(base_obj, f"{role}.base", path) if base_obj is not None else None
    digest = obj.get("sha256", obj.get("digest"))
    return Input(role=role, name=obj["name"], version=obj["version"], path=obj["path"],
                 digest=digest if isinstance(digest, str) else None, base=base,
                 from_run=obj.get("fromRun") if isinstance(obj.get("fromRun"), str) else None)


# Inputs by role; a model being evaluated may carry its base nested ("model.base"), or the eval's job.json a
# top-level "baseModel" (the base of the run whose output it evaluates).
_ROLES = ("baseModel", "trainDataset", "validationDataset", "model", "dataset")


def _inputs(data: Mapping, path: str) -> dict:
    inputs = {role: _input(data[role], role, path) for role in _ROLES if data.get(role) is not None}
    model, base = inputs.get("model"), inputs.get("baseModel")
    if model is not None and model.base is None and base is not None:
        inputs["model"] = Input(role=model.role, name=model.name, version=model.version, path=model.path,
                                digest=model.digest, base=base, from_run=model.from_run)
    return inputs


def _type_word(t: Any) -> str:
    return {int: "a whole number", float: "a number", str: "a string", bool: "true or false"}.get(t, t.__name__)
