"""Starting handlers/serve.py the way a playground would, and talking HTTP to it (stdlib only).

Shared by test_serve.py and test_playground_page.py.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE = os.path.join(ROOT, "artifacts", "tiny-char-v1.npz")
KEY_ENV = "HONE_TEST_PLAYGROUND_KEY"
READY_SECONDS = 60

# variables a developer's shell may have that would change what the server does
CLEARED = ("HONE_PLAYGROUND_KEY", "HONE_LISTEN_HOST", "HONE_LISTEN_PORT", KEY_ENV)


def free_port() -> int:
    """A port nobody listens on right now (what hone does where the job runs)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def playground_job(model_path, outdir, port, name="tiny-char", version="v1", params=None, api_key_env=None):
    job = {
        "kind": "playground", "object": "support/try", "id": "test-playground", "attempt": 1,
        "params": params if params is not None else {"temperature": 0.7, "max_tokens": 200},
        "model": {"name": name, "version": version, "path": model_path},
        "runtime": {"name": "numpy", "version": "v1"},
        "listen": {"host": "127.0.0.1", "port": port},
        "outputDir": outdir,
    }
    if api_key_env:
        job["apiKeyEnv"] = api_key_env
    return job


class Server:
    """A running serve.py: its process, URL, outputDir and log."""

    def __init__(self, tmp, job, env_extra=None, name="serve"):
        self.tmp = str(tmp)
        self.job = job
        self.port = job["listen"]["port"]
        self.url = f"http://127.0.0.1:{self.port}"
        self.out = job["outputDir"]
        job_path = os.path.join(self.tmp, f"{name}.json")
        with open(job_path, "w") as f:
            json.dump(job, f)
        env = {k: v for k, v in os.environ.items() if k not in CLEARED}
        env.update(HONE_JOB=job_path, OMP_NUM_THREADS="1", **(env_extra or {}))
        self.log_path = os.path.join(self.tmp, f"{name}.log")
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen([sys.executable, "handlers/serve.py"], cwd=ROOT, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        with open(self.log_path) as f:
            return f.read()

    def wait_ready(self, headers=None):
        """Polls GET /v1/models, as hone does, until it answers 200 (or the process ends)."""
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve.py exited {self.proc.returncode} before it was ready:\n{self.log()}")
            try:
                status, _, _ = request(self.port, "GET", "/v1/models", headers=headers, timeout=2)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)  # a poll interval, not a proof of anything
        raise AssertionError(f"serve.py was not ready after {READY_SECONDS}s:\n{self.log()}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def request(port, method, path, body=None, headers=None, timeout=60):
    """One HTTP request; returns (status, headers as a lower-cased dict, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        hdrs = dict(headers or {})
        if data is not None:
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def bearer(key):
    return {"Authorization": f"Bearer {key}"}
