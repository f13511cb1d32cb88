"""A TCP proxy that can hold a connection's first bytes for a while, or swallow them: it puts a real process's
request "in flight" for as long as a fault test needs to kill something at exactly that moment."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from tests.rasa_stack import free_port


class FaultProxy:
    """Forwards 127.0.0.1:`port` to 127.0.0.1:`upstream`. A connection opened while `hold` is set waits that many
    seconds before its request goes on (or, with `drop`, is closed instead); `held` counts such connections."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.hold = 0.0
        self.drop = False
        self.held = 0
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._server.settimeout(0.2)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self._thread.join(timeout=2)
        self._server.close()

    def wait_until_held(self, timeout: float = 30.0) -> None:
        """Until a request is being held: the moment to kill something."""
        deadline = time.monotonic() + timeout
        while self.held == 0:
            if time.monotonic() > deadline:
                raise TimeoutError("no request reached the proxy")
            time.sleep(0.02)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client, self.hold, self.drop), daemon=True).start()

    def _serve(self, client: socket.socket, hold: float, drop: bool) -> None:
        with contextlib.closing(client):
            if hold:
                client.settimeout(hold + 5)
                with contextlib.suppress(OSError):
                    first = client.recv(65536)
                    self.held += 1
                    time.sleep(hold)
                    if drop or not first:
                        return
                    self._pipe(client, first)
                return
            self._pipe(client, b"")

    def _pipe(self, client: socket.socket, first: bytes) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream), timeout=5)
        except OSError:
            return
        with contextlib.closing(upstream):
            client.settimeout(None)
            upstream.settimeout(None)
            if first:
                upstream.sendall(first)
            back = threading.Thread(target=_copy, args=(upstream, client), daemon=True)
            back.start()
            _copy(client, upstream)
            back.join(timeout=360)


def _copy(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)
