"""Every version file's `uri` exists and matches its `sha256`, and the
committed corpus is what tools/make_corpus.py makes.

Reads the YAML with a few regular expressions (the version files are flat
`key: value` maps), so it needs nothing beyond the standard library.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

VERSION_KINDS = {"models": "ModelVersion", "datasets": "DatasetVersion", "runtimes": "RuntimeVersion"}


def fields(path):
    out = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"^([A-Za-z][A-Za-z0-9]*):\s*(.*?)\s*(#.*)?$", line)
            if m:
                out[m.group(1)] = m.group(2).strip().strip('"').strip("'")
    return out


def version_files():
    files = []
    for top in VERSION_KINDS:
        files += sorted(glob.glob(os.path.join(ROOT, top, "*", "*.yaml")))
    return [os.path.relpath(f, ROOT) for f in files]


def test_there_are_version_files():
    assert set(version_files()) >= {
        "models/tiny-char/v1.yaml", "datasets/tickets/v1.yaml",
        "datasets/tickets-val/v1.yaml", "datasets/tickets-test/v1.yaml", "runtimes/numpy/v1.yaml"}


@pytest.mark.parametrize("rel", version_files())
def test_kind_matches_place(rel):
    assert fields(os.path.join(ROOT, rel)).get("kind") == VERSION_KINDS[rel.split("/")[0]]


@pytest.mark.parametrize("rel", [f for f in version_files() if not f.startswith("runtimes/")])
def test_uri_digest_matches(rel):
    spec = fields(os.path.join(ROOT, rel))
    uri, digest = spec.get("uri"), spec.get("sha256")
    assert uri and digest, f"{rel}: needs uri and sha256"
    assert not os.path.isabs(uri) and "://" not in uri, f"{rel}: the example keeps its files in the repository"
    path = os.path.join(ROOT, uri)
    assert os.path.isfile(path), f"{rel}: uri {uri} does not exist"
    with open(path, "rb") as f:
        actual = hashlib.sha256(f.read()).hexdigest()
    assert actual == digest, f"{rel}: sha256 of {uri} is {actual}, the file says {digest}"
    assert os.path.getsize(path) < 500_000, f"{uri} is too big to commit"


def test_model_records_how_it_was_made():
    sys.path.insert(0, os.path.join(ROOT, "handlers"))
    try:
        import common
        model = common.load_model(os.path.join(ROOT, "artifacts", "tiny-char-v1.npz"))
    finally:
        sys.path.pop(0)
    cfg = model["config"]
    assert cfg["made_by"] == "tools/pretrain.py"
    assert re.fullmatch(r"[0-9a-f]{64}", cfg["corpus_sha256"])


def test_test_set_rows():
    with open(os.path.join(ROOT, "data", "tickets-test.jsonl")) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    assert 100 <= len(rows) <= 200
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"t\d{4}", i) and r["text"] for i, r in zip(ids, rows))


def test_splits_do_not_overlap():
    with open(os.path.join(ROOT, "data", "tickets-train.txt")) as f:
        train = f.read()
    with open(os.path.join(ROOT, "data", "tickets-test.jsonl")) as f:
        for line in f:
            body = json.loads(line)["text"].split("\n", 1)[1]
            assert body not in train


def test_corpus_is_reproducible():
    proc = subprocess.run([sys.executable, "tools/make_corpus.py", "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
