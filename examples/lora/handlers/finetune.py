"""Run handler: a LoRA fine-tune (PEFT) of the base model folder through transformers' Trainer.

job.json: baseModel (a model folder), trainDataset (task rows, .jsonl), validationDataset (optional),
params (all optional):
    rank (8)  alpha (2 x rank)  lr (0.01)  steps (300)  batch (16)  seed (0)
    target_modules (["c_attn", "c_proj", "c_fc"]: attention and MLP)  logging_steps (10)  eval_steps (50)
    save_steps (50)

Writes into outputDir the adapter (adapter_config.json, adapter_model.safetensors), the curve
(metrics.jsonl, live, through hone_job's HoneCallback) and summary.json; checkpoints go to the job's
checkpointDir, never into outputDir, and a restarted attempt resumes from the newest one.
"""

from __future__ import annotations

import json
import math
import os

import common  # noqa: F401  (sets the thread count before torch starts)
import hone_job
import torch
from hone_job.transformers import HoneCallback
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments


class Rows(torch.utils.data.Dataset):
    def __init__(self, rows, tokenizer):
        self.items = [common.encode_row(tokenizer, r) for r in rows]

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def main() -> None:
    job = hone_job.load(kind="run")
    base = job.input("baseModel")
    rank = job.param("rank", 8, int)
    steps = job.param("steps", 300, int)
    seed = job.param("seed", 0, int)
    modules = job.param("target_modules", ["c_attn", "c_proj", "c_fc"])
    if not (isinstance(modules, list) and modules and all(isinstance(m, str) for m in modules)):
        raise hone_job.HoneJobError(f"{job.path}: params.target_modules must be a list of module names, found {modules!r}")
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)

    tokenizer = AutoTokenizer.from_pretrained(base.path)
    model = AutoModelForCausalLM.from_pretrained(base.path)
    model = get_peft_model(model, LoraConfig(r=rank, lora_alpha=job.param("alpha", 2 * rank, int), lora_dropout=0.0,
                                             target_modules=modules, task_type="CAUSAL_LM"))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    train = Rows(common.read_rows(job.input("trainDataset").path), tokenizer)
    val = Rows(common.read_rows(job.input("validationDataset").path), tokenizer) if "validationDataset" in job.inputs else None
    print(f"LoRA r={rank} on {', '.join(modules)} of {base.ref}: {trainable} trainable parameters; "
          f"{len(train)} training rows{f', {len(val)} validation rows' if val else ''}", flush=True)

    eval_steps = job.param("eval_steps", 50, int)
    args = TrainingArguments(
        output_dir=job.checkpoint_dir,  # checkpoints: kept for resuming, never part of the model
        max_steps=steps, per_device_train_batch_size=job.param("batch", 16, int),
        per_device_eval_batch_size=32, learning_rate=job.param("lr", 0.01, float), lr_scheduler_type="cosine",
        warmup_steps=max(1, steps // 20), weight_decay=0.0, logging_steps=job.param("logging_steps", 10, int),
        eval_strategy="steps" if val else "no", eval_steps=eval_steps,
        save_strategy="steps", save_steps=job.param("save_steps", 50, int), save_total_limit=1,
        report_to=[], use_cpu=True, disable_tqdm=True, seed=seed, data_seed=seed, dataloader_num_workers=0,
    )
    trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=val,
                      data_collator=lambda b: common.collate(b, tokenizer.pad_token_id),
                      callbacks=[HoneCallback(job)])
    resume = job.latest_checkpoint()
    if resume:
        print(f"resuming from {resume}", flush=True)
    trainer.train(resume_from_checkpoint=resume)

    model.save_pretrained(job.output_dir)
    record_base(job, base)
    if val:
        loss = final_eval_loss(trainer)
        job.update_summary({"eval_loss": loss, "eval_perplexity": math.exp(loss), "trainable_parameters": trainable},
                           {"eval_loss": {"direction": "min"}, "eval_perplexity": {"direction": "min", "unit": "per byte"},
                            "trainable_parameters": {"kind": "count"}})
        print(f"validation: answer loss {loss:.4f} nats/byte (perplexity {math.exp(loss):.3f})", flush=True)
    else:
        job.update_summary({"trainable_parameters": trainable}, {"trainable_parameters": {"kind": "count"}})


def final_eval_loss(trainer) -> float:
    """The validation loss of the final weights: the last logged one when it was logged at the last step,
    else evaluated now (which also logs it into the curve)."""
    last = [h for h in trainer.state.log_history if "eval_loss" in h]
    if last and last[-1].get("step") == trainer.state.global_step:
        return last[-1]["eval_loss"]
    return trainer.evaluate()["eval_loss"]


def record_base(job, base) -> None:
    """PEFT records the base as the path it was loaded from, a job folder that is gone after the job: the
    adapter names the base by its hone ref instead (an eval gets its path from job.json). PEFT's model card
    (README.md, with the same path) is not part of the model."""
    path = job.output("adapter_config.json")
    with open(path) as f:
        config = json.load(f)
    config["base_model_name_or_path"] = base.ref
    with open(path, "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    card = job.output("README.md")
    if os.path.exists(card):
        os.remove(card)


if __name__ == "__main__":
    common.run(main)
