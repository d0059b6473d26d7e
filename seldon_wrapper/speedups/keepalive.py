"""Gunicorn worker for one-thread REST serving that keeps HTTP/1.1 connections open.

Gunicorn's sync worker (what the original ran with one thread) answers `Connection: close`:
every request then costs a TCP connect, accept and close on both sides, which on a small
prediction is more CPU than the prediction itself, and the load generator or caller on the
same machine pays its share too. This worker keeps the sync worker's contract (one thread,
one request at a time, the model never runs concurrently with itself in a process, a slow
request blocks only this worker until Gunicorn's timeout) and adds keep-alive, like the
gthread worker the original switched to with more than one thread:

* one epoll loop watches the listening socket(s) and the open connections; a readable
  connection is served at once, in this thread, with Gunicorn's own parser and WSGI glue;
* with several workers, a kept-alive connection stays with the worker that accepted it, so
  new connections must be spread: each worker publishes how many it holds (AcceptBoard) and
  leaves a new one to a worker holding fewer, unless that one is slow to take it;
* a connection idle for `keepalive` seconds is closed (`GUNICORN_KEEPALIVE=0` closes after
  every response, as the sync worker did); HTTP/1.0 and `Connection: close` requests close;
* on exit (SIGTERM, `max_requests`), requests that already arrived on open connections are
  answered (with `Connection: close`) before the connections are closed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import signal
import socket
import time
from datetime import datetime
from typing import Any

from gunicorn import http
from gunicorn.http import wsgi
from gunicorn.workers import base

from seldon_wrapper.speedups.accept_board import AcceptBoard

#: Seconds a closing connection may take to send its FIN after ours (lingering close).
LINGER_S = 2.0
#: Largest read when discarding what the client sent after we decided to close.
DRAIN_CHUNK = 65536
#: Response bytes buffered before they are sent (header block + a small body: one segment).
FLUSH_AT = 65536
#: Longest wait in epoll; the heartbeat and the idle sweep run at least this often.
TICK_S = 1.0
#: A worker holding more connections than another checks again after this long ...
ACCEPT_RECHECK_S = 0.002
#: ... and takes a waiting connection itself once it has waited this long.
ACCEPT_WAIT_S = 0.02

_QUIET_ERRNOS = (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, errno.ETIMEDOUT)


WORKER_CLASS = f"{__name__}.KeepAliveWorker"


def available() -> bool:
    """Keep-alive serving needs epoll (Linux); elsewhere the sync worker is used."""
    return hasattr(select, "epoll")


class _Parser(http.RequestParser):
    """Gunicorn's request parser, which can say whether it holds a next (pipelined) request.

    Its read-ahead buffer is the one piece of Gunicorn's internals this worker relies on
    (the same in Gunicorn 22 to 27); the pipelining tests guard it.
    """

    def buffered(self) -> bool:
        return self.unreader.buf.seek(0, os.SEEK_END) > 0


class _Conn:
    """One client connection: its socket, its parser (which buffers read-ahead), its clock."""

    __slots__ = ("sock", "addr", "server", "parser", "last", "closing_until")

    def __init__(self, sock: socket.socket, addr: Any, server: Any, parser: _Parser) -> None:
        self.sock = sock
        self.addr = addr
        self.server = server
        self.parser = parser
        self.last = time.monotonic()
        self.closing_until = 0.0


class _OneSend:
    """The socket as one response sees it: the header block and the body leave in one sendmsg.

    Gunicorn writes the headers and each body chunk with their own sendall; for a small answer
    that is two TCP segments, and the caller wakes up twice. Buffered parts go out together
    once they reach FLUSH_AT bytes or the response is complete (flush). Any other use of the
    socket (``send`` of a 100 Continue, ``sendfile``) sends what is buffered first.
    """

    __slots__ = ("sock", "parts", "size")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.parts: list[bytes] = []
        self.size = 0

    def sendall(self, data: bytes) -> None:
        self.parts.append(data)
        self.size += len(data)
        if self.size >= FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        parts, size = self.parts, self.size
        if not parts:
            return
        self.parts, self.size = [], 0
        if len(parts) == 1:
            self.sock.sendall(parts[0])
            return
        sent = self.sock.sendmsg(parts)
        if sent < size:  # interrupted part-way (rare): the rest, without joining the parts
            for part in parts:
                if sent >= len(part):
                    sent -= len(part)
                    continue
                self.sock.sendall(memoryview(part)[sent:])
                sent = 0

    def __getattr__(self, name: str) -> Any:
        self.flush()
        return getattr(self.sock, name)


class KeepAliveWorker(base.Worker):
    """Single-threaded Gunicorn worker with HTTP keep-alive (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.board: AcceptBoard | None = None
        self.slot = -1
        self.served = 0

    def use_board(self, board: AcceptBoard) -> None:
        """Master side, before the fork (Gunicorn's ``pre_fork``): share connections via board."""
        self.board = board
        self.slot = board.reserve(self)

    def init_signals(self) -> None:
        """Gunicorn's handlers, and a wake-up pipe of our own that ends the epoll wait."""
        super().init_signals()
        self.wakeup = os.pipe()
        for fd in self.wakeup:
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(self.wakeup[1])

    def run(self) -> None:
        self.conns: dict[int, _Conn] = {}
        self.listeners = {s.fileno(): s for s in self.sockets}
        self.poller = select.epoll()
        self.listening = False
        self.listen_again_at = 0.0
        self.declining_since = 0.0
        if self.board is not None:
            self.board.claim(self.slot)
        for listener in self.listeners.values():
            listener.setblocking(False)
        self._listen()
        self.poller.register(self.wakeup[0], select.EPOLLIN)
        tick = min(self.timeout or TICK_S, TICK_S)
        next_sweep = time.monotonic() + tick
        try:
            while self.alive:
                self.notify()
                wait = tick
                if not self.listening:
                    wait = min(tick, max(0.0, self.listen_again_at - time.monotonic()))
                offered = False
                for fd, _ in self.poller.poll(wait):
                    if fd in self.conns:
                        self._readable(self.conns[fd])
                    elif fd in self.listeners:
                        offered = True
                        if self.listening and self.alive and self._should_accept():
                            self._accept(self.listeners[fd])
                    elif fd == self.wakeup[0]:
                        self._read_wakeup()
                now = time.monotonic()
                if self.listening and not offered:
                    self.declining_since = 0.0
                elif not self.listening and now >= self.listen_again_at:
                    self._listen()
                if now >= next_sweep:
                    next_sweep = now + tick
                    self._sweep(now)
                    if self.ppid != os.getppid():
                        self.log.info("Parent changed, shutting down: %s", self)
                        break
        finally:
            self._finish()

    # -- sharing new connections between workers ---------------------------------------

    def _should_accept(self) -> bool:
        """Leave a new connection to a worker holding fewer, unless it is slow to take it."""
        if self.board is None:
            return True
        fewest = self.board.fewest_elsewhere(self.slot)
        if fewest is None or len(self.conns) <= fewest:
            return True
        now = time.monotonic()
        if not self.declining_since:
            self.declining_since = now
        elif now - self.declining_since >= ACCEPT_WAIT_S:
            return True  # the others are busy (or stuck): serve it here rather than late
        self._pause_accepting(now + ACCEPT_RECHECK_S)
        return False

    def _listen(self) -> None:
        for fd in self.listeners:
            self.poller.register(fd, select.EPOLLIN)
        self.listening = True

    def _pause_accepting(self, until: float) -> None:
        """Stop watching the listening sockets for a moment (else epoll reports them at once)."""
        for fd in self.listeners:
            self.poller.unregister(fd)
        self.listening = False
        self.listen_again_at = until

    def _count_changed(self) -> None:
        if self.board is not None:
            self.board.set_count(self.slot, len(self.conns))

    # -- connections -------------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        try:
            client, addr = listener.accept()
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                return
            raise
        client.setblocking(True)
        conn = _Conn(client, addr, listener.getsockname(), _Parser(self.cfg, client, addr))
        self.conns[client.fileno()] = conn
        self.poller.register(client.fileno(), select.EPOLLIN)
        self.declining_since = 0.0
        self._count_changed()

    def _readable(self, conn: _Conn) -> None:
        if conn.closing_until:
            self._drain_closing(conn)
            return
        self._serve(conn)

    def _serve(self, conn: _Conn) -> None:
        """Answer the request(s) waiting on a readable connection, then keep or close it."""
        req = None
        try:
            while True:
                req = next(conn.parser)
                if not self._handle_request(req, conn):
                    self._close(conn)
                    return
                try:
                    _discard_unread_body(req)
                except Exception:  # noqa: BLE001 - a bad body after our answer: just close
                    self._close(conn)
                    return
                req = None
                if not conn.parser.buffered():
                    break
            conn.last = time.monotonic()
        except (StopIteration, http.errors.NoMoreData):
            self._drop(conn)
        except OSError as exc:
            if exc.errno not in _QUIET_ERRNOS:
                self.log.exception("Socket error processing request.")
            self._drop(conn)
        except BaseException as exc:  # noqa: BLE001 - Gunicorn answers it (400 or 500)
            self.handle_error(req, conn.sock, conn.addr, exc)
            self._close(conn)

    def _handle_request(self, req: Any, conn: _Conn) -> bool:
        """Run the WSGI app for one request; True when the connection stays open."""
        environ: dict = {}
        resp = None
        try:
            self.cfg.pre_request(self, req)
            request_start = datetime.now()
            out = _OneSend(conn.sock)
            resp, environ = wsgi.create(req, out, conn.addr, conn.server, self.cfg)
            self.served += 1
            if self.served >= self.max_requests:
                if self.alive:
                    self.log.info("Autorestarting worker after current request.")
                    self.alive = False
            if not self.alive or not self.cfg.keepalive or len(self.conns) > self.cfg.worker_connections:
                resp.force_close()
            respiter = self.wsgi(environ, resp.start_response)
            try:
                if isinstance(respiter, environ["wsgi.file_wrapper"]):
                    resp.write_file(respiter)
                else:
                    for item in respiter:
                        resp.write(item)
                resp.close()
            finally:
                out.flush()
                self.log.access(resp, req, environ, datetime.now() - request_start)
                if hasattr(respiter, "close"):
                    respiter.close()
            return not resp.should_close() and resp.status_code != 413  # the body was not read
        except OSError:
            raise  # the client went away (or the socket failed): _serve closes quietly
        except (Exception, SystemExit):
            if resp is not None and resp.headers_sent:
                # The status line is out: a 500 now would corrupt the stream; just close.
                self.log.exception("Error handling request")
                raise StopIteration() from None
            raise
        finally:
            try:
                self.cfg.post_request(self, req, environ, resp)
            except Exception:
                self.log.exception("Exception in post_request hook")

    def _close(self, conn: _Conn) -> None:
        """Close after our last response: FIN first, then let the client finish (no RST)."""
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._drop(conn)
            return
        conn.sock.setblocking(False)
        conn.closing_until = time.monotonic() + LINGER_S
        self._drain_closing(conn)

    def _drain_closing(self, conn: _Conn) -> None:
        try:
            while conn.sock.recv(DRAIN_CHUNK):
                pass
        except (BlockingIOError, InterruptedError):
            return  # the client has not closed yet; epoll tells us when it does
        except OSError:
            pass
        self._drop(conn)

    def _drop(self, conn: _Conn) -> None:
        fd = conn.sock.fileno()
        if fd >= 0:
            if self.conns.pop(fd, None) is not None:
                self._count_changed()
            with contextlib.suppress(OSError, ValueError):
                self.poller.unregister(fd)
        with contextlib.suppress(OSError):
            conn.sock.close()

    def _sweep(self, now: float) -> None:
        idle_after = self.cfg.keepalive
        for conn in list(self.conns.values()):
            if conn.closing_until:
                if now >= conn.closing_until:
                    self._drop(conn)
            elif now - conn.last >= idle_after:
                self._drop(conn)

    def _read_wakeup(self) -> None:
        with contextlib.suppress(OSError):
            os.read(self.wakeup[0], 64)

    def _finish(self) -> None:
        """Leaving: answer what already arrived on open connections, then close them all."""
        if self.listening:
            for fd in self.listeners:
                self.poller.unregister(fd)
            self.listening = False
        self.alive = False
        try:
            ready = self.poller.poll(0)
        except OSError:
            ready = []
        for fd, _ in ready:
            conn = self.conns.get(fd)
            if conn is not None and not conn.closing_until:
                self._serve(conn)  # alive is False: the answer says Connection: close
        for conn in list(self.conns.values()):
            self._drop(conn)
        self.poller.close()
        if self.board is not None:
            self.board.release(self.slot)


def _discard_unread_body(req: Any) -> None:
    """Read what the app left of the body, so the next request starts where it should."""
    body = getattr(req, "body", None)
    if body is None:
        return
    while body.read(DRAIN_CHUNK):
        pass
