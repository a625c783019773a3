"""hone_job.playground as a handler uses it: a real server process, talked to over real HTTP. The model is a
word-reversing one written here (the kit serves whatever model a handler brings; the LoRA example's test serves
a real fine-tuned adapter)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

KIT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

HANDLER = '''
import hone_job, hone_job.playground as playground

class Reverser:
    model_id = "reverser@v1"
    def render(self, messages):
        return messages[-1]["content"]
    def count_tokens(self, text):
        return len(text.split())
    def stream(self, prompt, max_tokens, temperature, seed, stop):
        words = prompt.split()[::-1]
        for i, w in enumerate(words[:max_tokens]):
            yield (" " if i else "") + w
        return "length" if len(words) > max_tokens else "stop"

try:
    playground.Server(hone_job.load(kind="playground"), Reverser()).serve_forever()
except hone_job.HoneJobError as e:
    print(f"error: {e}", flush=True)
    raise SystemExit(2)
'''


def start(tmp_path, port=0, key=None, params=None):
    (tmp_path / "handler.py").write_text(HANDLER)
    job = {"kind": "playground", "outputDir": str(tmp_path / "out"), "params": params or {"max_tokens": 3},
           "model": {"name": "reverser", "version": "v1", "path": str(tmp_path)},
           "listen": {"host": "127.0.0.1", "port": port}}
    env = {**os.environ, "HONE_JOB": str(tmp_path / "job.json"), "PYTHONPATH": KIT}
    env.pop("HONE_PLAYGROUND_KEY", None)
    if key:
        job["apiKeyEnv"] = "PG_TEST_KEY"
        env["PG_TEST_KEY"] = key
    (tmp_path / "job.json").write_text(json.dumps(job))
    proc = subprocess.Popen([sys.executable, str(tmp_path / "handler.py")], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    while not (tmp_path / "out" / "endpoint").exists():
        if proc.poll() is not None:
            return proc, None
        assert time.monotonic() < deadline, "no endpoint after 30 s"
        time.sleep(0.05)
    return proc, (tmp_path / "out" / "endpoint").read_text().strip()


def call(url, body=None, key=None):
    req = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode())
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@pytest.fixture
def server(tmp_path):
    proc, url = start(tmp_path)
    assert url, proc.stdout.read()
    yield url, tmp_path / "out"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


def test_models_completion_stream_and_last_request(server):
    url, out = server
    assert json.loads(call(url + "/v1/models")[1])["data"][0]["id"] == "reverser@v1"
    assert not (out / "last-request").exists()  # the readiness probe is no request
    status, body = call(url + "/v1/chat/completions", {"messages": [{"role": "user", "content": "a b c d"}]})
    reply = json.loads(body)
    assert status == 200
    assert reply["choices"][0] == {"index": 0, "message": {"role": "assistant", "content": "d c b"}, "finish_reason": "length"}
    assert reply["usage"] == {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7}
    assert (out / "last-request").exists()
    status, body = call(url + "/v1/chat/completions", {"messages": [{"role": "user", "content": "x y"}], "stream": True})
    events = [e.removeprefix("data: ") for e in body.split("\n\n") if e]
    assert events[-1] == "[DONE]"
    pieces = [json.loads(e)["choices"][0]["delta"].get("content", "") for e in events[:-1]]
    assert "".join(pieces) == "y x"
    assert json.loads(events[-2])["choices"][0]["finish_reason"] == "stop"


def test_bad_requests_get_openai_errors(server):
    url, _ = server
    status, body = call(url + "/v1/chat/completions", {"messages": []})
    assert status == 400 and json.loads(body)["error"]["param"] == "messages"
    status, body = call(url + "/v1/chat/completions", {"messages": [{"role": "user", "content": "a"}], "temperature": 3})
    assert status == 400 and json.loads(body)["error"]["param"] == "temperature"
    status, body = call(url + "/v1/chat/completions", {"model": "other@v1", "messages": [{"role": "user", "content": "a"}]})
    assert status == 404 and json.loads(body)["error"]["code"] == "model_not_found"
    status, _ = call(url + "/")
    assert status == 200


def test_a_key_is_required_when_set(tmp_path):
    proc, url = start(tmp_path, key="kit-test-key-123456")
    try:
        assert call(url + "/v1/models")[0] == 401
        assert call(url + "/v1/models", key="kit-test-key-123456")[0] == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=10)[0]
    assert "kit-test-key-123456" not in out


def test_bad_params_and_a_taken_port(tmp_path):
    (tmp_path / "a").mkdir()
    proc, url = start(tmp_path / "a", params={"temperature": 5})
    assert url is None and proc.wait(timeout=10) == 2 and "params.temperature" in proc.stdout.read()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        (tmp_path / "b").mkdir()
        proc, url = start(tmp_path / "b", port=taken.getsockname()[1])
        assert url is None and proc.wait(timeout=10) == 3
        assert "already in use" in proc.stdout.read()
