#!/usr/bin/env python3
"""Pretrain the quickstart's base model: artifacts/tiny-char-v1.npz.

The model (see handlers/common.py) is a character-level language model in
pure numpy: 16 characters of context -> 16-dim character embeddings -> one
tanh hidden layer of 256 units -> softmax over 96 characters (newline plus
printable ASCII). About 92k parameters, ~350 KB on disk.

Its pretraining text is general English that ships with every Python: the
docstrings of a fixed list of standard-library modules (module, public
classes, their public methods, public functions), collected with `inspect`
in a fixed order and de-duplicated. Nothing is downloaded, and the text is
under the Python Software Foundation License, so the result is free to
redistribute. Docstrings change a little between Python releases; the
artifact in the repository was made with the Python version and corpus
digest recorded in its config (`python`, `corpus_sha256`).

    python3 tools/pretrain.py                  # ~3 minutes on one core
    python3 tools/pretrain.py --dump-corpus /tmp/corpus.txt --steps 0

Training: Adam, batch 256, learning rate 3e-3 with cosine decay to 1e-4,
seed 1234, the last 5% of the corpus held out for validation. The same
Python, numpy and seed give the same weights and the same file digest.

The artifact is committed; its sha256 is recorded in models/tiny-char/v1.yaml.
After re-running this script (which gives a new digest if anything changed),
do not edit v1: add models/tiny-char/v2.yaml -- hone versions are immutable.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import inspect
import json
import math
import os
import platform
import sys
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "handlers"))
import common  # noqa: E402

MODULES = [
    "abc", "argparse", "array", "ast", "asyncio", "base64", "bisect", "calendar", "cmd",
    "codecs", "collections", "configparser", "contextlib", "copy", "csv", "dataclasses",
    "datetime", "decimal", "difflib", "email.message", "enum", "filecmp", "fnmatch",
    "fractions", "ftplib", "functools", "getopt", "gettext", "glob", "gzip", "hashlib",
    "heapq", "hmac", "html.parser", "http.client", "http.server", "imaplib", "io",
    "ipaddress", "itertools", "json", "locale", "logging", "mailbox", "math", "mimetypes",
    "operator", "optparse", "os", "pathlib", "pickle", "platform", "pprint", "queue",
    "random", "re", "sched", "secrets", "selectors", "shelve", "shlex", "shutil",
    "smtplib", "socket", "socketserver", "sqlite3", "statistics", "string", "struct",
    "subprocess", "tarfile", "tempfile", "textwrap", "threading", "time", "timeit",
    "tokenize", "trace", "traceback", "typing", "unittest", "urllib.parse",
    "urllib.request", "uuid", "warnings", "wave", "weakref", "xml.dom.minidom",
    "zipfile", "zlib",
]


def collect_corpus() -> str:
    """Docstrings of MODULES, in a fixed order, each once."""
    seen, parts = set(), []

    def add(doc):
        if not isinstance(doc, str):
            return
        doc = inspect.cleandoc(doc).strip()
        if len(doc) < 40 or doc in seen:
            return
        seen.add(doc)
        parts.append(doc)

    warnings.simplefilter("ignore")  # e.g. typing.io's DeprecationWarning
    for name in MODULES:
        try:
            mod = importlib.import_module(name)
        except ImportError:  # a trimmed-down Python: skipped, shows in the digest
            print(f"  (skipping {name}: not importable)", file=sys.stderr)
            continue
        add(mod.__doc__)
        for attr in sorted(vars(mod)):
            if attr.startswith("_"):
                continue
            obj = vars(mod)[attr]
            if not (inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj)):
                continue
            add(getattr(obj, "__doc__", None))
            if inspect.isclass(obj):
                for meth in sorted(vars(obj)):
                    if not meth.startswith("_"):
                        add(getattr(vars(obj)[meth], "__doc__", None))
    return "\n\n".join(parts) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description="Pretrain artifacts/tiny-char-v1.npz")
    ap.add_argument("--out", default=os.path.join(ROOT, "artifacts", "tiny-char-v1.npz"))
    ap.add_argument("--steps", type=int, default=60000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--dump-corpus", metavar="PATH", help="also write the pretraining text here")
    args = ap.parse_args()

    text = collect_corpus()
    corpus_sha = hashlib.sha256(text.encode()).hexdigest()
    print(f"corpus: {len(MODULES)} modules, {len(text)} chars, sha256 {corpus_sha}")
    if args.dump_corpus:
        with open(args.dump_corpus, "w", encoding="utf-8") as f:
            f.write(text)
    if args.steps <= 0:
        return 0

    ids = common.encode(text)
    split = int(len(ids) * 0.95)
    rng = np.random.default_rng(args.seed)
    model = common.init_model(rng, context=16, embed=16, hidden=256)
    C = model["config"]["context"]
    X = common.windows(ids, C)
    train_n = split
    vx, vy = X[split:], ids[split:]
    sub = np.random.default_rng(0).choice(len(vy), size=min(20000, len(vy)), replace=False)
    vx_s, vy_s = vx[sub], vy[sub]
    print(f"model: {sum(model[k].size for k in common.PARAM_NAMES)} parameters; "
          f"train {train_n} chars, val {len(vy)} chars")

    opt = common.Adam(model, args.lr)
    t0, running = time.time(), []
    min_lr = 1e-4
    for step in range(1, args.steps + 1):
        idx = rng.integers(0, train_n, args.batch)
        lr = min_lr + 0.5 * (args.lr - min_lr) * (1 + math.cos(math.pi * step / args.steps))
        loss, grads = common.loss_and_grads(model, X[idx], ids[idx])
        opt.step(model, grads, lr=lr)
        running.append(loss)
        if step % 2000 == 0 or step == args.steps:
            vl = common.mean_loss(model, vx_s, vy_s)
            print(f"step {step:6d}  loss {np.mean(running):.4f}  val_loss {vl:.4f}  "
                  f"lr {lr:.2e}  {time.time() - t0:.0f}s", flush=True)
            running = []

    lls, hits = common.log_likelihoods(model, vx, vy)
    val = {"val_loss": round(float(-lls.mean()), 4), "val_accuracy": round(float(hits.mean()), 4)}
    print(f"held-out docstrings: loss {val['val_loss']} (perplexity "
          f"{math.exp(val['val_loss']):.2f}), next-char accuracy {val['val_accuracy']}")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    common.save_model(args.out, model, {
        "made_by": "tools/pretrain.py",
        "corpus": "Python standard-library docstrings",
        "corpus_chars": len(text),
        "corpus_sha256": corpus_sha,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "steps": args.steps, "batch": args.batch, "lr": args.lr, "seed": args.seed,
        **val,
    })
    with open(args.out, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    shown = os.path.relpath(args.out, ROOT)
    print(f"wrote {args.out if shown.startswith('..') else shown} ({os.path.getsize(args.out)} bytes)")
    print(f"sha256: {digest}   (goes into models/tiny-char/<version>.yaml)")
    print(json.dumps({"seconds": round(time.time() - t0, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
