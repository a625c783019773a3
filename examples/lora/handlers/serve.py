"""Playground handler: the LoRA adapter (or a full model folder) served over HTTP in OpenAI's chat shape.

job.json (specs/playground.md): kind "playground", model (an adapter folder whose base job.json gives as
model.base or baseModel, or a full model folder), listen {host, port} ($HONE_LISTEN_HOST/_PORT win),
params (optional): temperature (0.7; 0 is greedy), max_tokens (200), apiKeyEnv (optional: the variable
holding the bearer key), outputDir. The HTTP side (/v1/models, /v1/chat/completions with stream:true, the
chat page at /, the key check, outputDir/endpoint and last-request) is the kit's hone_job.playground.

The model is loaded (the adapter on its base) before the server binds, so hone's readiness probe
(GET /v1/models) answers only once it can generate. The prompt is the task's format: the last user message
as "Q: <message>\\nA:" (the model has a 128-byte window, so earlier turns and system messages are left
out); the answer ends at the newline (finish_reason "stop") or after max_tokens bytes ("length"). One
token is one byte (the base's ByT5 tokenizer). A "seed" makes sampling repeatable.

Try it by hand, from the repository root (after a fine-tune, e.g. the README's /tmp/lora-out):

    HONE_JOB=/tmp/pg.json PYTHONPATH=python/hone_job $(scripts/ml-venv.sh python) examples/lora/handlers/serve.py
"""

from __future__ import annotations

import common  # sets the thread count before torch starts
import hone_job
import hone_job.playground as playground
import torch


class LoraModel:
    """Samples bytes from a loaded causal LM; read-only after construction, so request threads share it."""

    def __init__(self, model, tokenizer, model_id: str):
        self.model, self.tokenizer, self.model_id = model, tokenizer, model_id
        self.window = int(model.config.n_positions)
        self.newline = tokenizer("\n", add_special_tokens=False)["input_ids"][0]
        self.ends = {self.newline, tokenizer.eos_token_id}

    def render(self, messages: list) -> str:
        question = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        return f"Q: {' '.join(question.split())}\nA:"

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def stream(self, prompt: str, max_tokens: int, temperature: float, seed, stop: list):
        """Yields text pieces; returns the finish reason ("stop" or "length") via StopIteration."""
        rng = torch.Generator().manual_seed(seed) if seed is not None else None
        ids = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
        out, text, sent = [], "", 0
        hold = max((len(s) for s in stop), default=1) - 1  # characters that may start a stop sequence
        for _ in range(max_tokens):
            nxt = self.next_id((ids + out)[-self.window:], temperature, rng)
            if nxt in self.ends:
                break
            out.append(nxt)
            text = self.tokenizer.decode(out, skip_special_tokens=True)
            if text.endswith("\ufffd"):  # half a UTF-8 character: wait for the rest
                continue
            cut = playground.first_stop(text, stop)
            if cut is not None:
                if cut > sent:
                    yield text[sent:cut]
                return "stop"
            if len(text) - hold > sent:
                yield text[sent:len(text) - hold]
                sent = len(text) - hold
        else:
            if len(text) > sent:
                yield text[sent:]
            return "length"
        if len(text) > sent:
            yield text[sent:]
        return "stop"

    def next_id(self, window: list, temperature: float, rng) -> int:
        with torch.no_grad():
            logits = self.model(input_ids=torch.tensor([window])).logits[0, -1].float()
        if temperature == 0:
            return int(logits.argmax())
        probs = torch.softmax(logits / temperature, dim=-1)
        return int(torch.multinomial(probs, 1, generator=rng))


def main() -> None:
    job = hone_job.load(kind="playground")
    model_input = job.input("model")
    model, tokenizer, what = common.load_model(model_input)
    model.eval()  # the adapter stays unmerged: the same sums as the eval handler, so the same greedy answers
    print(f"loaded {what}", flush=True)
    server = playground.Server(job, LoraModel(model, tokenizer, model_input.ref),
                               placeholder="Ask something, e.g. How do I delete a file?")
    server.serve_forever()


if __name__ == "__main__":
    common.run(main)
