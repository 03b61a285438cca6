"""Serve the emulator over HTTP with the standard library (threaded ``wsgiref``)."""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.handlers import SimpleHandler
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer, make_server

from emulator.errors import ConnectionDropped

logger = logging.getLogger("emulator")


class _Handler(ServerHandler):
    def handle_error(self) -> None:
        if isinstance(sys.exc_info()[1], ConnectionDropped):
            raise ConnectionDropped()  # let the request handler close the socket unanswered
        super().handle_error()

    def close(self) -> None:
        if getattr(self, "status", None) is None:  # dropped before any answer: nothing to log
            SimpleHandler.close(self)
        else:
            super().close()


class _RequestHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle(self) -> None:
        """One request per connection (``Connection: close``), as wsgiref's own handler does."""
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = _Handler(
            self.rfile,
            self.wfile,  # type: ignore[arg-type]
            self.get_stderr(),
            self.get_environ(),
            multithread=True,
            multiprocess=False,
        )
        handler.request_handler = self  # type: ignore[attr-defined]
        handler.http_version = "1.1"
        try:
            handler.run(self.server.get_app())  # type: ignore[attr-defined]
        except ConnectionDropped:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, format: str, *args: Any) -> None:
        logger.info("%s %s", self.address_string(), format % args)


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


def make_emulator_server(app: Any, host: str = "127.0.0.1", port: int = 8089) -> ThreadingWSGIServer:
    """A threaded WSGI server for ``app`` (``port=0`` picks a free port: read ``server.server_port``)."""
    server = make_server(host, port, app, server_class=ThreadingWSGIServer, handler_class=_RequestHandler)
    assert isinstance(server, ThreadingWSGIServer)
    return server
