"""The HTTP side of a playground handler (specs/playground.md), standard library only: OpenAI's
`GET /v1/models` and `POST /v1/chat/completions` (with `stream: true` as server-sent events), a bearer
key when one is set, a chat page at `/`, `endpoint` and `last-request` written into outputDir.

A handler brings the model; this module serves it:

    import hone_job, hone_job.playground as playground

    class Model:
        model_id = "pyqa-lora@v1"                  # what /v1/models lists
        def render(self, messages): ...            # the conversation as the model's prompt text
        def count_tokens(self, text): ...          # usage figures
        def stream(self, prompt, max_tokens, temperature, seed, stop):
            ...                                    # yields text pieces, returns "stop" or "length"

    job = hone_job.load(kind="playground")
    server = playground.Server(job, Model())      # reads listen, params and the key from job.json
    server.serve_forever()                        # until SIGTERM/SIGINT

Load the model before making the Server: hone calls the playground ready once /v1/models answers.
Bad inputs raise HoneJobError (a handler exits 2 with it); a port already in use exits 3 (hone picks
another port and starts the handler again).
"""

from __future__ import annotations

import base64
import errno
import hashlib
import hmac
import html
import json
import math
import os
import signal
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ._json import HoneJobError

MAX_TOKENS_LIMIT = 4096
MAX_BODY = 1 << 20
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000
DEFAULT_KEY_ENV = "HONE_PLAYGROUND_KEY"
PORT_IN_USE_EXIT = 3
ROLES = ("system", "developer", "user", "assistant")
# name: (default, type); job.json params override the default, a request overrides both
PARAMS = {"temperature": (0.7, float), "max_tokens": (200, int)}


def _log(msg: str) -> None:
    print(msg, flush=True)


class RequestError(Exception):
    """A request the server refuses: an HTTP status and an OpenAI-style error."""

    def __init__(self, status: int, message: str, param: str | None = None,
                 code: str | None = None, kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.kind = status, message, param, code, kind

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


def first_stop(text: str, stop: list[str]) -> int | None:
    hits = [text.find(s) for s in stop if s and s in text]
    return min(hits) if hits else None

# --------------------------------------------------------------------------
# requests


def parse_completion_request(raw: bytes, defaults: dict, model_id: str) -> dict:
    """The checked fields of a /v1/chat/completions body; RequestError(400) names the bad one."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RequestError(400, f"the request body is not valid JSON: {e}") from None
    if not isinstance(body, dict):
        raise RequestError(400, "the request body must be a JSON object")
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise RequestError(400, "'model' must be a string", "model")
    if model not in (None, model_id):
        raise RequestError(404, f"the model {model!r} does not exist: this playground serves {model_id!r}",
                           "model", "model_not_found")
    req = {
        "messages": parse_messages(body.get("messages")),
        "stream": typed(body, "stream", False, bool),
        "temperature": number(body, "temperature", defaults["temperature"], 0.0, 2.0),
        "seed": integer(body, "seed", None, -(2**63), 2**63 - 1),
        "stop": parse_stop(body.get("stop")),
    }
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    name = "max_completion_tokens" if "max_completion_tokens" in body else "max_tokens"
    req["max_tokens"] = integer({name: limit}, name, defaults["max_tokens"], 1, MAX_TOKENS_LIMIT)
    if integer(body, "n", 1, 1, 2**31) != 1:
        raise RequestError(400, "'n' must be 1: this playground gives one choice", "n")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise RequestError(400, "'stream_options' must be an object", "stream_options")
    req["include_usage"] = typed(options or {}, "include_usage", False, bool)
    return req


def parse_messages(messages) -> list[dict]:
    if messages is None:
        raise RequestError(400, "'messages' is required: a list of {\"role\", \"content\"}", "messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError(400, "'messages' must be a non-empty list of {\"role\", \"content\"}", "messages")
    out = []
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(m, dict):
            raise RequestError(400, f"'{where}' must be an object with \"role\" and \"content\"", where)
        role = m.get("role")
        if role not in ROLES:
            raise RequestError(400, f"'{where}.role' must be one of {', '.join(ROLES)}, got {role!r}",
                               f"{where}.role")
        out.append({"role": role, "content": message_text(m.get("content"), f"{where}.content")})
    return out


def message_text(content, where: str) -> str:
    """A message's text: a string, or OpenAI's list of {"type": "text", "text"} parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) and p.get("type") == "text"
                                         and isinstance(p.get("text"), str) for p in content):
        return "".join(p["text"] for p in content)
    raise RequestError(400, f"'{where}' must be a string (or a list of text parts)", where)


