"""handlers/serve.py, the playground handler, as a real server on a free port.

Each server is started as a subprocess with a job.json like a playground's (see specs/playground.md)
and is ready when GET /v1/models answers; the tests then speak HTTP to it like any OpenAI client.

    cd examples/quickstart && python3 -m pytest -q tests/test_serve.py
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from serving import BASE, KEY_ENV, ROOT, Server, bearer, free_port, playground_job, request

KEY = "pg-test-key-8c1f0e6d2b"
AUTH = bearer(KEY)
CHAT = "/v1/chat/completions"
QUESTION = "my Orbit wireless earbuds do not charge in the case. What should I do?"


def chat(port, messages, headers=AUTH, **fields):
    status, hdrs, body = request(port, "POST", CHAT, dict({"model": "tiny-char@v1", "messages": messages}, **fields),
                                 headers=headers)
    return status, hdrs, json.loads(body)


def ask(port, text, **fields):
    status, _, body = chat(port, [{"role": "user", "content": text}], **fields)
    assert status == 200, body
    return body


def stream(port, messages, **fields):
    """The server-sent events of a streamed completion: (chunks, saw_done, content-type)."""
    status, hdrs, body = request(port, "POST", CHAT, dict({"messages": messages, "stream": True}, **fields),
                                 headers=AUTH)
    assert status == 200, body
    events = [e for e in body.decode().split("\n\n") if e.strip()]
    assert all(e.startswith("data: ") for e in events), events
    datas = [e[len("data: "):] for e in events]
    assert datas[-1] == "[DONE]" and "[DONE]" not in datas[:-1]
    return [json.loads(d) for d in datas[:-1]], hdrs["content-type"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The base model, served with an API key."""
    tmp = tmp_path_factory.mktemp("serve")
    job = playground_job(BASE, str(tmp / "out"), free_port(), api_key_env=KEY_ENV)
    s = Server(tmp, job, {KEY_ENV: KEY})
    try:
        yield s.wait_ready(AUTH)
    finally:
        s.stop()


@pytest.fixture(scope="module")
def finetuned(tmp_path_factory):
    """A short fine-tune of the example (handlers/finetune.py), served without a key."""
    tmp = tmp_path_factory.mktemp("finetuned")
    run = {
        "kind": "run", "params": {"epochs": 1, "lr": 0.003, "steps": 300, "seed": 0},
        "baseModel": {"name": "tiny-char", "version": "v1", "path": BASE},
        "trainDataset": {"name": "tickets", "version": "v1", "path": os.path.join(ROOT, "data", "tickets-train.txt")},
        "outputDir": str(tmp / "run"),
    }
    with open(tmp / "run.json", "w") as f:
        json.dump(run, f)
    proc = subprocess.run([sys.executable, "handlers/finetune.py"], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, HONE_JOB=str(tmp / "run.json"), OMP_NUM_THREADS="1"), timeout=300)
    assert proc.returncode == 0, proc.stderr
    job = playground_job(str(tmp / "run" / "model.npz"), str(tmp / "out"), free_port(), name="support-bot",
                         version="draft")
    s = Server(tmp, job)
    try:
        yield s.wait_ready()
    finally:
        s.stop()


def load(path):
    sys.path.insert(0, os.path.join(ROOT, "handlers"))
    try:
        import common
        return common, common.load_model(path)
    finally:
        sys.path.pop(0)


# ---------------------------------------------------------------- the API


def test_models_lists_the_served_version(server):
    status, hdrs, body = request(server.port, "GET", "/v1/models", headers=AUTH)
    assert status == 200 and hdrs["content-type"] == "application/json"
    listing = json.loads(body)
    assert listing["object"] == "list"
    assert [(m["id"], m["object"]) for m in listing["data"]] == [("tiny-char@v1", "model")]


def test_chat_completion_shape_and_usage(server):
    body = ask(server.port, "hello", temperature=0, max_tokens=30)
    assert body["object"] == "chat.completion" and body["model"] == "tiny-char@v1"
    assert body["id"].startswith("chatcmpl-") and isinstance(body["created"], int)
    [choice] = body["choices"]
    assert choice["index"] == 0 and choice["message"]["role"] == "assistant"
    content = choice["message"]["content"]
    assert content and "\n" not in content
    # one token is one character: the prompt as the tickets write it, and the answer
    u = body["usage"]
    assert u["prompt_tokens"] == len("Customer: hello\nAgent: ")
    assert u["completion_tokens"] == len(content) <= 30
    assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"]
    assert choice["finish_reason"] == ("length" if len(content) == 30 else "stop")


