"""Shared model code for the quickstart handlers (numpy + stdlib only).

The model is a tiny character-level language model:

    context of CONTEXT previous characters
      -> character embedding (VOCAB x EMBED), concatenated
      -> one hidden layer, tanh (CONTEXT*EMBED x HIDDEN)
      -> softmax over the vocabulary (HIDDEN x VOCAB)

The vocabulary is fixed: newline plus printable ASCII (space .. '~'). A tab
becomes a space; any other character is mapped to FALLBACK. A text is always
read as if preceded by CONTEXT newlines, so the first characters of a text
are predicted from "start of text".

Weights are stored in an .npz file written byte-for-byte reproducibly (fixed
zip timestamps, sorted members), so the same seed gives the same sha256.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
import zipfile

import numpy as np

VOCAB = "\n" + "".join(chr(c) for c in range(32, 127))
FALLBACK = "?"
PAD = "\n"
FORMAT = "hone-tiny-char/1"

_INDEX = {ch: i for i, ch in enumerate(VOCAB)}
_TABLE = np.full(128, _INDEX[FALLBACK], dtype=np.int32)
for _ch, _i in _INDEX.items():
    _TABLE[ord(_ch)] = _i
_TABLE[ord("\t")] = _INDEX[" "]
_TABLE[ord("\r")] = _INDEX["\n"]


class InputError(Exception):
    """A problem with the job's inputs (missing file, bad value, ...)."""


# --------------------------------------------------------------------------
# text <-> ids


def encode(text: str) -> np.ndarray:
    """Characters -> int32 ids; unknown characters become FALLBACK."""
    if text.isascii():
        raw = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
        return _TABLE[raw]
    fb = _INDEX[FALLBACK]
    return np.array([_INDEX.get(" " if c == "\t" else c, fb) for c in text], dtype=np.int32)


def decode(ids) -> str:
    return "".join(VOCAB[int(i)] for i in ids)


def windows(ids: np.ndarray, context: int) -> np.ndarray:
    """All (context) windows preceding each position of `ids`, left-padded.

    Row i holds the `context` ids before ids[i]; target i is ids[i].
    """
    padded = np.concatenate([np.full(context, _INDEX[PAD], dtype=np.int32), ids])
    return np.lib.stride_tricks.sliding_window_view(padded, context)[: len(ids)]


# --------------------------------------------------------------------------
# model


def init_model(rng: np.random.Generator, context: int = 12, embed: int = 16, hidden: int = 192) -> dict:
    v = len(VOCAB)
    fan_in = context * embed
    return {
        "config": {"format": FORMAT, "context": context, "embed": embed, "hidden": hidden, "vocab": v},
        "E": (rng.standard_normal((v, embed)) * 0.5).astype(np.float32),
        "W1": (rng.standard_normal((fan_in, hidden)) / math.sqrt(fan_in)).astype(np.float32),
        "b1": np.zeros(hidden, dtype=np.float32),
        "W2": (rng.standard_normal((hidden, v)) / math.sqrt(hidden) * 0.5).astype(np.float32),
        "b2": np.zeros(v, dtype=np.float32),
    }


PARAM_NAMES = ("E", "W1", "b1", "W2", "b2")


def forward(model: dict, X: np.ndarray):
    """X: (B, context) ids -> (log-probabilities (B, V), cache for backward)."""
    E, W1, b1, W2, b2 = (model[k] for k in PARAM_NAMES)
    emb = E[X].reshape(X.shape[0], -1)  # (B, C*D)
    h = np.tanh(emb @ W1 + b1)  # (B, H)
    logits = h @ W2 + b2  # (B, V)
    logits = logits - logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return logp, (X, emb, h)