def parse_stop(stop) -> list[str]:
    if stop is None:
        return []
    if isinstance(stop, str):
        return [stop] if stop else []
    if isinstance(stop, list) and len(stop) <= 4 and all(isinstance(s, str) for s in stop):
        return [s for s in stop if s]
    raise RequestError(400, "'stop' must be a string or a list of up to 4 strings", "stop")


def typed(body: dict, name: str, default, kind):
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, kind):
        raise RequestError(400, f"'{name}' must be a {kind.__name__}, got {json.dumps(value)}", name)
    return value


def number(body: dict, name: str, default: float, low: float, high: float) -> float:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low <= value <= high:
        raise RequestError(400, f"'{name}' must be a number from {low:g} to {high:g}, got {json.dumps(value)}", name)
    return float(value)


def integer(body: dict, name: str, default, low: int, high: int):
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RequestError(400, f"'{name}' must be an integer from {low} to {high}, got {json.dumps(value)}", name)
    return value


# --------------------------------------------------------------------------
# the server


class Playground:
    """What every request handler shares: the model, the defaults, the key, the outputDir."""

    def __init__(self, model, defaults: dict, api_key: str | None, out: str, placeholder: str):
        self.model = model
        self.defaults = defaults
        self.api_key = api_key
        self.out = out
        self.started = int(time.time())
        self.page = Page(model.model_id, defaults, api_key is not None, placeholder)
        self._write_lock = threading.Lock()

    def authorized(self, header: str | None) -> bool:
        if self.api_key is None:
            return True
        scheme, _, token = (header or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self.api_key.encode())

    def touch(self) -> None:
        """Records now as the last request time (a rename, so a reader never sees half a file)."""
        with self._write_lock:
            write_atomically(os.path.join(self.out, "last-request"), f"{int(time.time())}\n")


