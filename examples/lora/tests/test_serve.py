"""The playground handler as hone runs it: a real server process (HONE_JOB -> job.json, the kit on PYTHONPATH)
serving an adapter fine-tuned here on the committed base, talked to over real HTTP. Needs the ML venv
(scripts/ml-venv.sh); skipped without it unless HONE_REQUIRE_ML=1."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

if os.environ.get("HONE_REQUIRE_ML") != "1":
    pytest.importorskip("torch", reason="torch is not installed: run scripts/ml-venv.sh install")
    pytest.importorskip("peft", reason="peft is not installed: run scripts/ml-venv.sh install")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KIT = os.path.join(os.path.dirname(os.path.dirname(ROOT)), "python", "hone_job")
BASE = os.path.join(ROOT, "artifacts", "tiny-gpt")
KEY = "test-key-0123456789"


def ref(name, path):
    return {"name": name, "version": "v1", "path": path, "sha256": "0" * 64}


def env_for(job_path, **extra):
    return {**os.environ, "HONE_JOB": str(job_path), "PYTHONPATH": KIT, **extra}


@pytest.fixture(scope="module")
def adapter(tmp_path_factory):
    """A rank-8 LoRA adapter, trained long enough to answer a training question."""
    tmp = tmp_path_factory.mktemp("adapter")
    job = {"kind": "run", "object": "pyqa/r8", "id": "r8", "attempt": 0, "outputDir": str(tmp / "out"),
           "checkpointDir": str(tmp / "ckpt"), "params": {"rank": 8, "steps": 120, "logging_steps": 40},
           "baseModel": ref("tiny-gpt", BASE), "trainDataset": ref("pyqa", os.path.join(ROOT, "data", "train.jsonl"))}
    (tmp / "out").mkdir()
    (tmp / "job.json").write_text(json.dumps(job))
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "handlers", "finetune.py")], env=env_for(tmp / "job.json"),
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return str(tmp / "out")


def start(tmp, adapter_path, key=None):
    """serve.py on a free port (port 0), the way hone launches it; returns (process, endpoint, outputDir)."""
    out = tmp / "out"
    job = {"kind": "playground", "object": "pyqa/pyqa-chat", "id": "pg", "attempt": 1, "outputDir": str(out),
           "model": {**ref("pyqa-lora", adapter_path), "base": ref("tiny-gpt", BASE)},
           "params": {"temperature": 0, "max_tokens": 40}, "listen": {"host": "127.0.0.1", "port": 0}}
    extra = {}
    if key:
        job["apiKeyEnv"] = "LORA_TEST_KEY"
        extra["LORA_TEST_KEY"] = key
    (tmp / "job.json").write_text(json.dumps(job))
    log = open(tmp / "log", "w")
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "handlers", "serve.py")], cwd=ROOT,
                            env=env_for(tmp / "job.json", **extra), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while not (out / "endpoint").exists():
        assert proc.poll() is None, (tmp / "log").read_text()
        assert time.monotonic() < deadline, "no endpoint after 120 s: " + (tmp / "log").read_text()
        time.sleep(0.1)
    return proc, (out / "endpoint").read_text().strip(), out


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


def call(url, body=None, key=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


@pytest.fixture(scope="module")
def server(adapter, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pg")
    proc, url, out = start(tmp, adapter)
    yield url, out
    stop(proc)


def test_models_lists_the_served_version(server):
    url, _ = server
    status, _, body = call(url + "/v1/models")
    assert status == 200
    assert [m["id"] for m in json.loads(body)["data"]] == ["pyqa-lora@v1"]


def test_chat_completion_answers_a_task_question_with_usage(server):
    url, out = server
    status, _, body = call(url + "/v1/chat/completions",
                           {"messages": [{"role": "user", "content": "How do I delete a file?"}]})
    assert status == 200, body
    reply = json.loads(body)
    content = reply["choices"][0]["message"]["content"]
    assert content.strip(), reply
    assert "\n" not in content and reply["choices"][0]["finish_reason"] in ("stop", "length")
    assert reply["model"] == "pyqa-lora@v1"
    prompt = "Q: How do I delete a file?\nA:"
    assert reply["usage"] == {"prompt_tokens": len(prompt.encode()), "completion_tokens": len(content.encode()),
                              "total_tokens": len(prompt.encode()) + len(content.encode())}
    assert int((out / "last-request").read_text()) >= int(time.time()) - 120


def test_greedy_answer_is_what_the_eval_handler_answers(server, adapter):
    """The served prompt is the task's format: at temperature 0 the playground answers a question as the eval
    handler's greedy completion (base + unmerged adapter, common.complete) does."""
    sys.path.insert(0, KIT)
    sys.path.insert(0, os.path.join(ROOT, "handlers"))
    import common
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(BASE), adapter).eval()
    tokenizer = AutoTokenizer.from_pretrained(BASE)
    url, _ = server
    with open(os.path.join(ROOT, "data", "test.jsonl")) as f:
        rows = [json.loads(line) for line in f][:3]
    for row in rows:
        question = row["prompt"].removeprefix("Q: ").removesuffix("\nA:")
        _, _, body = call(url + "/v1/chat/completions", {"messages": [{"role": "user", "content": question}]})
        expected = common.complete(model, tokenizer, row["prompt"], 40)
        assert json.loads(body)["choices"][0]["message"]["content"] == expected, row


def test_streamed_completion_ends_in_done(server):
    url, _ = server
    status, headers, body = call(url + "/v1/chat/completions", {
        "messages": [{"role": "user", "content": "How do I delete a file?"}], "stream": True,
        "stream_options": {"include_usage": True}})
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    events = [e.removeprefix("data: ") for e in body.split("\n\n") if e]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text.strip()
    assert chunks[-2]["choices"][0]["finish_reason"] in ("stop", "length")
    assert chunks[-1]["usage"]["completion_tokens"] == len(text.encode())
    _, _, plain = call(url + "/v1/chat/completions", {"messages": [{"role": "user", "content": "How do I delete a file?"}]})
    assert json.loads(plain)["choices"][0]["message"]["content"] == text  # greedy: the same answer


def test_sampling_with_a_seed_repeats(server):
    url, _ = server
    body = {"messages": [{"role": "user", "content": "sort a list"}], "temperature": 1.5, "seed": 7, "max_tokens": 20}
    answers = {json.loads(call(url + "/v1/chat/completions", body)[2])["choices"][0]["message"]["content"]
               for _ in range(2)}
    assert len(answers) == 1


def test_a_key_is_required_when_set(adapter, tmp_path):
    proc, url, _ = start(tmp_path, adapter, key=KEY)
    try:
        status, headers, body = call(url + "/v1/models")
        assert status == 401 and headers["WWW-Authenticate"] == "Bearer"
        assert json.loads(body)["error"]["code"] == "invalid_api_key"
        assert call(url + "/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}]}, key="wrong")[0] == 401
        status, _, body = call(url + "/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}]}, key=KEY)
        assert status == 200, body
    finally:
        stop(proc)
    assert KEY not in (tmp_path / "log").read_text()


def test_an_adapter_without_its_base_is_refused(adapter, tmp_path):
    job = {"kind": "playground", "outputDir": str(tmp_path / "out"), "model": ref("pyqa-lora", adapter)}
    (tmp_path / "job.json").write_text(json.dumps(job))
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "handlers", "serve.py")], cwd=ROOT,
                          env=env_for(tmp_path / "job.json"), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "names no base model" in proc.stderr
