import json
import os
import sys

import pytest

# The tests run against this checkout's kit, installed or not.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def job_file(tmp_path, monkeypatch):
    """Writes a job.json like hone's (a run unless fields say otherwise) and points HONE_JOB at it."""

    def write(**fields):
        data = {
            "kind": "run", "object": "support/lora-r8", "id": "j-1", "attempt": 0,
            "params": {"lr": 0.001, "epochs": 2},
            "baseModel": {"name": "tiny-gpt", "version": "v1", "path": str(tmp_path / "base"), "sha256": "ab" * 32},
            "trainDataset": {"name": "docs", "version": "v1", "path": str(tmp_path / "train.txt"), "sha256": "cd" * 32},
            "outputDir": str(tmp_path / "out"),
        }
        data.update(fields)
        data = {k: v for k, v in data.items() if v is not None}
        path = tmp_path / "job.json"
        path.write_text(json.dumps(data))
        (tmp_path / "out").mkdir(exist_ok=True)
        monkeypatch.setenv("HONE_JOB", str(path))
        return path

    return write


def lines(path):
    """The JSON objects of a JSON-lines file, parsed strictly (NaN is not JSON)."""
    def no_constants(name):
        raise AssertionError(f"{path}: {name} is not JSON")
    with open(path) as f:
        return [json.loads(line, parse_constant=no_constants) for line in f if line.strip()]


def strict(path):
    def no_constants(name):
        raise AssertionError(f"{path}: {name} is not JSON")
    with open(path) as f:
        return json.loads(f.read(), parse_constant=no_constants)
