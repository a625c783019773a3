#!/usr/bin/env python3
"""Pretrain the LoRA example's base model: artifacts/tiny-gpt/ (a Hugging Face model folder).

The model is a GPT-2-architecture causal LM (transformers' GPT2LMHeadModel): 2 layers, 2 heads, 64-dim
embeddings, 128 positions, about 125k parameters (~0.5 MB of float32 in model.safetensors). It reads bytes:
its tokenizer is transformers' ByT5Tokenizer without extra ids (token = byte + 3; 0 <pad>, 1 </s>, 2 <unk>;
259 ids), which is pure Python and saved as tokenizer_config.json, so nothing is downloaded to load it:

    AutoTokenizer.from_pretrained("artifacts/tiny-gpt"); AutoModelForCausalLM.from_pretrained("artifacts/tiny-gpt")

Its pretraining text is English that ships with every Python: the docstrings of a fixed list of standard
library modules (under the Python Software Foundation License), collected with `inspect` in a fixed order,
each once, separated by </s>. The last 5% is held out for the validation loss.

Byte for byte reproducible: fixed seeds, one thread, deterministic algorithms, no timestamps in the files.
The same Python (docstrings change between releases), torch and transformers give the same sha256 of every
file; pretrain.json records them with the corpus digest.

    python tools/pretrain.py                 # about a minute on one core; writes artifacts/tiny-gpt/
    python tools/pretrain.py --check         # train again into a temporary folder, compare every file
    python tools/pretrain.py --steps 0 --dump-corpus /tmp/corpus.txt

Run it in the ML venv (scripts/ml-venv.sh: torch 2.13.0+cpu, transformers 5.25.0).
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
import shutil
import sys
import tempfile
import time
import warnings

# One thread before torch loads: the same sums in the same order on every machine.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import ByT5Tokenizer, GPT2Config, GPT2LMHeadModel  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_OUT = os.path.join(ROOT, "artifacts", "tiny-gpt")
OFFSET = 3  # ByT5: ids 0-2 are <pad>, </s>, <unk>; byte b is id b + 3
PAD, EOS = 0, 1
VOCAB = 256 + OFFSET
BLOCK = 128

MODULES = [
    "abc", "argparse", "array", "ast", "asyncio", "base64", "bisect", "calendar", "cmd", "codecs",
    "collections", "configparser", "contextlib", "copy", "csv", "dataclasses", "datetime", "decimal",
    "difflib", "email.message", "enum", "filecmp", "fnmatch", "fractions", "functools", "getopt", "gettext",
    "glob", "gzip", "hashlib", "heapq", "hmac", "html.parser", "http.client", "http.server", "imaplib", "io",
    "ipaddress", "itertools", "json", "locale", "logging", "mailbox", "math", "mimetypes", "operator",
    "optparse", "os", "pathlib", "pickle", "platform", "pprint", "queue", "random", "re", "sched",
    "secrets", "selectors", "shelve", "shlex", "shutil", "smtplib", "socket", "socketserver", "sqlite3",
    "statistics", "string", "struct", "subprocess", "tarfile", "tempfile", "textwrap", "threading", "time",
    "timeit", "tokenize", "trace", "traceback", "typing", "unittest", "urllib.parse", "urllib.request",
    "uuid", "warnings", "wave", "weakref", "xml.dom.minidom", "zipfile", "zlib",
]


def docstrings(module_names=MODULES):
    """(module, docstring) of each module, its public classes and their public methods, its public
    functions: in a fixed order, each text once, at least 40 characters."""
    seen, out = set(), []

    def add(module, doc):
        if not isinstance(doc, str):
            return
        doc = inspect.cleandoc(doc).strip()
        if len(doc) >= 40 and doc not in seen:
            seen.add(doc)
            out.append((module, doc))

    warnings.simplefilter("ignore")  # e.g. DeprecationWarnings of old aliases
    for name in module_names:
        try:
            mod = importlib.import_module(name)
        except ImportError:  # a trimmed-down Python: shows in the corpus digest
            print(f"  (skipping {name}: not importable)", file=sys.stderr)
            continue
        add(name, mod.__doc__)
        for attr in sorted(vars(mod)):
            obj = vars(mod)[attr]
            if attr.startswith("_") or not (inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj)):
                continue
            add(name, getattr(obj, "__doc__", None))
            if inspect.isclass(obj):
                for meth in sorted(vars(obj)):
                    if not meth.startswith("_"):
                        add(name, getattr(vars(obj)[meth], "__doc__", None))
    return out


def encode(text: str) -> list:
    return [b + OFFSET for b in text.encode("utf-8")]


def corpus_ids(docs) -> list:
    ids = []
    for _, doc in docs:
        ids += encode(doc) + [EOS]
    return ids


def make_model(seed: int) -> GPT2LMHeadModel:
    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=VOCAB, n_positions=BLOCK, n_embd=64, n_layer=2, n_head=2,
                        bos_token_id=EOS, eos_token_id=EOS, pad_token_id=PAD,
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)  # too small to need dropout
    return GPT2LMHeadModel(config)


def mean_loss(model, data: torch.Tensor, blocks: int = 64) -> float:
    """Mean next-byte loss (nats) over up to `blocks` consecutive windows of `data`."""
    model.eval()
    total, n = 0.0, 0
    with torch.no_grad():
        for i in range(0, min(len(data) - 1, blocks * BLOCK), BLOCK):
            x = data[i:i + BLOCK].unsqueeze(0)
            if x.shape[1] < 2:
                break
            out = model(input_ids=x, labels=x)
            total += out.loss.item() * (x.shape[1] - 1)
            n += x.shape[1] - 1
    model.train()
    return total / max(n, 1)


def train(out_dir: str, steps: int, batch: int, lr: float, seed: int, quiet: bool = False) -> dict:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    docs = docstrings()
    text = "\n\n".join(doc for _, doc in docs)
    ids = torch.tensor(corpus_ids(docs), dtype=torch.long)
    split = int(len(ids) * 0.95)
    train_ids, val_ids = ids[:split], ids[split:]
    model = make_model(seed)
    params = sum(p.numel() for p in model.parameters())
    if not quiet:
        print(f"corpus: {len(docs)} docstrings of {len(MODULES)} modules, {len(ids)} bytes; "
              f"model: {params} parameters", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    gen = torch.Generator().manual_seed(seed)
    t0, running = time.time(), []
    for step in range(1, steps + 1):
        # cosine decay after 5% warm-up
        warm = max(1, steps // 20)
        f = step / warm if step <= warm else 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, steps - warm)))
        for g in opt.param_groups:
            g["lr"] = lr * max(f, 0.02)
        starts = torch.randint(0, len(train_ids) - BLOCK, (batch,), generator=gen)
        x = torch.stack([train_ids[s:s + BLOCK] for s in starts.tolist()])
        loss = model(input_ids=x, labels=x).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        running.append(loss.item())
        if not quiet and (step % 100 == 0 or step == steps):
            print(f"step {step:5d}  loss {sum(running) / len(running):.4f}  {time.time() - t0:.0f}s", flush=True)
            running = []
    val_loss = mean_loss(model, val_ids)
    record = {
        "made_by": "tools/pretrain.py",
        "corpus": "Python standard-library docstrings",
        "corpus_bytes": len(ids),
        "corpus_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "parameters": params,
        "steps": steps, "batch": batch, "block": BLOCK, "lr": lr, "seed": seed,
        "val_loss": round(val_loss, 4),
        "val_bits_per_byte": round(val_loss / math.log(2), 4),
    }
    save(model, out_dir, record)
    if not quiet:
        print(f"held-out docstrings: {val_loss:.4f} nats/byte ({record['val_bits_per_byte']} bits), "
              f"{time.time() - t0:.0f}s", flush=True)
    return record


def save(model, out_dir: str, record: dict) -> None:
    """The model folder, written whole into a temporary sibling and renamed into place."""
    tmp = out_dir.rstrip("/") + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    model.save_pretrained(tmp, safe_serialization=True)
    ByT5Tokenizer(extra_ids=0).save_pretrained(tmp)
    with open(os.path.join(tmp, "pretrain.json"), "w") as f:
        json.dump(record, f, indent=2, sort_keys=True)
        f.write("\n")
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)


def digests(folder: str) -> dict:
    out = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            out[name] = hashlib.sha256(f.read()).hexdigest()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description="Pretrain artifacts/tiny-gpt/ (see the module docstring)")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--steps", type=int, default=1400)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--check", action="store_true", help="train into a temporary folder and compare with --out")
    ap.add_argument("--dump-corpus", metavar="PATH", help="write the pretraining text here")
    args = ap.parse_args()
    if args.dump_corpus:
        with open(args.dump_corpus, "w", encoding="utf-8") as f:
            f.write("\n\n".join(doc for _, doc in docstrings()) + "\n")
    if args.steps <= 0:
        return 0
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            train(os.path.join(tmp, "m"), args.steps, args.batch, args.lr, args.seed)
            want, got = digests(args.out), digests(os.path.join(tmp, "m"))
        for name in sorted(set(want) | set(got)):
            same = "same" if want.get(name) == got.get(name) else "DIFFERS"
            print(f"{same:8s} {name}  {got.get(name, '(missing)')}")
        return 0 if want == got else 1
    train(args.out, args.steps, args.batch, args.lr, args.seed)
    for name, digest in digests(args.out).items():
        print(f"{digest}  {os.path.relpath(os.path.join(args.out, name), ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
