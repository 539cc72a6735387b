"""A small HTTP server on 127.0.0.1 for HTTP Task tests (in-process and on a fleet).

Routes: ``/missing`` answers 404 with a JSON body; ``/slow`` holds its answer until the
test releases it (or the server stops), so a TimeoutSeconds fires without sleeping;
anything else echoes the method, path, query and body as JSON with status 200.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class EchoServer:
    """A running server: its base URL and the gate its ``/slow`` route waits on."""

    url: str
    release: threading.Event = field(default_factory=threading.Event)
    requests: list[str] = field(default_factory=list)


def _reply(handler: BaseHTTPRequestHandler, status: int, body: object) -> None:
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    # A caller that timed out has hung up: what a timeout test expects.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        handler.wfile.write(data)


def _handler(server: EchoServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            parts = urlsplit(self.path)
            server.requests.append(f"{self.command} {self.path}")
            if parts.path == "/missing":
                _reply(self, 404, {"message": "no such thing"})
                return
            if parts.path == "/slow":
                server.release.wait(60)  # released by the test's teardown
            echo = {"method": self.command, "path": parts.path, "query": parts.query}
            _reply(self, 200, {**echo, "body": body})

        do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815

    return Handler


@contextmanager
def echo_server() -> Iterator[EchoServer]:
    """Serve on a free 127.0.0.1 port until the block ends (releasing ``/slow`` first)."""
    server = EchoServer(url="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.daemon_threads = True
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        httpd.shutdown()
        httpd.server_close()
