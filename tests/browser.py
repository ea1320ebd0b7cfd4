"""Headless Chromium for the page tests: a tiny Chrome DevTools Protocol client and the fixtures
`served` (the test's app behind a real HTTP server) and `browser` (a CDP client on one page).

Test modules import the fixtures they use: `from tests.browser import browser, served  # noqa: F401`.
"""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.request

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cdp:
    """A tiny Chrome DevTools Protocol client: one page target, commands answered in order."""

    def __init__(self, ws_url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0

    def send(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return message.get("result", {})

    def js(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 15.0):
        """Poll until `expression` is truthy. An expression that throws counts as "not yet": while a
        page is (re)loading its elements do not exist (e.g. `getElementById(...)` is null)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
            value = None if "exceptionDetails" in result else result["result"].get("value")
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {expression}; body: {self.js('document.body.innerText')!r}")

    def type_and_enter(self, text: str) -> None:
        """What a scanner gun does: characters into the focused element, then Enter."""
        self.send("Input.insertText", text=text)
        for kind in ("keyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", type=kind, key="Enter", code="Enter",
                      windowsVirtualKeyCode=13, nativeVirtualKeyCode=13, **({"text": "\r"} if kind == "keyDown" else {}))

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def served(app):
    """The test's app (same database and Redis) behind a real HTTP server on 127.0.0.1."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium with a DevTools port; yields a CDP client attached to its page."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        pytest.skip("chromium is not installed (apt-get install chromium): the browser test needs it")
    pytest.importorskip("websocket", reason="websocket-client (the `test` extra) is needed to talk CDP")
    port = free_port()
    process = subprocess.Popen(
        [executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
         "--disable-dev-shm-usage", "--window-size=1280,1000", f"--user-data-dir={tmp_path / 'profile'}",
         f"--remote-debugging-port={port}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cdp = None
    try:
        deadline = time.monotonic() + 30
        pages = []
        while time.monotonic() < deadline and not pages:
            if process.poll() is not None:
                pytest.skip(f"chromium exited at start (status {process.returncode})")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as answer:
                    pages = [t for t in json.load(answer) if t.get("type") == "page"]
            except OSError:
                time.sleep(0.2)
        assert pages, "chromium did not open its DevTools port"
        cdp = Cdp(pages[0]["webSocketDebuggerUrl"])
        cdp.send("Page.enable")
        cdp.send("Runtime.enable")
        yield cdp
    finally:
        if cdp:
            cdp.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
