"""A TCP proxy on 127.0.0.1 in front of one upstream port, that a test cuts and restores."""

from __future__ import annotations

import contextlib
import socket
import threading


def free_port() -> int:
    """Return a loopback port that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TcpProxy:
    """Forwards connections on `port` to `upstream_port`; `cut` drops the listener and every
    live connection at once (as a failed link or a stopped server), `restore` listens again."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self._live: set[socket.socket] = set()
        self._mutex = threading.Lock()
        self._listener: socket.socket | None = None
        self.restore()

    def url(self, template: str) -> str:
        """Return `template` with `{port}` replaced by this proxy's port."""
        return template.format(port=self.port)

    def restore(self) -> None:
        """Listen again and forward new connections."""
        listener = socket.create_server(("127.0.0.1", self.port))
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Stop listening and close every live connection, both ways."""
        listener, self._listener = self._listener, None
        if listener is not None:
            _close(listener)
        with self._mutex:
            live, self._live = self._live, set()
        for conn in live:
            _close(conn)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # the listener was cut
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=2)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            with self._mutex:
                self._live |= {client, upstream}
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for conn in (source, target):
            with self._mutex:
                self._live.discard(conn)
            _close(conn)


def _close(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
    conn.close()
