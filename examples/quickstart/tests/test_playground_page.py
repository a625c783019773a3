"""The chat page of handlers/serve.py in a real headless Chromium: type a prompt, press Send, see the answer.

Chromium is driven by chromedriver over the W3C WebDriver protocol (plain HTTP, spoken here with
urllib). Both come from Debian (`chromium`, `chromium-driver`); `scripts/install-deps.sh --test`
installs them. Without them the test is skipped, except under CI, where it fails.

    cd examples/quickstart && python3 -m pytest -q tests/test_playground_page.py
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from serving import BASE, KEY_ENV, Server, bearer, free_port, playground_job, request

KEY = "page-test-key-41d7"
DEADLINE = 60
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

if not (CHROMIUM and CHROMEDRIVER):
    if os.environ.get("CI"):
        raise RuntimeError("chromium and chromedriver are needed for the page test: run scripts/install-deps.sh --test")
    pytest.skip("chromium/chromedriver not installed (scripts/install-deps.sh --test installs them)",
                allow_module_level=True)


class WebDriver:
    """The few WebDriver commands the test needs, against one chromedriver process."""

    def __init__(self, tmp):
        self.port = free_port()
        self.log = open(os.path.join(str(tmp), "chromedriver.log"), "w")
        self.proc = subprocess.Popen([CHROMEDRIVER, f"--port={self.port}"], stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        until(lambda: self.call("GET", "/status").get("ready"), "chromedriver to be ready", self.proc)
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", f"--user-data-dir={tmp}/chromium-profile"]}}}}
        self.session = self.call("POST", "/session", caps)["sessionId"]

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return json.loads(resp.read())["value"]
        except urllib.error.HTTPError as e:
            raise AssertionError(f"WebDriver {method} {path}: {e.code} {e.read().decode()[:500]}") from None

    def do(self, method, path, body=None):
        return self.call(method, f"/session/{self.session}{path}", body)

    def open(self, url):
        self.do("POST", "/url", {"url": url})

    def find(self, css):
        found = self.do("POST", "/elements", {"using": "css selector", "value": css})
        return [next(iter(e.values())) for e in found]

    def type(self, css, text):
        [element] = self.find(css)
        self.do("POST", f"/element/{element}/value", {"text": text})

    def click(self, css):
        [element] = self.find(css)
        self.do("POST", f"/element/{element}/click", {})

    def text(self, element):
        return self.do("GET", f"/element/{element}/text")

    def attribute(self, element, name):
        return self.do("GET", f"/element/{element}/attribute/{name}")

    def quit(self):
        try:
            self.do("DELETE", "")
        finally:
            self.proc.terminate()
            self.proc.wait(timeout=20)
            self.log.close()


def until(condition, what, proc=None):
    """Polls condition() until it is truthy; fails after DEADLINE seconds."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"gave up waiting for {what}: the process exited {proc.returncode}")
        try:
            value = condition()
            if value:
                return value
        except (OSError, AssertionError):
            pass
        time.sleep(0.05)  # a poll interval, not a proof of anything
    raise AssertionError(f"gave up waiting for {what} after {DEADLINE}s")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("page")
    s = Server(tmp, playground_job(BASE, str(tmp / "out"), free_port(), api_key_env=KEY_ENV), {KEY_ENV: KEY})
    try:
        yield s.wait_ready(bearer(KEY))
    finally:
        s.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = WebDriver(tmp_path_factory.mktemp("chromium"))
    try:
        yield driver
    finally:
        driver.quit()


def finished_answers(browser):
    """The page's answers (and errors) once their request has ended."""
    out = []
    for element in browser.find("#log .assistant, #log .error"):
        if browser.attribute(element, "data-state") in ("done", "error"):
            out.append((browser.attribute(element, "class"), browser.text(element)))
    return out


def test_chat_page_shows_the_streamed_answer(server, browser):
    browser.open(server.url + "/")
    # without the key the server says 401, and the page shows it
    browser.type("#prompt", "my earbuds do not charge")
    browser.click("#send")
    [(cls, text)] = until(lambda: finished_answers(browser), "the page to show the 401")
    assert "error" in cls and text.startswith("401") and "API key" in text

    # with the key pasted, the answer streams in: the same text the API gives at the same settings
    browser.type("#key", KEY)
    browser.do("POST", "/execute/sync", {"script": "document.getElementById('temperature').value = '0';"
                                                   "document.getElementById('max-tokens').value = '40';", "args": []})
    browser.type("#prompt", "my earbuds do not charge")
    browser.click("#send")
    answers = until(lambda: (lambda a: a if len(a) == 2 else None)(finished_answers(browser)), "the answer")
    cls, text = answers[1]
    assert "assistant" in cls and text
    status, _, raw = request(server.port, "POST", "/v1/chat/completions", {
        "messages": [{"role": "user", "content": "my earbuds do not charge"}], "temperature": 0, "max_tokens": 40},
        headers=bearer(KEY))
    assert status == 200
    # what the page shows is the API's answer (innerText trims trailing spaces)
    assert text == json.loads(raw)["choices"][0]["message"]["content"].strip()
    prompts = [browser.text(e) for e in browser.find("#log .user")]
    assert prompts == ["my earbuds do not charge", "my earbuds do not charge"]
    assert "POST /v1/chat/completions 401" in server.log() and "POST /v1/chat/completions 200" in server.log()
