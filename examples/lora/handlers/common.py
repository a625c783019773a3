"""What the LoRA example's handlers share: reading the task rows, turning them into token ids, loading a
model folder (a full model, or a PEFT adapter on the base model job.json names), scoring text.

Rows are {"id", "prompt", "answer"}; the text is prompt + answer + "\\n" (see tools/make_data.py). The
tokenizer is the base model's (a byte-level ByT5Tokenizer, see tools/pretrain.py): nothing is downloaded.
"""

from __future__ import annotations

import json
import math
import os
import sys

# One thread per job (the pool runs two at a time on two cores) and the same sums on every run.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import torch  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

import hone_job  # noqa: E402
from hone_job import HoneJobError  # noqa: E402

IGNORE = -100  # label of the tokens the loss skips


def read_rows(path: str) -> list:
    """The rows of a task file; HoneJobError names the file and line of a bad one."""
    if not os.path.isfile(path):
        raise HoneJobError(f"{path}: dataset file not found (a task dataset is a .jsonl of prompt/answer rows)")
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise HoneJobError(f"{path}:{n}: not JSON: {e.msg}") from None
            if not isinstance(row, dict) or not all(isinstance(row.get(k), str) for k in ("id", "prompt", "answer")):
                raise HoneJobError(f"{path}:{n}: a row needs string fields id, prompt and answer")
            rows.append(row)
    if not rows:
        raise HoneJobError(f"{path}: no rows")
    return rows


def encode_row(tokenizer, row: dict, answer_only: bool = True) -> dict:
    """input_ids of prompt + answer + newline (no end token: the model stops at the newline), and labels
    that score the answer only (answer_only) or every token after the first."""
    prompt = tokenizer(row["prompt"], add_special_tokens=False)["input_ids"]
    rest = tokenizer(row["answer"] + "\n", add_special_tokens=False)["input_ids"]
    ids = prompt + rest
    labels = ([IGNORE] * len(prompt) + rest) if answer_only else list(ids)
    return {"input_ids": ids, "labels": labels}


def collate(batch: list, pad_id: int) -> dict:
    """Right-pads a batch; padding is neither attended to nor scored."""
    width = max(len(b["input_ids"]) for b in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for i, b in enumerate(batch):
        n = len(b["input_ids"])
        ids[i, :n] = torch.tensor(b["input_ids"])
        labels[i, :n] = torch.tensor(b["labels"])
        mask[i, :n] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def is_adapter(folder: str) -> bool:
    return os.path.isfile(os.path.join(folder, "adapter_config.json"))


def load_model(model: "hone_job.Input"):
    """(model, tokenizer, description) for a job's model input: a full model folder, or a PEFT adapter
    folder loaded on the base model job.json gives it (model.base)."""
    if not model.is_dir:
        raise HoneJobError(f"model {model.ref}: {model.path} is not a folder (this example's models are "
                           f"Hugging Face model folders)")
    if is_adapter(model.path):
        if model.base is None:
            raise HoneJobError(f"model {model.ref} is a LoRA adapter ({model.path}/adapter_config.json), but "
                               f"job.json names no base model for it (model.base, or baseModel)")
        from peft import PeftModel

        base = AutoModelForCausalLM.from_pretrained(model.base.path)
        tokenizer = AutoTokenizer.from_pretrained(model.base.path)
        return PeftModel.from_pretrained(base, model.path), tokenizer, f"adapter {model.ref} on {model.base.ref}"
    return (AutoModelForCausalLM.from_pretrained(model.path), AutoTokenizer.from_pretrained(model.path),
            f"model {model.ref}")


def answer_nll(model, tokenizer, row: dict) -> tuple:
    """(summed negative log-likelihood in nats, number of scored tokens) of a row's answer and its newline,
    given the prompt: what the fine-tune learns to predict."""
    enc = encode_row(tokenizer, row, answer_only=True)
    ids = torch.tensor([enc["input_ids"]])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, :-1]
    targets = torch.tensor(enc["labels"][1:])
    nll = torch.nn.functional.cross_entropy(logits.float(), targets, ignore_index=IGNORE, reduction="sum").item()
    return nll, int((targets != IGNORE).sum())


def complete(model, tokenizer, prompt: str, max_new: int = 24) -> str:
    """Greedy continuation of `prompt` up to a newline (deterministic)."""
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    newline = tokenizer("\n", add_special_tokens=False)["input_ids"][0]
    out = []
    with torch.no_grad():
        for _ in range(max_new):
            nxt = int(model(input_ids=torch.tensor([ids + out])).logits[0, -1].argmax())
            if nxt in (newline, tokenizer.eos_token_id):
                break
            out.append(nxt)
    return tokenizer.decode(out)


def perplexity(nll: float, tokens: int) -> float:
    return math.exp(nll / max(tokens, 1))


def run(main) -> None:
    """A handler's main(): contract problems end with one clear line and exit status 2."""
    try:
        main()
    except HoneJobError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        sys.exit(2)
