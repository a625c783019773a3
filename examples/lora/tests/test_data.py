"""The task data is what tools/make_data.py makes, and its splits share no question (standard library only)."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rows(name):
    with open(os.path.join(ROOT, "data", name)) as f:
        return [json.loads(line) for line in f if line.strip()]


def test_data_is_reproducible():
    proc = subprocess.run([sys.executable, "tools/make_data.py", "--check"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_splits_share_no_question_and_ids_are_unique():
    splits = {name: rows(name) for name in ("train.jsonl", "val.jsonl", "test.jsonl")}
    assert [len(splits[n]) for n in ("train.jsonl", "val.jsonl", "test.jsonl")] == [240, 48, 96]
    prompts = [set(r["prompt"] for r in rs) for rs in splits.values()]
    assert not (prompts[0] & prompts[1]) and not (prompts[0] & prompts[2]) and not (prompts[1] & prompts[2])
    ids = [r["id"] for rs in splits.values() for r in rs]
    assert len(ids) == len(set(ids))
    # every answer of the test set is taught by the training set
    assert {r["answer"] for r in splits["test.jsonl"]} <= {r["answer"] for r in splits["train.jsonl"]}
