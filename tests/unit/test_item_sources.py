"""item_sources: the user's get_items, and memcached through the real pymemcache client against a
small memcached (the text protocol's get and set) run by the test on 127.0.0.1."""

from __future__ import annotations

import socket
import socketserver
import threading

import pytest

from seldon_wrapper.errors import SeldonMicroserviceException
from seldon_wrapper.item_sources import (
    MEMCACHED_ENV,
    MemcachedItems,
    NoItemSource,
    SourceDown,
    UnknownKey,
    UserItems,
    _pymemcache_client,
    for_component,
    parse_items,
)
from tests.conftest import free_port

pytest.importorskip("pymemcache")


class _Handler(socketserver.StreamRequestHandler):
    """``get <key>...`` and ``set <key> <flags> <exptime> <bytes> [noreply]``, nothing else."""

    def handle(self) -> None:
        store: dict = self.server.store
        self.server.connections.add(self.connection)
        try:
            while line := self.rfile.readline():
                words = line.decode().split()
                if not words:
                    continue
                if words[0] in ("get", "gets"):
                    for key in words[1:]:
                        if key in store:
                            flags, data = store[key]
                            head = b"VALUE %s %d %d\r\n" % (key.encode(), flags, len(data))
                            self.wfile.write(head + data + b"\r\n")
                    self.wfile.write(b"END\r\n")
                elif words[0] == "set":
                    key, flags, _, size = words[1], int(words[2]), words[3], int(words[4])
                    store[key] = (flags, self.rfile.read(size + 2)[:-2])
                    if words[-1] != "noreply":
                        self.wfile.write(b"STORED\r\n")
                else:
                    self.wfile.write(b"ERROR\r\n")
        except OSError:
            pass
        finally:
            self.server.connections.discard(self.connection)


class Memcached(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, port: int = 0, store: dict | None = None) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.store = {} if store is None else store
        self.connections: set = set()
        self.thread = threading.Thread(target=self.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def stop(self) -> None:
        """Gone for every client: the listening socket and the open connections."""
        self.shutdown()
        self.server_close()
        for connection in list(self.connections):
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            connection.close()


@pytest.fixture
def memcached():
    server = Memcached()
    yield server
    server.stop()


def pymemcache_set(port: int, key: str, value: bytes) -> None:
    from pymemcache.client.base import Client

    client = Client(("127.0.0.1", port), default_noreply=False)
    assert client.set(key, value)
    client.close()


# -- memcached ----------------------------------------------------------------------------------


def test_items_stored_as_json_or_comma_separated_text(memcached):
    pymemcache_set(memcached.port, "recent", b"[16, 260, 32156]")
    pymemcache_set(memcached.port, "csv", b"16,260, 7")
    pymemcache_set(memcached.port, "names", b'["a", "12"]')
    source = MemcachedItems(f"127.0.0.1:{memcached.port}")
    assert source.items("recent") == [16, 260, 32156]
    assert source.items("csv") == [16, 260, 7]
    assert source.items("names") == ["a", 12]


def test_a_missing_key_is_a_404(memcached):
    source = MemcachedItems(f"127.0.0.1:{memcached.port}")
    with pytest.raises(UnknownKey) as info:
        source.items("nope")
    assert info.value.status_code == 404 and "'nope'" in info.value.message


def test_a_key_memcached_cannot_hold_is_a_400(memcached):
    source = MemcachedItems(f"127.0.0.1:{memcached.port}")
    with pytest.raises(SeldonMicroserviceException) as info:
        source.items("two words")
    assert info.value.status_code == 400 and "not a valid memcached key" in info.value.message


def test_a_dead_server_is_a_503_every_time():
    port = free_port()
    source = MemcachedItems(f"127.0.0.1:{port}")
    for _ in range(3):  # pymemcache would answer None (a miss) for a server it marked failed
        with pytest.raises(SourceDown) as info:
            source.items("recent")
        assert info.value.status_code == 503
        assert f"memcached 127.0.0.1:{port} is unavailable" in info.value.message


def test_reconnects_when_the_server_comes_back():
    store: dict = {}
    server = Memcached(store=store)
    port = server.port
    pymemcache_set(port, "recent", b"[1, 2]")
    source = MemcachedItems(f"127.0.0.1:{port}")
    assert source.items("recent") == [1, 2]
    server.stop()
    with pytest.raises(SourceDown):
        source.items("recent")
    server = Memcached(port, store)
    try:
        assert source.items("recent") == [1, 2]
    finally:
        server.stop()


def test_a_restart_between_two_calls_is_not_noticed():
    """The open connection is stale after a restart: the source tries once more, anew."""
    store: dict = {}
    server = Memcached(store=store)
    port = server.port
    pymemcache_set(port, "recent", b"[3]")
    clients = []

    def client(servers):
        clients.append(_pymemcache_client(servers))
        return clients[-1]

    source = MemcachedItems(f"127.0.0.1:{port}", client_factory=client)
    assert source.items("recent") == [3]
    server.stop()
    server = Memcached(port, store)
    try:
        assert source.items("recent") == [3]
    finally:
        server.stop()
    assert len(clients) == 2


# -- the other sources, and which one a class gets ------------------------------------------------


def test_user_items_unknown_key_by_keyerror_or_none():
    source = UserItems({"k": (1, 2)}.get)
    assert source.items("k") == [1, 2]
    with pytest.raises(UnknownKey):
        source.items("other")
    with pytest.raises(UnknownKey):
        UserItems({}.__getitem__).items("k")
    with pytest.raises(UnknownKey):
        NoItemSource().items("k")


def test_parse_items():
    assert parse_items(b"[1, 2]") == [1, 2]
    assert parse_items("1, x,") == [1, "x"]
    assert parse_items(b"7") == [7]


def test_for_component_prefers_memcached():
    class WithItems:
        def get_items(self, data_key):
            return [1]

    assert isinstance(for_component(WithItems(), {MEMCACHED_ENV: "127.0.0.1:1"}), MemcachedItems)
    assert isinstance(for_component(WithItems(), {}), UserItems)
    assert isinstance(for_component(object(), {}), NoItemSource)
    assert MemcachedItems("a:1, b").servers == [("a", 1), ("b", 11211)]
