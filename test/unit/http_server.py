"""A scripted HTTP server on 127.0.0.1 for download tests."""

from __future__ import annotations

import http.server
import threading
from typing import Callable


class ScriptedServer:
    """Answers each path with the next of its scripted responses.

    A response is (status, body) or a callable taking the handler.
    """

    def __init__(self):
        self.routes: dict[str, list] = {}
        self.requests: list[str] = []
        self.headers: list[dict] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                server.headers.append(dict(self.headers))
                script = server.routes.get(self.path) or [(404, b"not found")]
                response = script.pop(0) if len(script) > 1 else script[0]
                if callable(response):
                    response(self)
                    return
                status, body = response
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def route(self, path: str, *responses) -> None:
        self.routes[path] = list(responses)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def truncated(body: bytes) -> Callable:
    """A response that promises more bytes than it sends, then hangs up."""

    def respond(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body) * 2))
        handler.end_headers()
        handler.wfile.write(body)
        handler.close_connection = True

    return respond
