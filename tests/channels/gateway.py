"""A real HTTP server playing an SMS gateway for the tests: checks the signature,
remembers every message by id (a repeated id is a duplicate it drops), and can fail the
first requests, answer one request too late, or be down."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Gateway:
    def __init__(self, secret: str = "s3cret", fail_first: int = 0, late_once: float = 0.0):
        self.secret = secret
        self.fail_first = fail_first
        self.late_once = late_once  # seconds to hold the first request before answering
        self.delay = 0.0  # seconds each accepted request takes
        self.down = False
        self.requests = 0
        self.bad_signatures = 0
        self.seen: Counter[str] = Counter()  # every id that reached it, with repeats
        self.accepted: dict[str, dict] = {}  # first acceptance of each id
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                gateway._handle(self, body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handle(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(h.headers.get("X-Kesu-Signature", ""), expected):
            with self.lock:
                self.bad_signatures += 1
            return self._answer(h, 401)
        message = json.loads(body)
        with self.lock:
            n = self.requests
            self.requests += 1
            late = self.late_once if n == 0 else 0.0
            if self.down or n < self.fail_first:
                return self._answer(h, 503)
            self.seen[message["id"]] += 1
            self.accepted.setdefault(message["id"], message)
        if late or self.delay:
            time.sleep(late or self.delay)
        self._answer(h, 200)

    @staticmethod
    def _answer(h: BaseHTTPRequestHandler, status: int) -> None:
        try:
            h.send_response(status)
            h.send_header("Content-Length", "0")
            h.end_headers()
        except OSError:  # the client gave up waiting
            pass

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Receiver:
    """A real HTTP server receiving kesu's webhooks as a subscriber should: it checks the
    signature of `<timestamp>.<body>` with the subscription's secret and refuses a
    timestamp more than `tolerance` seconds from its clock (a replay); it can fail the
    first requests or be down."""

    def __init__(self, now, secret: str = "", fail_first: int = 0, tolerance: int = 300):
        self.now = now  # the receiver's clock (the test's FrozenClock)
        self.secret = secret
        self.fail_first = fail_first
        self.tolerance = tolerance
        self.down = False
        self.status = 204  # what it answers a good delivery (e.g. 302 to a sign-in page)
        self.requests = 0
        self.refused: list[str] = []  # why each refused request was refused
        self.received: list[dict] = []  # accepted: {"headers": {...}, "json": {...}}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                Gateway._answer(self, receiver._handle(self.headers, body))

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/kesu"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handle(self, headers, body: bytes) -> int:
        stamp = headers.get("X-Kesu-Timestamp", "")
        signed = stamp.encode() + b"." + body
        expected = "sha256=" + hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest()
        with self.lock:
            self.requests += 1
            if self.down or self.requests <= self.fail_first:
                return 503
            if not hmac.compare_digest(headers.get("X-Kesu-Signature", ""), expected):
                self.refused.append("signature")
                return 401
            if not stamp.isdigit() or abs(self.now().timestamp() - int(stamp)) > self.tolerance:
                self.refused.append("timestamp")
                return 401
            headers = {k.lower(): v for k, v in headers.items()}  # names are case-blind
            if self.status >= 300:
                return self.status
            self.received.append({"headers": headers, "body": body, "json": json.loads(body)})
        return self.status

    def events(self) -> list[tuple[str, str]]:
        out = []
        for r in self.received:
            out.append((r["json"]["event"], (r["json"].get("complaint") or {}).get("number")))
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
