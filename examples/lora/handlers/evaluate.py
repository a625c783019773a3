"""Eval handler: answer perplexity and exact-match answers of a model on held-out task rows.

job.json: model (a full model folder, or a LoRA adapter folder whose base job.json gives as model.base or
baseModel), dataset (task rows, .jsonl), params (optional): max_new (24, answer length in bytes), limit (all).

Writes summary.json and results.jsonl (one row per question: id, expected, got, correct, nll). perplexity is
per byte of the answers given their questions (exp of the mean negative log-likelihood), exact_match the
share of questions whose greedy answer, up to the newline, is the expected one.
"""

from __future__ import annotations

import common  # noqa: F401  (sets the thread count before torch starts)
import hone_job
import torch


def main() -> None:
    job = hone_job.load(kind="eval")
    torch.use_deterministic_algorithms(True)
    model, tokenizer, what = common.load_model(job.input("model"))
    model.eval()
    rows = common.read_rows(job.input("dataset").path)
    limit = job.param("limit", None, int)
    rows = rows[:limit] if limit else rows
    max_new = job.param("max_new", 24, int)
    print(f"evaluating {what} on {len(rows)} rows of {job.input('dataset').ref}", flush=True)

    results, total_nll, total_tokens, correct = [], 0.0, 0, 0
    for i, row in enumerate(rows, 1):
        nll, n = common.answer_nll(model, tokenizer, row)
        got = common.complete(model, tokenizer, row["prompt"], max_new)
        ok = got.strip() == row["answer"].strip()
        correct += ok
        total_nll, total_tokens = total_nll + nll, total_tokens + n
        results.append({"id": row["id"], "expected": row["answer"].strip(), "got": got.strip(), "correct": ok,
                        "nll": round(nll / n, 5)})
        if i % 25 == 0 or i == len(rows):
            print(f"{i}/{len(rows)}: exact match {correct / i:.3f}", flush=True)
    ppl = common.perplexity(total_nll, total_tokens)
    job.results(results)
    job.summary({"perplexity": ppl, "exact_match": correct / len(rows), "samples": len(rows)},
                {"perplexity": {"direction": "min", "unit": "per byte"}, "exact_match": {"direction": "max"},
                 "samples": {"kind": "count"}})
    print(f"perplexity {ppl:.4f} per byte, exact match {correct}/{len(rows)}", flush=True)


if __name__ == "__main__":
    common.run(main)