def test_greedy_answer_is_the_models_argmax_continuation(server):
    common, model = load(BASE)
    prompt = f"Customer: {QUESTION}\nAgent: "
    expected = common.complete(model, prompt, 60).split("\n")[0]
    body = ask(server.port, QUESTION, temperature=0, max_tokens=60)
    assert body["choices"][0]["message"]["content"] == expected


def test_max_tokens_ends_with_length(server):
    body = ask(server.port, QUESTION, temperature=0, max_tokens=5)
    assert len(body["choices"][0]["message"]["content"]) == 5
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 5


def test_stop_sequence_cuts_the_answer(server):
    full = ask(server.port, QUESTION, temperature=0, max_tokens=60)["choices"][0]["message"]["content"]
    word = full.split()[2]
    cut = ask(server.port, QUESTION, temperature=0, max_tokens=60, stop=[word])
    assert cut["choices"][0]["message"]["content"] == full[:full.index(word)]
    assert cut["choices"][0]["finish_reason"] == "stop"


def test_stream_concatenates_to_the_plain_answer(server):
    messages = [{"role": "user", "content": QUESTION}]
    plain = ask(server.port, QUESTION, temperature=0, max_tokens=80)
    chunks, content_type = stream(server.port, messages, temperature=0, max_tokens=80,
                                  stream_options={"include_usage": True})
    assert content_type.startswith("text/event-stream")
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == chunks[0]["id"] for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    with_choices = [c for c in chunks if c["choices"]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in with_choices)
    assert len(with_choices) > 3  # really streamed, not one piece
    assert text == plain["choices"][0]["message"]["content"]
    assert with_choices[-1]["choices"][0]["finish_reason"] == plain["choices"][0]["finish_reason"]
    assert all(c["choices"][0]["finish_reason"] is None for c in with_choices[:-1])
    # the usage chunk (stream_options.include_usage) comes last and counts the same
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == plain["usage"]


def test_seed_makes_sampling_repeatable(server):
    def sample(seed):
        return ask(server.port, QUESTION, temperature=1.0, max_tokens=40, seed=seed)["choices"][0]["message"]["content"]
    assert sample(7) == sample(7)
    assert len({sample(s) for s in range(1, 6)}) > 1  # temperature 1 really samples


def test_conversation_history_is_part_of_the_prompt(server):
    messages = [{"role": "system", "content": "Ticket #1 | Product: Orbit wireless earbuds"},
                {"role": "user", "content": "hello"}, {"role": "assistant", "content": "Hi, how can I help?"},
                {"role": "user", "content": [{"type": "text", "text": "they do not charge"}]}]
    status, _, body = chat(server.port, messages, temperature=0, max_tokens=10)
    assert status == 200, body
    prompt = ("Ticket #1 | Product: Orbit wireless earbuds\nCustomer: hello\nAgent: Hi, how can I help?\n"
              "Customer: they do not charge\nAgent: ")
    assert body["usage"]["prompt_tokens"] == len(prompt)


# ---------------------------------------------------------------- the key


def test_key_is_required_on_every_v1_request(server):
    for headers in ({}, bearer("wrong-key"), {"Authorization": KEY}, {"Authorization": f"Basic {KEY}"}):
        for method, path, body in (("GET", "/v1/models", None),
                                   ("POST", CHAT, {"messages": [{"role": "user", "content": "hi"}]})):
            status, hdrs, raw = request(server.port, method, path, body, headers=headers)
            assert status == 401, (headers, path)
            error = json.loads(raw)["error"]
            assert error["code"] == "invalid_api_key" and error["type"] == "invalid_request_error"
            assert "Bearer" in error["message"] and KEY not in raw.decode()
            assert hdrs["www-authenticate"] == "Bearer"
    assert request(server.port, "GET", "/v1/models", headers=AUTH)[0] == 200
    assert chat(server.port, [{"role": "user", "content": "hi"}], max_tokens=3)[0] == 200


def test_key_never_reaches_the_log_or_the_page(server):
    request(server.port, "GET", "/v1/models", headers=bearer(KEY + "x"))
    chat(server.port, [{"role": "user", "content": "hi"}], max_tokens=3)
    log = server.log()
    assert "POST /v1/chat/completions 200" in log and "GET /v1/models 401" in log
    assert KEY not in log
    assert f"${KEY_ENV}" in log  # it says where the key comes from, by name
    status, _, page = request(server.port, "GET", "/")
    assert status == 200 and KEY not in page.decode()


def test_without_a_key_the_api_is_open(finetuned):
    status, _, _ = request(finetuned.port, "GET", "/v1/models")
    assert status == 200


# ---------------------------------------------------------------- bad requests


