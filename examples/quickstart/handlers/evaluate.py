#!/usr/bin/env python3
"""hone eval handler: score a tiny char model on a JSONL test set.

hone runs it as `python handlers/evaluate.py` with $HONE_JOB naming job.json
(hone's specs/job-contract.md). It reads

    model.path      the .npz to evaluate (a registry version or a run's draft model)
    dataset.path    JSON lines, each {"id": "...", "text": "..."}
    params          optional: {"limit": N} scores only the first N rows,
                    {"correct_at": 0.8} the accuracy a sample needs to count as correct
    outputDir       where the results go

Each text is read from its start (the model sees "start of text" as context)
and every character is predicted from the ones before it. It writes

    results.jsonl   one row per sample:
                    {"id", "text" (first 80 chars), "chars", "score" (mean log-likelihood
                     per char, nats), "perplexity" (exp(-score)), "accuracy" (share of
                     chars the model ranked first), "correct" (accuracy >= correct_at)}
    summary.json    {"perplexity", "accuracy", "score", "correct_rate", "samples", "chars"}
                    perplexity/accuracy are over all characters of the set

Missing or bad inputs end with "error: ..." on stderr and exit status 2.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import common  # noqa: E402

# a sample is "correct" when at least this share of its characters is predicted top-1
# (the base model gets ~0.34 on support tickets, a good fine-tune ~0.9)
CORRECT_AT = 0.8
TEXT_CHARS = 80


def main() -> None:
    t0 = time.time()
    job = common.load_job("eval")
    params = job.get("params") or {}
    if not isinstance(params, dict):
        raise common.InputError("job: 'params' must be a map")
    limit = common.get_param(params, "limit", None, int)
    correct_at = common.get_param(params, "correct_at", CORRECT_AT, float)
    unknown = sorted(set(params) - {"limit", "correct_at"})
    if unknown:
        print(f"warning: ignoring unknown params: {', '.join(unknown)} (known: limit, correct_at)",
              file=sys.stderr, flush=True)

    model_path = common.ref_path(job, "model")
    data_path = common.ref_path(job, "dataset")
    out = job["outputDir"]
    os.makedirs(out, exist_ok=True)

    model = common.load_model(model_path)
    C = model["config"]["context"]
    rows = common.read_jsonl(data_path)
    if limit is not None:
        rows = rows[:limit]
    if not rows:
        raise common.InputError(f"dataset {common.ref_label(job, 'dataset')} has no rows: {data_path}")
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict) or not isinstance(row.get("text"), str) or "id" not in row:
            raise common.InputError(f"{data_path}: row {n} needs an \"id\" and a string \"text\"")

    common.log(f"evaluating {common.ref_label(job, 'model')} on {common.ref_label(job, 'dataset')} "
               f"({len(rows)} samples)")

    # score every character of every text in one pass, then split per sample
    encoded = [common.encode(r["text"]) for r in rows]
    X = np.concatenate([common.windows(ids, C) for ids in encoded])
    Y = np.concatenate(encoded)
    lls, hits = common.log_likelihoods(model, X, Y)

    total_ll, total_hits, total_chars, n_correct = 0.0, 0, 0, 0
    with open(os.path.join(out, "results.jsonl"), "w", encoding="utf-8") as f:
        start = 0
        for i, (row, ids) in enumerate(zip(rows, encoded), 1):
            n = len(ids)
            ll, hit = lls[start:start + n], hits[start:start + n]
            start += n
            score = float(ll.mean()) if n else 0.0
            acc = float(hit.mean()) if n else 0.0
            correct = acc >= correct_at
            text = row["text"]
            f.write(json.dumps({
                "id": str(row["id"]),
                "text": text if len(text) <= TEXT_CHARS else text[:TEXT_CHARS - 3] + "...",
                "chars": n,
                "score": round(score, 5),
                "perplexity": round(math.exp(-score), 4),
                "accuracy": round(acc, 4),
                "correct": correct,
            }) + "\n")
            total_ll += float(ll.sum())
            total_hits += int(hit.sum())
            total_chars += n
            n_correct += correct
            if i % 25 == 0 or i == len(rows):
                common.log(f"  {i}/{len(rows)} samples  running accuracy {total_hits / max(total_chars, 1):.4f}  "
                           f"perplexity {math.exp(-total_ll / max(total_chars, 1)):.3f}")

    score = total_ll / max(total_chars, 1)
    summary = {
        "perplexity": round(math.exp(-score), 4),
        "accuracy": round(total_hits / max(total_chars, 1), 4),
        "score": round(score, 5),
        "correct_rate": round(n_correct / len(rows), 4),
        "samples": len(rows),
        "chars": total_chars,
    }
    common.write_json(os.path.join(out, "summary.json"), summary)
    common.log(f"done in {time.time() - t0:.1f}s: perplexity {summary['perplexity']}, "
               f"accuracy {summary['accuracy']}, {n_correct}/{len(rows)} samples correct")
    common.log(f"wrote {out}/results.jsonl, summary.json")


if __name__ == "__main__":
    common.run_main(main)