def log_likelihoods(model: dict, X: np.ndarray, Y: np.ndarray, chunk: int = 4096):
    """Per-position log p(y | context) and whether y was the top-1 guess."""
    lls = np.empty(len(Y), dtype=np.float64)
    hits = np.empty(len(Y), dtype=bool)
    for s in range(0, len(Y), chunk):
        logp, _ = forward(model, X[s : s + chunk])
        y = Y[s : s + chunk]
        lls[s : s + chunk] = logp[np.arange(len(y)), y]
        hits[s : s + chunk] = logp.argmax(axis=1) == y
    return lls, hits


def complete(model: dict, prompt: str, n: int = 80) -> str:
    """Greedy continuation of `prompt` (deterministic), for a look at the model in logs."""
    C = model["config"]["context"]
    ids = list(encode(prompt))
    for _ in range(n):
        ctx = ([_INDEX[PAD]] * C + ids)[-C:]
        logp, _ = forward(model, np.array([ctx], dtype=np.int32))
        ids.append(int(logp[0].argmax()))
    return decode(ids[len(prompt):])


def mean_loss(model: dict, X: np.ndarray, Y: np.ndarray) -> float:
    """Mean negative log-likelihood (nats per character)."""
    if len(Y) == 0:
        return float("nan")
    lls, _ = log_likelihoods(model, X, Y)
    return float(-lls.mean())


def loss_and_grads(model: dict, X: np.ndarray, Y: np.ndarray):
    """Mean cross-entropy of a batch and the gradients of every parameter."""
    logp, (X, emb, h) = forward(model, X)
    B = len(Y)
    loss = float(-logp[np.arange(B), Y].mean())
    dlogits = np.exp(logp)
    dlogits[np.arange(B), Y] -= 1.0
    dlogits /= B
    grads = {
        "W2": h.T @ dlogits,
        "b2": dlogits.sum(axis=0),
    }
    dh = (dlogits @ model["W2"].T) * (1.0 - h * h)
    grads["W1"] = emb.T @ dh
    grads["b1"] = dh.sum(axis=0)
    demb = (dh @ model["W1"].T).reshape(B, X.shape[1], -1)
    dE = np.zeros_like(model["E"])
    np.add.at(dE, X.reshape(-1), demb.reshape(-1, demb.shape[2]))
    grads["E"] = dE
    return loss, grads


class Adam:
    """Plain Adam, hand-written; state lives beside the model."""

    def __init__(self, model: dict, lr: float, beta1=0.9, beta2=0.999, eps=1e-8, clip=1.0):
        self.lr, self.b1, self.b2, self.eps, self.clip = lr, beta1, beta2, eps, clip
        self.t = 0
        self.m = {k: np.zeros_like(model[k]) for k in PARAM_NAMES}
        self.v = {k: np.zeros_like(model[k]) for k in PARAM_NAMES}

    def step(self, model: dict, grads: dict, lr: float | None = None):
        lr = self.lr if lr is None else lr
        # global-norm gradient clipping keeps large learning rates from blowing up
        norm = math.sqrt(sum(float((g * g).sum()) for g in grads.values()))
        scale = min(1.0, self.clip / (norm + 1e-12)) if self.clip else 1.0
        self.t += 1
        c1 = 1.0 - self.b1**self.t
        c2 = 1.0 - self.b2**self.t
        for k in PARAM_NAMES:
            g = grads[k] * scale
            self.m[k] = self.b1 * self.m[k] + (1.0 - self.b1) * g
            self.v[k] = self.b2 * self.v[k] + (1.0 - self.b2) * (g * g)
            update = (lr / c1) * self.m[k] / (np.sqrt(self.v[k] / c2) + self.eps)
            model[k] -= update.astype(np.float32)
        return norm


def batches(n: int, batch: int, rng: np.random.Generator):
    """One epoch: a shuffled pass over range(n) in batches (last one may be short)."""
    order = rng.permutation(n)
    for s in range(0, n, batch):
        yield order[s : s + batch]


# --------------------------------------------------------------------------
# files


