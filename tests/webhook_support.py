"""A webhook receiver on 127.0.0.1 for the tests: records every request (path, headers, body); answers 200,
or the status a path names (``/status/500``), or a redirect (``/redirect``), a 10 MB body (``/big``),
after 3 seconds (``/slow``)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self):
        self.requests: list[tuple[str, dict, bytes]] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.arrived:
                    receiver.requests.append((self.path, dict(self.headers), body))
                    receiver.arrived.notify_all()
                if self.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", "http://10.0.0.1/")
                    self.end_headers()
                    return
                if self.path == "/slow":
                    time.sleep(3)
                status = int(self.path.rsplit("/", 1)[1]) if self.path.startswith("/status/") else 200
                payload = b"x" * (10 * 1024 * 1024) if self.path == "/big" else b"ok"
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 20) -> list[tuple[str, dict, bytes]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)
        return list(self.requests)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