BAD_BODIES = [
    (b"{not json", None, "not valid JSON"),
    (b"[1, 2]", None, "JSON object"),
    (b"{}", "messages", "'messages' is required"),
    (b'{"messages": []}', "messages", "non-empty"),
    (b'{"messages": "hello"}', "messages", "non-empty list"),
    (b'{"messages": ["hello"]}', "messages[0]", "object"),
    (b'{"messages": [{"role": "robot", "content": "hi"}]}', "messages[0].role", "one of"),
    (b'{"messages": [{"role": "user", "content": 42}]}', "messages[0].content", "string"),
    (b'{"messages": [{"role": "user"}]}', "messages[0].content", "string"),
    (b'{"messages": [{"role": "user", "content": "hi"}], "temperature": "hot"}', "temperature", "number"),
    (b'{"messages": [{"role": "user", "content": "hi"}], "temperature": 9}', "temperature", "0 to 2"),
    (b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 0}', "max_tokens", "integer"),
    (b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2.5}', "max_tokens", "integer"),
    (b'{"messages": [{"role": "user", "content": "hi"}], "stream": "yes"}', "stream", "bool"),
    (b'{"messages": [{"role": "user", "content": "hi"}], "seed": true}', "seed", "integer"),
    (b'{"messages": [{"role": "user", "content": "hi"}], "stop": 3}', "stop", "string"),
    (b'{"messages": [{"role": "user", "content": "hi"}], "n": 2}', "n", "one choice"),
    (b'{"messages": [{"role": "user", "content": "hi"}], "model": 5}', "model", "string"),
]