def save_model(path: str, model: dict, extra_config: dict | None = None) -> None:
    """Write the model as .npz, reproducibly (same weights -> same bytes)."""
    config = dict(model["config"])
    if extra_config:
        config.update(extra_config)
    arrays = {k: np.asarray(model[k], dtype=np.float32) for k in PARAM_NAMES}
    arrays["vocab"] = np.array(VOCAB)
    arrays["config"] = np.array(json.dumps(config, sort_keys=True))
    tmp = f"{path}.tmp"
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, arrays[name], allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())
    os.replace(tmp, path)


def load_model(path: str) -> dict:
    if not path or not os.path.isfile(path):
        raise InputError(f"model file not found: {path!r}")
    try:
        with np.load(path, allow_pickle=False) as z:
            config = json.loads(str(z["config"]))
            vocab = str(z["vocab"])
            model = {k: z[k].astype(np.float32) for k in PARAM_NAMES}
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as e:
        raise InputError(f"{path}: not a tiny-char model ({e})") from e
    if config.get("format") != FORMAT:
        raise InputError(f"{path}: unknown model format {config.get('format')!r}, want {FORMAT!r}")
    if vocab != VOCAB:
        raise InputError(f"{path}: vocabulary differs from handlers/common.py")
    model["config"] = config
    return model


def read_text(path: str) -> str:
    if not path or not os.path.isfile(path):
        raise InputError(f"dataset file not found: {path!r}")
    with open(path, encoding="utf-8") as f:
        return f.read()


def read_jsonl(path: str) -> list:
    text = read_text(path)
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise InputError(f"{path}:{n}: not JSON: {e}") from e
    return rows


# --------------------------------------------------------------------------
# the job contract (hone's specs/job-contract.md)


def load_job(expected_kind: str) -> dict:
    """Read the job.json named by $HONE_JOB."""
    path = os.environ.get("HONE_JOB")
    if not path:
        raise InputError("HONE_JOB is not set: hone passes the job file in $HONE_JOB "
                         "(for a manual run: HONE_JOB=path/to/job.json python handlers/...)")
    if not os.path.isfile(path):
        raise InputError(f"job file not found: HONE_JOB={path}")
    try:
        with open(path, encoding="utf-8") as f:
            job = json.load(f)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not valid JSON: {e}") from e
    if not isinstance(job, dict):
        raise InputError(f"{path}: the job must be a JSON object")
    kind = job.get("kind")
    if kind and str(kind).lower() != expected_kind:
        raise InputError(f"{path}: this handler runs '{expected_kind}' jobs, got kind {kind!r}")
    if not job.get("outputDir"):
        raise InputError(f"{path}: missing 'outputDir'")
    return job


def ref_path(job: dict, key: str) -> str:
    """The local path of a referenced version (baseModel, trainDataset, ...)."""
    ref = job.get(key)
    if not isinstance(ref, dict) or not ref.get("path"):
        raise InputError(f"job: missing '{key}.path'")
    path = ref["path"]
    if not os.path.isfile(path):
        label = f"{ref.get('name', '?')}@{ref.get('version', '?')}"
        raise InputError(f"job: {key} {label}: file not found: {path}")
    return path


def ref_label(job: dict, key: str) -> str:
    ref = job.get(key) or {}
    return f"{ref.get('name', '?')}@{ref.get('version', '?')}"


def get_param(params: dict, name: str, default, kind):
    value = params.get(name, default)
    if value is None:
        return None
    try:
        if kind is int:
            if isinstance(value, bool) or float(value) != int(float(value)):
                raise ValueError
            return int(float(value))
        return kind(value)
    except (TypeError, ValueError):
        raise InputError(f"params.{name}: want a {kind.__name__}, got {value!r}") from None


def write_json(path: str, obj) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def run_main(main) -> None:
    """Run a handler's main(); input problems end with a clear message and exit 2."""
    try:
        main()
    except InputError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        sys.exit(2)


def log(msg: str) -> None:
    print(msg, flush=True)
