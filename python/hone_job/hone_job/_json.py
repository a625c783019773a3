"""Strict JSON for the files hone reads: never NaN or Infinity (Python's json writes them, and they are
not JSON), numpy/torch scalars as plain numbers, and an error naming the file and key for anything else."""

from __future__ import annotations

import json
import math
import os
import warnings
from typing import Any


class HoneJobError(Exception):
    """A problem with the job contract: a missing or malformed job.json, or a value hone cannot record."""


class NonFiniteWarning(UserWarning):
    """A NaN or infinite number was written as null."""


def clean(value: Any, where: str, key: str) -> Any:
    """`value` as plain JSON data: non-finite floats become None (with a warning naming `where` and `key`),
    objects with `.item()` (numpy, torch scalars) their Python number; anything else is an error."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        warnings.warn(f"{where}: {key} is {value}, written as null (JSON has no NaN or Infinity)",
                      NonFiniteWarning, stacklevel=4)
        return None
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise HoneJobError(f"{where}: key {k!r} in {key} is not a string")
            out[k] = clean(v, where, f"{key}.{k}")
        return out
    if isinstance(value, (list, tuple)):
        return [clean(v, where, f"{key}[{i}]") for i, v in enumerate(value)]
    item = getattr(value, "item", None)
    if callable(item):
        try:
            scalar = item()
        except (ValueError, RuntimeError, TypeError):
            scalar = value  # an array of several values: reported below
        if scalar is not value and isinstance(scalar, (bool, int, float)):
            return clean(float(scalar) if isinstance(scalar, float) else scalar, where, key)
    raise HoneJobError(f"{where}: {key} is a {type(value).__name__} ({value!r:.60}), not a number, string, "
                       f"boolean, list or mapping")


def dumps(obj: Any, **kw) -> str:
    """JSON text; allow_nan=False is the last guard (clean() has replaced every non-finite number)."""
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, **kw)


def write_atomically(path: str, text: str) -> None:
    """Write `text` to `path` through a temporary file and a rename: a reader (or a crash) never sees half."""
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json_file(path: str, what: str) -> Any:
    """Parse a JSON file; HoneJobError names the file (and line:column) when it is missing or malformed."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise HoneJobError(f"{path}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise HoneJobError(f"{path}: cannot read {what}: {e}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise HoneJobError(f"{path}:{e.lineno}:{e.colno}: {what} is not valid JSON: {e.msg}") from None


def read_json_lines(path: str, what: str) -> list:
    """Every non-blank line of a JSON-lines file, parsed (NaN and Infinity, which Python writes, are read
    as floats for clean() to report); HoneJobError names the file and line of a bad one."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        raise HoneJobError(f"{path}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise HoneJobError(f"{path}: cannot read {what}: {e}") from None
    rows = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append((n, json.loads(line)))
        except json.JSONDecodeError as e:
            raise HoneJobError(f"{path}:{n}:{e.colno}: {what}: line is not valid JSON: {e.msg}") from None
    return rows