def write_atomically(path: str, text: str) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hone-playground/1"
    playground: Playground  # set on the subclass made in serve()

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            return self.send_page()
        self.answer(path, "GET", lambda: self.send_json(200, self.models()))

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        self.answer(path, "POST", self.chat_completion)

    def answer(self, path: str, method: str, action):
        """Routes /v1 requests, with auth and errors in OpenAI's shape."""
        routes = {"/v1/models": "GET", "/v1/chat/completions": "POST"}
        try:
            if path not in routes:
                raise RequestError(404, f"no such endpoint: {method} {path}", code="not_found")
            if routes[path] != method:
                raise RequestError(405, f"{path} takes {routes[path]}, not {method}", code="method_not_allowed")
            if not self.playground.authorized(self.headers.get("Authorization")):
                raise RequestError(401, "missing or wrong API key: send it as 'Authorization: Bearer <key>'",
                                   code="invalid_api_key")
            action()
        except RequestError as e:
            self.drain_body()
            self.send_json(e.status, e.body(), {"WWW-Authenticate": "Bearer"} if e.status == 401 else None)

    def models(self) -> dict:
        p = self.playground
        return {"object": "list", "data": [{"id": p.model.model_id, "object": "model",
                                             "created": p.started, "owned_by": "hone"}]}

    def chat_completion(self):
        p = self.playground
        p.touch()
        req = parse_completion_request(self.read_body(), p.defaults, p.model.model_id)
        prompt = p.model.render(req["messages"])
        pieces = p.model.stream(prompt, req["max_tokens"], req["temperature"], req["seed"], req["stop"])
        reply = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
                 "model": p.model.model_id}
        prompt_tokens = p.model.count_tokens(prompt)
        if req["stream"]:
            return self.send_stream(dict(reply, object="chat.completion.chunk"), pieces, prompt_tokens,
                                    req["include_usage"])
        content, finish = collect(pieces)
        self.send_json(200, dict(reply, choices=[{
            "index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish,
        }], usage=usage(prompt_tokens, p.model.count_tokens(content))))

    def send_stream(self, reply: dict, pieces, prompt_tokens: int, include_usage: bool):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")  # the end of the stream is the end of the body
        self.end_headers()
        self.close_connection = True

        def event(delta: dict, finish=None):
            chunk = dict(reply, choices=[{"index": 0, "delta": delta, "finish_reason": finish}])
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()

        try:
            event({"role": "assistant", "content": ""})
            sent = []
            while True:
                try:
                    piece = next(pieces)
                except StopIteration as done:
                    finish = done.value
                    break
                sent.append(piece)
                event({"content": piece})
            event({}, finish)
            if include_usage:
                chunk = dict(reply, choices=[], usage=usage(prompt_tokens, self.playground.model.count_tokens("".join(sent))))
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away: nothing to answer

    def read_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise RequestError(400, "bad Content-Length header") from None
        if length > MAX_BODY:
            self.close_connection = True
            raise RequestError(413, f"the request body is over {MAX_BODY} bytes")
        self._body_read = True
        return self.rfile.read(length) if length > 0 else b""

    def drain_body(self):
        """Reads an unread body so the connection can take the next request."""
        if getattr(self, "_body_read", False) or self.command != "POST":
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if 0 <= length <= MAX_BODY:
            self.rfile.read(length)
        else:
            self.close_connection = True

    def send_json(self, status: int, obj: dict, headers: dict | None = None):
        data = (json.dumps(obj) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def send_page(self):
        data = self.playground.page.html.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Security-Policy", self.playground.page.policy)
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_request(self, code="-", size="-"):
        # method, path (without a query) and status only: headers, and so the key, never reach the log
        _log(f"{self.command} {self.path.split('?', 1)[0]} {getattr(code, 'value', code)}")


def collect(pieces) -> tuple[str, str]:
    parts = []
    while True:
        try:
            parts.append(next(pieces))
        except StopIteration as done:
            return "".join(parts), done.value


def usage(prompt_tokens: int, completion_tokens: int) -> dict:
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}

# --------------------------------------------------------------------------
# the page


PAGE_STYLE = """
body { font: 15px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 46rem; padding: 1rem; color: #222; }
header { display: flex; gap: 1rem; align-items: baseline; flex-wrap: wrap; }
h1 { font-size: 1.2rem; margin: 0; }
#log { border: 1px solid #ccc; border-radius: 6px; min-height: 12rem; padding: .5rem; margin: .8rem 0; }
.msg { white-space: pre-wrap; margin: .3rem 0; padding: .4rem .6rem; border-radius: 6px; }
.user { background: #e8f0fe; }
.assistant { background: #f1f3f4; }
.error { background: #fde7e9; color: #a50e0e; }
form { display: flex; gap: .5rem; }
#prompt { flex: 1; font: inherit; padding: .4rem; }
.settings { display: flex; gap: 1rem; margin-top: .6rem; font-size: .9rem; flex-wrap: wrap; }
.settings input { width: 5rem; }
#key { width: 14rem; }
[hidden] { display: none !important; }
"""

