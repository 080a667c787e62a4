"""A gunicorn worker whose own error answers are JSON ``{"error", "detail"}``.

gunicorn answers requests it cannot parse (a bad request line, a too long URI, too many or too
large headers) itself, before the app sees them, with a small HTML page. This worker keeps
gunicorn's judgement (which status, what to log, the access-log line) and changes only the
body: gunicorn writes its answer into a recorder, and the worker sends the same status as
JSON. The path is often unknown at that point (the request line is what failed), so every such
answer is JSON; browsers never send these requests.
"""
from __future__ import annotations

import json
from typing import Any

from gunicorn import util
from gunicorn.workers.sync import SyncWorker

_SERVER_ERROR = "something went wrong on the server; it has been logged"


class _Recorder:
    """Stands in for the client socket while gunicorn writes its HTML answer."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.data = b""

    def gettimeout(self) -> float:
        return 0.0  # so gunicorn's write_nonblock does not touch blocking mode

    def sendall(self, data: bytes) -> None:
        self.data += data

    def send(self, data: bytes) -> int:
        self.data += data
        return len(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _status(recorded: bytes) -> tuple[int, str]:
    line = recorded.split(b"\r\n", 1)[0].decode("latin-1")
    try:
        _, code, reason = line.split(" ", 2)
        return int(code), reason
    except ValueError:
        return 400, "Bad Request"


def json_error_response(status: int, reason: str, detail: str) -> bytes:
    body = json.dumps({"error": reason.lower(), "detail": detail},
                      ensure_ascii=False).encode("utf-8")
    head = (f"HTTP/1.1 {status} {reason}\r\n"
            "Connection: close\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Cache-Control: no-store\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "\r\n")
    return head.encode("latin-1") + body


class JsonErrorSyncWorker(SyncWorker):
    """gunicorn's sync worker, answering its own errors in JSON."""

    def handle_error(self, req, client, addr, exc):  # noqa: D102 — gunicorn's hook
        recorder = _Recorder(client)
        super().handle_error(req, recorder, addr, exc)
        status, reason = _status(recorder.data)
        detail = _SERVER_ERROR if status >= 500 else " ".join(str(exc).split())[:300]
        try:
            util.write_nonblock(client, json_error_response(status, reason, detail))
        except OSError:
            self.log.debug("Failed to send error message.")