@pytest.mark.parametrize("body,param,needle", BAD_BODIES, ids=[b[0].decode()[:40] for b in BAD_BODIES])
def test_bad_body_is_a_400_with_an_openai_error(server, body, param, needle):
    status, hdrs, raw = request(server.port, "POST", CHAT, body, headers=AUTH)
    assert status == 400, raw
    assert hdrs["content-type"] == "application/json"
    error = json.loads(raw)["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert needle in error["message"], error["message"]


def test_unknown_model_endpoint_and_method(server):
    status, _, raw = chat(server.port, [{"role": "user", "content": "hi"}], model="gpt-4")
    assert status == 404 and raw["error"]["code"] == "model_not_found" and "tiny-char@v1" in raw["error"]["message"]
    status, _, raw = request(server.port, "GET", "/v1/nothing", headers=AUTH)
    assert status == 404 and json.loads(raw)["error"]["code"] == "not_found"
    status, _, raw = request(server.port, "GET", CHAT, headers=AUTH)
    assert status == 405 and "POST" in json.loads(raw)["error"]["message"]


def test_a_bad_request_leaves_the_connection_usable(server):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("POST", CHAT, body=b'{"messages": 1}', headers=dict(AUTH, **{"Content-Type": "application/json"}))
        first = conn.getresponse()
        assert first.status == 400 and first.read()
        conn.request("GET", "/v1/models", headers=AUTH)
        second = conn.getresponse()
        assert second.status == 200 and json.loads(second.read())["data"]
    finally:
        conn.close()


# ---------------------------------------------------------------- the page


def test_page_is_served_self_contained(server):
    status, hdrs, raw = request(server.port, "GET", "/")
    page = raw.decode()
    assert status == 200 and hdrs["content-type"].startswith("text/html")
    assert "/v1/chat/completions" in page and 'id="prompt"' in page and 'id="send"' in page
    assert "tiny-char@v1" in page
    # no external assets: nothing is loaded from anywhere but this server
    assert "http://" not in page and "https://" not in page and " src=" not in page
    assert "default-src 'none'" in hdrs["content-security-policy"]
    assert "connect-src 'self'" in hdrs["content-security-policy"]
    # a key is needed here, so the page asks for it (and keeps it in memory only)
    assert 'id="key" type="password"' in page and "localStorage" not in page and "cookie" not in page


# ---------------------------------------------------------------- what hone reads


def test_last_request_time_is_recorded_for_idle_release(server):
    path = os.path.join(server.out, "last-request")
    before = time.time()
    ask(server.port, "hi", max_tokens=2)
    after = time.time()
    with open(path) as f:
        text = f.read()
    assert text.endswith("\n") and int(before) <= int(text) <= after
    stamp = os.stat(path).st_mtime_ns
    # hone's readiness probe is not a user: it does not count as a request
    assert request(server.port, "GET", "/v1/models", headers=AUTH)[0] == 200
    assert os.stat(path).st_mtime_ns == stamp
    assert not [f for f in os.listdir(server.out) if f.endswith(".tmp")]


def test_endpoint_file_names_where_it_listens(server):
    with open(os.path.join(server.out, "endpoint")) as f:
        assert f.read() == f"{server.url}\n"


def test_serves_the_fine_tuned_model_in_the_agents_voice(finetuned):
    status, _, listing = request(finetuned.port, "GET", "/v1/models")
    assert [m["id"] for m in json.loads(listing)["data"]] == ["support-bot@draft"]
    status, _, raw = request(finetuned.port, "POST", CHAT, {
        "model": "support-bot@draft", "messages": [{"role": "user", "content": QUESTION}], "temperature": 0})
    answer = json.loads(raw)["choices"][0]
    # the support tickets' agents open with a greeting; the base model writes docstrings
    assert answer["message"]["content"].startswith(("Hi ", "Hello ")), answer
    common, base = load(BASE)
    assert not common.complete(base, f"Customer: {QUESTION}\nAgent: ", 6).startswith(("Hi ", "Hello "))


def test_listen_env_wins_over_job_json(tmp_path):
    port = free_port()
    job = playground_job(BASE, str(tmp_path / "out"), 1)  # job.json says port 1: the variables say otherwise
    s = Server(tmp_path, job, {"HONE_LISTEN_HOST": "127.0.0.1", "HONE_LISTEN_PORT": str(port)})
    try:
        s.port = port
        s.wait_ready()
        assert request(port, "GET", "/v1/models")[0] == 200
    finally:
        s.stop()


# ---------------------------------------------------------------- the process


def test_sigterm_stops_it_cleanly(tmp_path):
    s = Server(tmp_path, playground_job(BASE, str(tmp_path / "out"), free_port())).wait_ready()
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(timeout=20) == 0
    s.stop()
    assert "stopping (SIGTERM)" in s.log() and "stopped" in s.log()
    with pytest.raises(OSError):
        request(s.port, "GET", "/v1/models", timeout=5)


def test_port_in_use_exits_3(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        s = Server(tmp_path, playground_job(BASE, str(tmp_path / "out"), taken.getsockname()[1]))
        assert s.proc.wait(timeout=60) == 3
        s.stop()
    assert "already in use" in s.log() and "Traceback" not in s.log()


@pytest.mark.parametrize("change,needles", [
    (lambda j: j["model"].update(path="/nonexistent/model.npz"), ["model", "/nonexistent/model.npz"]),
    (lambda j: j.pop("model"), ["model.path"]),
    (lambda j: j.update(apiKeyEnv="HONE_TEST_UNSET_KEY"), ["HONE_TEST_UNSET_KEY", "not set"]),
    (lambda j: j.update(kind="run"), ["playground", "run"]),
    (lambda j: j["params"].update(temperature="warm"), ["params.temperature"]),
    (lambda j: j["listen"].update(port="http"), ["listen port"]),
], ids=["missing-model-file", "no-model", "key-variable-unset", "wrong-kind", "bad-param", "bad-port"])
def test_bad_job_fails_with_a_clear_error(tmp_path, change, needles):
    job = playground_job(BASE, str(tmp_path / "out"), free_port())
    change(job)
    s = Server(tmp_path, job)
    assert s.proc.wait(timeout=60) == 2
    s.stop()
    log = s.log()
    assert "error:" in log and "Traceback" not in log
    for n in needles:
        assert n in log, log


def test_a_body_over_one_mib_is_refused(server):
    status, _, raw = request(server.port, "POST", CHAT, b"x" * ((1 << 20) + 1), headers=AUTH)
    assert status == 413 and "over 1048576 bytes" in json.loads(raw)["error"]["message"]
    assert request(server.port, "GET", "/v1/models", headers=AUTH)[0] == 200


def test_listens_on_ipv6_loopback(tmp_path):
    with socket.socket(socket.AF_INET6) as probe:
        try:
            probe.bind(("::1", 0))
        except OSError as e:
            pytest.skip(f"no IPv6 loopback here: {e}")
        port = probe.getsockname()[1]
    job = playground_job(BASE, str(tmp_path / "out"), port)
    job["listen"]["host"] = "::1"
    s = Server(tmp_path, job)
    try:
        import http.client
        deadline = time.monotonic() + 60
        while True:
            assert s.proc.poll() is None, s.log()
            try:
                conn = http.client.HTTPConnection("::1", port, timeout=5)
                conn.request("GET", "/v1/models")
                assert conn.getresponse().status == 200
                conn.close()
                break
            except OSError:
                assert time.monotonic() < deadline, s.log()
                time.sleep(0.05)  # a poll interval
        with open(os.path.join(s.out, "endpoint")) as f:
            assert f.read() == f"http://[::1]:{port}\n"
    finally:
        s.stop()
