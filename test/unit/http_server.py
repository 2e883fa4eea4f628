"""A scripted HTTP server on 127.0.0.1 for download tests."""

from __future__ import annotations

import http.server
import threading
import time
from typing import Callable


class ScriptedServer:
    """Answers each path with the next of its scripted responses.

    A response is (status, body) or a callable taking the handler.
    """

    def __init__(self, host: str = "127.0.0.1"):
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

        self.httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.host = host
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.httpd.server_address[1]}{path}"

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


def trickle(body: bytes, interval: float = 0.05) -> Callable:
    """A response that sends `body` a byte at a time, one every `interval`
    seconds: never silent long enough for a per-read timeout."""

    def respond(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        try:
            for index in range(len(body)):
                handler.wfile.write(body[index:index + 1])
                handler.wfile.flush()
                time.sleep(interval)
        except OSError:  # the client gave up, as it should
            handler.close_connection = True

    return respond


def trickled_headers(interval: float = 0.05) -> Callable:
    """A status line and headers sent a byte at a time, without end."""

    def respond(handler):
        try:
            for _ in range(100_000):
                handler.wfile.write(b"X")
                handler.wfile.flush()
                time.sleep(interval)
        except OSError:
            handler.close_connection = True

    return respond


def stall(seconds: float, after_headers: bool = True) -> Callable:
    """Headers (or nothing at all), then silence for `seconds`."""

    def respond(handler):
        if after_headers:
            handler.send_response(200)
            handler.send_header("Content-Length", "1000")
            handler.end_headers()
            handler.wfile.flush()
        time.sleep(seconds)
        handler.close_connection = True

    return respond


def redirect(location: str, status: int = 302) -> Callable:
    def respond(handler):
        handler.send_response(status)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return respond


def echo_authorization(status: int = 500, raw: bool = False) -> Callable:
    """A hostile answer that sends the request's Authorization header back:
    in the reason phrase (or, `raw`, as the whole status line) and the body."""

    def respond(handler):
        secret = handler.headers.get("Authorization", "none")
        if raw:
            handler.wfile.write(f"{secret}\r\n\r\n".encode())
            handler.close_connection = True
            return
        body = secret.encode()
        handler.send_response(status, secret)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return respond
