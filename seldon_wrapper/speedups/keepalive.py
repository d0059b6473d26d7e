"""Gunicorn worker for one-thread REST serving: keeps connections open, never waits on a client.

Gunicorn's sync worker (what the original ran with one thread) answers `Connection: close`,
so every request costs a TCP connect, accept and close on both sides; and it reads each
request with blocking calls, so one client that trickles its headers or body holds the
worker, and every other caller of the model waits, until Gunicorn's timeout kills it. This
worker keeps the sync worker's contract (one thread, one request at a time, the model never
runs concurrently with itself in a process, Gunicorn's flags, heartbeat, ``max_requests`` and
graceful exit) and changes how connections are handled:

* one epoll loop watches the listening socket(s) and the open connections, all non-blocking;
  what a connection sends goes to its RequestReader (http_reader.py), and the app runs only
  for a request that has fully arrived; a request stalled past its header or body deadline
  is answered 408 and closed, one over a limit 413/414/431;
* an answer leaves in one ``sendmsg`` when the socket takes it; what the client does not read
  yet waits in the connection's outbox, and the loop serves others meanwhile;
* connections are kept open (HTTP/1.1 keep-alive), up to Gunicorn's ``worker_connections``
  per worker; beyond it new connections wait in the listen backlog. An idle one is closed
  after ``keepalive`` seconds (`GUNICORN_KEEPALIVE=0` closes after every response, as the
  sync worker did); HTTP/1.0 and `Connection: close` requests close;
* with several workers, a kept-alive connection stays with the worker that accepted it, so
  new connections must be spread: each worker publishes how many it holds (AcceptBoard) and
  leaves a new one to a worker holding fewer, unless that one is slow to take it;
* on exit (SIGTERM, ``max_requests``) the worker takes what is left in the listen backlog,
  stops accepting, answers every request that has begun to arrive (with `Connection: close`),
  then closes; Gunicorn's ``graceful_timeout`` (our grace period) bounds the wait. On SIGTERM
  readiness turns to 503 at once (``on_stopping``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import signal
import socket
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from gunicorn.http import wsgi
from gunicorn.workers import base

from seldon_wrapper.speedups.accept_board import AcceptBoard
from seldon_wrapper.speedups.batch_groups import BatchGroups
from seldon_wrapper.speedups.http_reader import ReadLimits, Refusal, Request, RequestReader

#: Seconds a closing connection may take to send its FIN after ours (lingering close).
LINGER_S = 2.0
#: Largest single read from a connection.
READ_SIZE = 262144
#: Longest wait in epoll; the heartbeat, deadlines and the idle sweep run at least this often.
TICK_S = 1.0
#: A worker holding more connections than another checks again after this long ...
ACCEPT_RECHECK_S = 0.002
#: ... and takes a waiting connection itself once it has waited this long.
ACCEPT_WAIT_S = 0.02
#: Most connections taken from the backlog per wake-up (the rest on the next one).
ACCEPT_BATCH = 64
#: Most buffers handed to one sendmsg (the kernel's IOV_MAX is 1024).
IOV_BATCH = 512

_QUIET_ERRNOS = (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, errno.ETIMEDOUT)
_IN = select.EPOLLIN
_OUT = select.EPOLLOUT
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

WORKER_CLASS = f"{__name__}.KeepAliveWorker"

#: Builds the whole answer to a refused request: (refusal, the request's headers) -> bytes.
RefusalWriter = Callable[[Refusal, list], bytes]


def available() -> bool:
    """This worker needs epoll (Linux); elsewhere the sync worker is used."""
    return hasattr(select, "epoll")


class _Outbox:
    """What a connection still has to send: answers leave in one sendmsg, never blocking.

    Gunicorn writes the headers and each body chunk with their own sendall; here they are
    gathered and go out together when the response is complete (flush), so a small answer is
    one TCP segment. What the socket does not take stays here until it is writable again.
    """

    __slots__ = ("sock", "parts", "size")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.parts: list[bytes | memoryview] = []
        self.size = 0

    def sendall(self, data: bytes) -> None:
        if data:
            self.parts.append(data)
            self.size += len(data)

    def send(self, data: bytes) -> int:
        self.sendall(data)
        return len(data)

    def sendfile(self, file: Any, offset: int = 0, count: int | None = None) -> int:
        """Gunicorn's ``wsgi.file_wrapper`` path; the file is read into the outbox."""
        file.seek(offset)
        data = file.read() if count is None else file.read(count)
        self.sendall(data)
        return len(data)

    def flush(self) -> bool:
        """Send what the socket takes now; True once everything is out."""
        parts = self.parts
        while parts:
            try:
                sent = self.sock.sendmsg(parts[:IOV_BATCH])
            except (BlockingIOError, InterruptedError):
                return False
            self.size -= sent
            while sent:
                first = parts[0]
                if sent >= len(first):
                    sent -= len(first)
                    del parts[0]
                else:
                    parts[0] = memoryview(first)[sent:]
                    sent = 0
        return True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


