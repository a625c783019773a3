#!/usr/bin/env python3
"""hone run handler: fine-tune the tiny char model on a text dataset.

hone runs it as `python handlers/finetune.py` with $HONE_JOB naming job.json
(hone's specs/job-contract.md). It reads

    baseModel.path          the .npz to start from
    trainDataset.path       plain text to train on
    validationDataset.path  plain text for the validation loss (optional)
    params                  see PARAMS below
    outputDir               where the results go

and writes into outputDir

    model.npz       the fine-tuned weights (same format as the base model)
    metrics.jsonl   one {"step", "epoch", "loss", "val_loss", "lr"} per logged step
    summary.json    {"train_loss", "val_loss", "val_perplexity", "base_val_loss", ...}

Progress goes to stdout (hone keeps it as the task log). Missing or bad inputs
end with "error: ..." on stderr and exit status 2. Same inputs and seed give
the same bytes.

Try it by hand, from the repository root:

    HONE_JOB=job.json python3 handlers/finetune.py
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

# name: (default, type, meaning)
PARAMS = {
    "epochs": (3, int, "passes over the training text"),
    "lr": (0.003, float, "Adam learning rate (constant after a short warm-up)"),
    "steps": (None, int, "stop after this many steps (default: run every epoch)"),
    "batch": (64, int, "characters per step"),
    "seed": (0, int, "shuffling seed"),
    "log_every": (None, int, "steps between metrics lines (default: ~25 lines per run)"),
}

# the start of a text, completed greedily before and after training (shown in the log)
PROMPT = "Agent: Hi Dana, thank you "


def main() -> None:
    t0 = time.time()
    job = common.load_job("run")
    params = job.get("params") or {}
    if not isinstance(params, dict):
        raise common.InputError("job: 'params' must be a map")
    unknown = sorted(set(params) - set(PARAMS))
    if unknown:
        print(f"warning: ignoring unknown params: {', '.join(unknown)} "
              f"(known: {', '.join(PARAMS)})", file=sys.stderr, flush=True)
    p = {k: common.get_param(params, k, d, t) for k, (d, t, _) in PARAMS.items()}
    if p["epochs"] < 1 or p["batch"] < 1 or not p["lr"] > 0 or (p["steps"] is not None and p["steps"] < 1):
        raise common.InputError(f"params: epochs, batch, steps and lr must be positive, got {p}")

    base_path = common.ref_path(job, "baseModel")
    train_path = common.ref_path(job, "trainDataset")
    val_path = common.ref_path(job, "validationDataset") if job.get("validationDataset") else None
    out = job["outputDir"]
    os.makedirs(out, exist_ok=True)

    model = common.load_model(base_path)
    C = model["config"]["context"]
    train_ids = common.encode(common.read_text(train_path))
    if len(train_ids) < 2:
        raise common.InputError(f"trainDataset {common.ref_label(job, 'trainDataset')} is empty: {train_path}")
    X = common.windows(train_ids, C)
    if val_path:
        val_ids = common.encode(common.read_text(val_path))
        VX = common.windows(val_ids, C)
    else:
        val_ids = VX = None

    def val_loss():
        return common.mean_loss(model, VX, val_ids) if val_ids is not None and len(val_ids) else None

    per_epoch = math.ceil(len(train_ids) / p["batch"])
    total = per_epoch * p["epochs"]
    if p["steps"] is not None:
        total = min(total, p["steps"])
    log_every = p["log_every"] or max(1, total // 25)
    warmup = min(50, max(1, total // 10))

    common.log(f"fine-tuning {common.ref_label(job, 'baseModel')} on {common.ref_label(job, 'trainDataset')} "
               f"({len(train_ids)} chars) for {total} steps = {total / per_epoch:.2f} epochs, "
               f"batch {p['batch']}, lr {p['lr']}, seed {p['seed']}")
    base_val = val_loss()
    common.log(f"base model: val_loss {base_val:.4f}" if base_val is not None else "no validation dataset")
    common.log(f"base model says:  {PROMPT!r} -> {common.complete(model, PROMPT)!r}")

    rng = np.random.default_rng(p["seed"])
    opt = common.Adam(model, p["lr"])
    metrics_path = os.path.join(out, "metrics.jsonl")
    step, running, last_train = 0, [], None
    with open(metrics_path, "w", encoding="utf-8") as metrics:
        def record(epoch, lr):
            nonlocal running, last_train
            train = float(np.mean(running)) if running else None
            running = []
            last_train = train if train is not None else last_train
            vl = val_loss()
            row = {"step": step, "epoch": round(epoch, 3),
                   "loss": round(train, 5) if train is not None else None,
                   "val_loss": round(vl, 5) if vl is not None else None, "lr": lr}
            metrics.write(json.dumps(row) + "\n")
            metrics.flush()
            common.log(f"step {step:5d}/{total}  epoch {epoch:5.2f}  "
                       f"loss {row['loss'] if train is not None else '-':>7}  "
                       f"val_loss {row['val_loss'] if vl is not None else '-':>7}  "
                       f"{time.time() - t0:5.1f}s")

        # step 0: the base model, before any update (loss = its loss on the first batch)
        first = True
        for epoch in range(p["epochs"]):
            for idx in common.batches(len(train_ids), p["batch"], rng):
                if step >= total:
                    break
                lr = p["lr"] * min(1.0, (step + 1) / warmup)
                loss, grads = common.loss_and_grads(model, X[idx], train_ids[idx])
                if first:
                    running = [loss]
                    record(0.0, 0.0)
                    first = False
                if not math.isfinite(loss):
                    print(f"error: loss is {loss} at step {step}: lr {p['lr']} is too large",
                          file=sys.stderr, flush=True)
                    sys.exit(1)
                opt.step(model, grads, lr=lr)
                step += 1
                running.append(loss)
                if step % log_every == 0 or step == total:
                    record(step / per_epoch, lr)

    common.save_model(os.path.join(out, "model.npz"), model, {
        "fine_tuned_from": common.ref_label(job, "baseModel"),
        "train_dataset": common.ref_label(job, "trainDataset"),
        "params": {k: v for k, v in p.items() if v is not None},
    })
    final_val = val_loss()
    summary = {
        "train_loss": round(last_train, 5),
        "steps": step,
        "epochs": round(step / per_epoch, 3),
        "train_chars": int(len(train_ids)),
    }
    if final_val is not None:
        summary.update({
            "val_loss": round(final_val, 5),
            "val_perplexity": round(math.exp(final_val), 4),
            "base_val_loss": round(base_val, 5),
            "base_val_perplexity": round(math.exp(base_val), 4),
        })
    common.write_json(os.path.join(out, "summary.json"), summary)
    common.log(f"done in {time.time() - t0:.1f}s: train_loss {summary['train_loss']}"
               + (f", val_loss {base_val:.4f} -> {final_val:.4f} "
                  f"(perplexity {math.exp(base_val):.2f} -> {math.exp(final_val):.2f})" if final_val is not None else ""))
    common.log(f"fine-tuned says:  {PROMPT!r} -> {common.complete(model, PROMPT)!r}")
    common.log(f"wrote {out}/model.npz, metrics.jsonl, summary.json")


if __name__ == "__main__":
    common.run_main(main)