PAGE_SCRIPT = """
const $ = (id) => document.getElementById(id);
const history = [];
function add(role, text) {
  const div = document.createElement("div");
  div.className = "msg " + role;
  div.textContent = text;
  $("log").appendChild(div);
  div.scrollIntoView({block: "end"});
  return div;
}
function show(out, chunk) {
  for (const line of chunk.split("\\n")) {
    if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
    const choice = JSON.parse(line.slice(6)).choices[0];
    if (choice && choice.delta && choice.delta.content) out.textContent += choice.delta.content;
  }
}
async function send(event) {
  event.preventDefault();
  const text = $("prompt").value.trim();
  if (!text) return;
  $("prompt").value = "";
  add("user", text);
  history.push({role: "user", content: text});
  const out = add("assistant", "");
  out.dataset.state = "streaming";
  $("send").disabled = true;
  const headers = {"Content-Type": "application/json"};
  const key = $("key").value.trim();  // kept in this page's memory only, never stored
  if (key) headers["Authorization"] = "Bearer " + key;
  const body = {model: document.body.dataset.model, messages: history, stream: true,
                temperature: Number($("temperature").value), max_tokens: Number($("max-tokens").value)};
  try {
    const response = await fetch("/v1/chat/completions", {method: "POST", headers, body: JSON.stringify(body)});
    if (!response.ok) {
      const error = await response.json().catch(() => ({}));
      throw new Error(response.status + ": " + ((error.error && error.error.message) || response.statusText));
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, {stream: true});
      let end;
      while ((end = buffer.indexOf("\\n\\n")) >= 0) {
        show(out, buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
    history.push({role: "assistant", content: out.textContent});
    if (!out.textContent) out.textContent = "(empty answer)";
    out.dataset.state = "done";
  } catch (error) {
    history.pop();
    out.className = "msg error";
    out.textContent = String(error.message || error);
    out.dataset.state = "error";
  }
  $("send").disabled = false;
  $("prompt").focus();
}
$("chat").addEventListener("submit", send);
$("clear").addEventListener("click", () => { history.length = 0; $("log").replaceChildren(); });
$("prompt").focus();
"""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - hone playground</title><style>{style}</style></head>
<body data-model="{model}">
<header><h1>{title}</h1><span>hone playground</span></header>
<div id="log" aria-live="polite"></div>
<form id="chat"><input id="prompt" autocomplete="off" placeholder="{placeholder}">
<button id="send" type="submit">Send</button><button id="clear" type="button">New chat</button></form>
<div class="settings">
<label>temperature <input id="temperature" type="number" min="0" max="2" step="0.1" value="{temperature}"></label>
<label>max tokens <input id="max-tokens" type="number" min="1" max="{max_limit}" value="{max_tokens}"></label>
<label{key_hidden}>API key <input id="key" type="password" autocomplete="off" placeholder="this playground needs its key"></label>
</div>
<script>{script}</script>
</body></html>
"""


class Page:
    """The chat page and its Content-Security-Policy: only its own inline script and style may run."""

    def __init__(self, model_id: str, defaults: dict, key_required: bool, placeholder: str):
        self.html = PAGE.format(title=html.escape(model_id), model=html.escape(model_id, quote=True),
                                style=PAGE_STYLE, script=PAGE_SCRIPT, temperature=defaults["temperature"],
                                max_tokens=defaults["max_tokens"], max_limit=MAX_TOKENS_LIMIT,
                                key_hidden="" if key_required else " hidden",
                                placeholder=html.escape(placeholder, quote=True))
        self.policy = (f"default-src 'none'; script-src '{digest(PAGE_SCRIPT)}'; style-src '{digest(PAGE_STYLE)}'; "
                       "connect-src 'self'; base-uri 'none'; form-action 'none'")


def digest(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()



# --------------------------------------------------------------------------
# reading job.json, listening


def read_defaults(job) -> dict:
    """Request defaults from job.json params (temperature 0-2, max_tokens 1-4096); warns about others."""
    unknown = sorted(set(job.params) - set(PARAMS))
    if unknown:
        print(f"warning: ignoring unknown params: {', '.join(unknown)} (known: {', '.join(PARAMS)})",
              file=sys.stderr, flush=True)
    d = {k: job.param(k, default, kind) for k, (default, kind) in PARAMS.items()}
    if not 0 <= d["temperature"] <= 2:
        raise HoneJobError(f"params.temperature: want a number from 0 to 2, got {d['temperature']}")
    if not 1 <= d["max_tokens"] <= MAX_TOKENS_LIMIT:
        raise HoneJobError(f"params.max_tokens: want 1 to {MAX_TOKENS_LIMIT}, got {d['max_tokens']}")
    return d


def read_api_key(job) -> tuple[str | None, str]:
    """The bearer key and the name of the variable it came from (only the name is ever shown)."""
    name = job.data.get("apiKeyEnv")
    if name is None:
        return os.environ.get(DEFAULT_KEY_ENV) or None, DEFAULT_KEY_ENV
    if not isinstance(name, str) or not name:
        raise HoneJobError("job: 'apiKeyEnv' must name an environment variable")
    key = os.environ.get(name)
    if not key:
        raise HoneJobError(f"job: apiKeyEnv names {name}, but {name} is not set: "
                           "the playground would be open to anyone, so it does not start")
    return key, name


def read_listen(job) -> tuple[str, int]:
    listen = job.data.get("listen") or {}
    if not isinstance(listen, dict):
        raise HoneJobError("job: 'listen' must be a map {host, port}")
    host = os.environ.get("HONE_LISTEN_HOST") or listen.get("host") or DEFAULT_HOST
    port = os.environ.get("HONE_LISTEN_PORT") or listen.get("port")
    if port is None:
        port = DEFAULT_PORT
    try:
        if isinstance(port, bool) or float(port) != int(float(port)) or not 0 <= int(float(port)) <= 65535:
            raise ValueError
    except (TypeError, ValueError):
        raise HoneJobError(f"listen port: want an integer from 0 to 65535, got {port!r}") from None
    if not isinstance(host, str):
        raise HoneJobError(f"listen host: want a string, got {host!r}")
    return host, int(float(port))


def bind(host: str, port: int, handler) -> ThreadingHTTPServer:
    # daemon request threads (ThreadingHTTPServer's default): a stop never waits for an idle keep-alive client
    server_class = ThreadingHTTPServer
    if ":" in host:
        server_class = type("IPv6Server", (ThreadingHTTPServer,), {"address_family": socket.AF_INET6})
    try:
        return server_class((host, port), handler)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            print(f"error: cannot listen on {host}:{port}: the port is already in use", file=sys.stderr, flush=True)
            sys.exit(PORT_IN_USE_EXIT)
        raise HoneJobError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None


class Server:
    """A bound playground server for `model` (see the module's docstring), configured from `job`."""

    def __init__(self, job, model, placeholder: str = "Ask something"):
        self.defaults = read_defaults(job)
        key, self.key_env = read_api_key(job)
        host, port = read_listen(job)
        self.out = job.output_dir
        os.makedirs(self.out, exist_ok=True)
        self.playground = Playground(model, self.defaults, key, self.out, placeholder)
        handler = type("PlaygroundHandler", (Handler,), {"playground": self.playground})
        self.http = bind(host, port, handler)
        bound_host, bound_port = self.http.server_address[:2]
        self.url = f"http://[{bound_host}]:{bound_port}" if ":" in bound_host else f"http://{bound_host}:{bound_port}"

    def serve_forever(self) -> None:
        """Writes outputDir/endpoint, then serves until SIGTERM or SIGINT."""
        def stop(signum, _frame):
            _log(f"stopping ({signal.Signals(signum).name})")
            threading.Thread(target=self.http.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        write_atomically(os.path.join(self.out, "endpoint"), self.url + "\n")
        _log(f"serving {self.playground.model.model_id} on {self.url} (temperature {self.defaults['temperature']}, "
             f"max_tokens {self.defaults['max_tokens']}; "
             + (f"API key required, from ${self.key_env})" if self.playground.api_key else "no API key)"))
        try:
            self.http.serve_forever(poll_interval=0.2)
        finally:
            self.http.server_close()
        _log("stopped")