class _Conn:
    """One client connection: its socket, reader, outbox and clocks."""

    __slots__ = (
        "sock",
        "addr",
        "server",
        "reader",
        "outbox",
        "last",
        "closing_until",
        "write_deadline",
        "refusal",
        "ending",
        "in_group",
    )

    def __init__(self, sock: socket.socket, addr: Any, server: Any, limits: ReadLimits, scheme: str) -> None:
        self.sock = sock
        self.addr = addr
        self.server = server
        self.outbox = _Outbox(sock)
        self.reader = RequestReader(limits, scheme, self._send_continue)
        self.last = time.monotonic()
        self.closing_until = 0.0
        self.write_deadline = 0.0
        self.refusal: Refusal | None = None
        self.ending = False  # the last answer is decided: close once it is out
        self.in_group = False  # its next request waits in a batch group (batch_groups.py)

    def _send_continue(self) -> None:
        self.outbox.sendall(_CONTINUE)
        with contextlib.suppress(OSError):  # a broken socket shows at the next read or write
            self.outbox.flush()  # the client waits for it; if it cannot go now, it goes with the answer


class KeepAliveWorker(base.Worker):
    """Single-threaded, non-blocking Gunicorn worker with HTTP keep-alive (module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.board: AcceptBoard | None = None
        self.slot = -1
        self.served = 0
        self.our_limits: dict[str, Any] = {}
        self.write_refusal: RefusalWriter = plain_refusal
        self.on_refused: Callable[[str], None] = lambda kind: None
        self.on_stopping: Callable[[], None] = lambda: None
        self.groups: BatchGroups | None = None

    def configure(
        self,
        limits: dict[str, Any],
        write_refusal: RefusalWriter,
        on_refused: Callable[[str], None],
        on_stopping: Callable[[], None],
        board: AcceptBoard | None,
        groups: BatchGroups | None = None,
    ) -> None:
        """Master side, before the fork (Gunicorn's ``pre_fork``): our limits, answers, hooks,
        and the batch groups when adaptive batching is on."""
        self.groups = groups
        self.our_limits = limits
        self.write_refusal = write_refusal
        self.on_refused = on_refused
        self.on_stopping = on_stopping
        if board is not None:
            self.use_board(board)

    def use_board(self, board: AcceptBoard) -> None:
        """Share new connections with the other workers through ``board`` (before the fork)."""
        self.board = board
        self.slot = board.reserve(self)

    def init_signals(self) -> None:
        """Gunicorn's handlers, and a wake-up pipe of our own that ends the epoll wait."""
        super().init_signals()
        self.wakeup = os.pipe()
        for fd in self.wakeup:
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(self.wakeup[1])

    def handle_exit(self, sig: int, frame: Any) -> None:
        """SIGTERM: readiness turns to 503 at once; what was accepted is still answered."""
        super().handle_exit(sig, frame)
        self.on_stopping()

    def run(self) -> None:
        self.limits = ReadLimits.from_gunicorn(self.cfg, **self.our_limits)
        self.scheme = "https" if self.cfg.is_ssl else "http"
        self.max_conns = max(1, self.cfg.worker_connections)
        self.conns: dict[int, _Conn] = {}
        self.listeners = {s.fileno(): s for s in self.sockets}
        self.poller = select.epoll()
        self.listening = False
        self.listen_again_at = 0.0
        self.declining_since = 0.0
        self.gathered: list[tuple[Request, _Conn, float]] = []
        self.revisit: list[_Conn] = []
        self.gathering = False
        if self.board is not None:
            self.board.claim(self.slot)
        for listener in self.listeners.values():
            listener.setblocking(False)
        self._listen()
        self.poller.register(self.wakeup[0], _IN)
        tick = min(self.timeout or TICK_S, TICK_S)
        next_sweep = time.monotonic() + tick
        try:
            while self.alive:
                self.notify()
                wait = tick
                if not self.listening and len(self.conns) < self.max_conns:
                    wait = min(tick, max(0.0, self.listen_again_at - time.monotonic()))
                offered = self._events(wait)
                now = time.monotonic()
                if self.listening:
                    if len(self.conns) >= self.max_conns:
                        self._pause_accepting(now)  # the rest wait in the backlog
                    elif not offered:
                        self.declining_since = 0.0
                elif now >= self.listen_again_at and len(self.conns) < self.max_conns:
                    self._listen()
                if now >= next_sweep:
                    next_sweep = now + tick
                    self._sweep(now)
                    if self.ppid != os.getppid():
                        self.log.info("Parent changed, shutting down: %s", self)
                        break
        finally:
            self._finish()

    def _events(self, wait: float) -> bool:
        """Handle what epoll reports; True when a listener offered a connection."""
        offered = False
        for fd, event in self.poller.poll(wait):
            conn = self.conns.get(fd)
            if conn is not None:
                if event & _OUT:
                    self._writable(conn)
                else:
                    self._readable(conn)
            elif fd in self.listeners:
                offered = True
                if self.listening and self.alive:
                    self._accept(self.listeners[fd])
            elif fd == self.wakeup[0]:
                self._read_wakeup()
        if self.gathered and not self.gathering:
            self._serve_gathered()
        return offered

    # -- batch groups (batch_groups.py) ------------------------------------------------

    def _gather(self, conn: _Conn) -> bool:
        """Take ``conn``'s next request into the group when it is a batched prediction;
        True when the connection must wait (gathered, or the group is full)."""
        groups = self.groups
        if groups is None or not groups.takes(conn.reader.ready[0]):
            return False
        if not conn.in_group:
            if len(self.gathered) >= groups.max_size:
                self.revisit.append(conn)  # served after this group
            else:
                conn.in_group = True
                self.gathered.append((conn.reader.ready.popleft(), conn, time.monotonic()))
        return True

    def _serve_gathered(self) -> None:
        """Serve the gathered groups: wait for company when callers arrive together, then run
        each group through the batcher and carry on with its connections."""
        groups = self.groups
        self.gathering = True
        try:
            while self.gathered:
                oldest = self.gathered[0][2]
                while self.alive and groups.wants_company(len(self.gathered)):
                    left = oldest + groups.max_wait_s - time.monotonic()
                    if left <= 0:
                        break
                    self._events(left)
                group, self.gathered = self.gathered, []
                keeps = groups.run([(request, conn) for request, conn, _ in group], self._handle_request)
                for (_, conn, _), keep in zip(group, keeps, strict=True):
                    conn.in_group = False
                    if not keep:
                        conn.ending = True
                    self._continue(conn)
                revisit, self.revisit = self.revisit, []
                for conn in revisit:
                    if conn.sock.fileno() >= 0 and not conn.in_group:
                        self._serve_ready(conn)
        finally:
            self.gathering = False

    def _continue(self, conn: _Conn) -> None:
        """After a group: send the answer, then serve what else the connection sent."""
        if conn.sock.fileno() < 0:
            return  # dropped while its request waited
        try:
            if conn.outbox.parts and not conn.outbox.flush():
                conn.write_deadline = time.monotonic() + self.limits.body_timeout
                self.poller.modify(conn.sock.fileno(), _OUT)
                return
        except OSError as exc:
            if exc.errno not in _QUIET_ERRNOS:
                self.log.warning("Socket error answering a request: %s", exc)
            self._drop(conn)
            return
        self._serve_ready(conn)

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
            self.poller.register(fd, _IN)
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
        for _ in range(ACCEPT_BATCH):
            if len(self.conns) >= self.max_conns or not self.listening or not self._should_accept():
                return
            try:
                client, addr = listener.accept()
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                    return
                raise
            self._add(client, addr, listener)
            self.declining_since = 0.0

    def _add(self, client: socket.socket, addr: Any, listener: socket.socket) -> None:
        client.setblocking(False)
        self.conns[client.fileno()] = _Conn(client, addr, listener.getsockname(), self.limits, self.scheme)
        self.poller.register(client.fileno(), _IN)
        self._count_changed()

    def _accept_backlog(self) -> None:
        """Leaving: take the connections clients already opened (their requests are accepted)."""
        for listener in self.listeners.values():
            while len(self.conns) < self.max_conns:
                try:
                    client, addr = listener.accept()
                except OSError:
                    break
                self._add(client, addr, listener)

    def _readable(self, conn: _Conn) -> None:
        if conn.closing_until:
            self._drain_closing(conn)
            return
        try:
            data = conn.sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            if exc.errno not in _QUIET_ERRNOS:
                self.log.warning("Socket error reading a request: %s", exc)
            self._drop(conn)
            return
        if not data:  # the client closed: what it began but did not finish is dropped
            self._drop(conn)
            return
        if conn.refusal is not None or conn.ending:
            return  # its answer is decided; the rest is not read
        try:
            conn.reader.feed(data, time.monotonic())
        except Refusal as refusal:
            conn.refusal = refusal
        self._serve_ready(conn)

    def _serve_ready(self, conn: _Conn) -> None:
        """Answer the complete requests in order, then a refusal, then keep or close."""
        reader = conn.reader
        if conn.in_group:
            return  # answered when its group is
        try:
            while not conn.ending and not conn.outbox.parts:
                if reader.ready:
                    if self._gather(conn):
                        return
                    if not self._handle_request(reader.ready.popleft(), conn):
                        conn.ending = True
                elif conn.refusal is not None:
                    self._refuse(conn, conn.refusal)
                    conn.ending = True
                else:
                    break
                if not conn.outbox.flush():
                    conn.write_deadline = time.monotonic() + self.limits.body_timeout
                    self.poller.modify(conn.sock.fileno(), _OUT)
                    return
        except OSError as exc:
            if exc.errno not in _QUIET_ERRNOS:
                self.log.warning("Socket error answering a request: %s", exc)
            self._drop(conn)
            return
        conn.last = time.monotonic()
        if conn.ending and not conn.outbox.parts:
            self._close(conn)

    def _writable(self, conn: _Conn) -> None:
        size = conn.outbox.size
        try:
            done = conn.outbox.flush()
        except OSError:
            self._drop(conn)
            return
        if conn.outbox.size < size:  # progress: the client is reading
            conn.write_deadline = time.monotonic() + self.limits.body_timeout
        if done:
            self.poller.modify(conn.sock.fileno(), _IN)
            self._serve_ready(conn)

    def _handle_request(self, req: Request, conn: _Conn) -> bool:
        """Run the WSGI app for one request; True when the connection stays open."""
        environ: dict = {}
        resp = None
        try:
            self.cfg.pre_request(self, req)
            request_start = datetime.now()
            resp, environ = wsgi.create(req, conn.outbox, conn.addr, conn.server, self.cfg)
            self.served += 1
            if self.served >= self.max_requests:
                if self.alive:
                    self.log.info("Autorestarting worker after current request.")
                    self.alive = False
            if not self.alive or not self.cfg.keepalive:
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
                self.log.access(resp, req, environ, datetime.now() - request_start)
                if hasattr(respiter, "close"):
                    respiter.close()
            return not resp.should_close()
        except Exception:
            if resp is not None and resp.headers_sent:
                # The status line is out: a 500 now would corrupt the stream; just close.
                self.log.exception("Error handling request")
                return False
            self.log.exception("Error handling request %s %s", req.method, req.uri)
            conn.outbox.parts.clear()
            conn.outbox.size = 0
            conn.outbox.sendall(plain_refusal(Refusal(500, "Internal Server Error", "", "app"), []))
            return False
        finally:
            try:
                self.cfg.post_request(self, req, environ, resp)
            except Exception:
                self.log.exception("Exception in post_request hook")

    def _refuse(self, conn: _Conn, refusal: Refusal) -> None:
        """Answer a request that will not be served (one log line, no traceback)."""
        peer = conn.addr[0] if isinstance(conn.addr, tuple) else conn.addr
        self.log.warning("Refused request from ip=%s: %s %s", peer, refusal.status, refusal)
        self.on_refused(refusal.kind)
        request = conn.reader.request
        conn.outbox.sendall(self.write_refusal(refusal, request.headers if request else []))

    def _close(self, conn: _Conn) -> None:
        """Close after our last response: FIN first, then let the client finish (no RST)."""
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._drop(conn)
            return
        conn.closing_until = time.monotonic() + LINGER_S
        with contextlib.suppress(OSError, ValueError):
            self.poller.modify(conn.sock.fileno(), _IN)
        self._drain_closing(conn)

    def _drain_closing(self, conn: _Conn) -> None:
        try:
            while conn.sock.recv(READ_SIZE):
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
        """Close what has waited too long: lingering closes, stalled writes, idle or stalled reads."""
        idle_after = self.cfg.keepalive
        for conn in list(self.conns.values()):
            if conn.in_group:
                continue  # its request is being answered
            if conn.closing_until:
                if now >= conn.closing_until:
                    self._drop(conn)
            elif conn.outbox.parts:
                if now >= conn.write_deadline:
                    self.log.info("Closed a connection whose client stopped reading its answer")
                    self._drop(conn)
            elif conn.reader.busy:
                refusal = conn.reader.expired(now)
                if refusal is not None and conn.refusal is None:
                    conn.refusal = refusal
                    self._serve_ready(conn)
            elif now - conn.last >= idle_after and not _unread(conn.sock):
                self._drop(conn)

    def _read_wakeup(self) -> None:
        with contextlib.suppress(OSError):
            os.read(self.wakeup[0], 64)

    def _finish(self) -> None:
        """Leaving: stop accepting, answer every request that has begun to arrive, then close."""
        if self.listening:
            for fd in self.listeners:
                self.poller.unregister(fd)
            self.listening = False
        self.alive = False
        self._accept_backlog()
        deadline = time.monotonic() + max(0.0, self.cfg.graceful_timeout - 1.0)
        try:
            self._events(0)  # requests already sent on kept-alive connections are read first
            while True:
                # While requests are still being answered, a kept-alive connection may bring
                # one more (answered with Connection: close); once none is, the idle ones close.
                if not any(
                    conn.reader.busy or conn.reader.ready or conn.outbox.parts for conn in self.conns.values()
                ):
                    for conn in list(self.conns.values()):
                        if not conn.closing_until and not _unread(conn.sock):
                            self._drop(conn)
                now = time.monotonic()
                if not self.conns or now >= deadline:
                    break
                self.notify()
                self._events(min(TICK_S, deadline - now))
                self._sweep(time.monotonic())
        except Exception:  # noqa: BLE001 - leaving anyway; never hang the exit
            self.log.exception("Error while finishing open connections")
        for conn in list(self.conns.values()):
            self._drop(conn)
        self.poller.close()
        if self.board is not None:
            self.board.release(self.slot)


def _unread(sock: socket.socket) -> bool:
    """Whether the client sent something not read yet (while the worker was busy): not idle."""
    try:
        return bool(sock.recv(1, socket.MSG_PEEK))
    except OSError:  # nothing there (BlockingIOError), or the connection failed
        return False


def plain_refusal(refusal: Refusal, headers: list) -> bytes:  # noqa: ARG001 - a RefusalWriter
    """Gunicorn's own answer to a request it cannot serve (a small HTML page, then close)."""
    page = (
        f"<html>\n  <head>\n    <title>{refusal.reason}</title>\n  </head>\n  <body>\n"
        f"    <h1><p>{refusal.reason}</p></h1>\n    {_escape(str(refusal))}\n  </body>\n</html>\n"
    ).encode("latin-1", "replace")
    head = (
        f"HTTP/1.1 {refusal.status} {refusal.reason}\r\nConnection: close\r\n"
        f"Content-Type: text/html\r\nContent-Length: {len(page)}\r\n\r\n"
    )
    return head.encode("latin-1") + page


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
