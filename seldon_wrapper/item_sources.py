"""Where ``/recommend`` finds the candidate items a ``data_key`` names.

The Seldon server kept them in memcached and passed the key; a scorer looked them up. Two sources:

* the user class's ``get_items(data_key)`` (the default): returns the items, or raises KeyError
  (or returns None) for an unknown key;
* memcached, when ``SELDON_MEMCACHED_SERVERS`` (``host:port[,host:port...]``) is set: the value
  under the key is a JSON list of ids or comma-separated ids. Needs ``pymemcache``
  (``pip install 'seldon-wrapper[memcached]'``).

An unknown key is a 404, a source that cannot be reached a 503; both in the v1 error body.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from seldon_wrapper.codecs.v0 import id_list, item_id
from seldon_wrapper.errors import SeldonMicroserviceException

logger = logging.getLogger(__name__)

MEMCACHED_ENV = "SELDON_MEMCACHED_SERVERS"
MEMCACHED_TIMEOUT_S = 1.0


class ItemSource(Protocol):
    def items(self, data_key: str) -> list: ...


class UnknownKey(SeldonMicroserviceException):
    def __init__(self, data_key: str) -> None:
        super().__init__(f"Unknown data_key {data_key!r}: no items to score", status_code=404)


class SourceDown(SeldonMicroserviceException):
    def __init__(self, what: str, exc: BaseException) -> None:
        super().__init__(f"Item source {what} is unavailable: {exc}", status_code=503)


class NoItemSource:
    """For classes without ``get_items`` and no memcached: every key is unknown."""

    def items(self, data_key: str) -> list:
        raise UnknownKey(data_key)


class UserItems:
    """The user class's ``get_items(data_key)``."""

    def __init__(self, get_items: Callable[[str], Any]) -> None:
        self.get_items = get_items

    def items(self, data_key: str) -> list:
        try:
            found = self.get_items(data_key)
        except KeyError:
            raise UnknownKey(data_key) from None
        if found is None:
            raise UnknownKey(data_key)
        return list(found)


class MemcachedItems:
    """Items stored in memcached under the data_key (a JSON list, or comma-separated ids)."""

    def __init__(self, servers: str, client_factory: Callable[[list], Any] | None = None) -> None:
        self.servers = [_address(server) for server in servers.split(",") if server.strip()]
        self._factory = client_factory or _pymemcache_client
        self._client: Any = None

    def _connection(self) -> Any:
        if self._client is None:
            self._client = self._factory(self.servers)
        return self._client

    def items(self, data_key: str) -> list:
        reused = self._client is not None
        try:
            value = self._get(data_key)
        except SourceDown:
            if not reused:
                raise
            value = self._get(data_key)  # the connection may predate a memcached restart: once anew
        if value is None:
            raise UnknownKey(data_key)
        return parse_items(value)

    def _get(self, data_key: str) -> Any:
        try:
            return self._connection().get(data_key)
        except Exception as exc:
            if not isinstance(exc, OSError) and not type(exc).__module__.startswith("pymemcache"):
                raise
            self._client = None  # reconnect on the next call
            if type(exc).__name__ == "MemcacheIllegalInputError":  # spaces, control characters, > 250 bytes
                raise SeldonMicroserviceException(
                    f"data_key {data_key!r} is not a valid memcached key: {exc}", status_code=400
                ) from None
            where = "memcached " + ",".join(f"{host}:{port}" for host, port in self.servers)
            raise SourceDown(where, exc) from None


def parse_items(value: bytes | str) -> list:
    """A stored item list: JSON (``[1, 2]``) or comma-separated text (``1,2``)."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    try:
        parsed = json.loads(text)
    except ValueError:
        return id_list(text)
    if isinstance(parsed, list):
        return [item_id(str(item)) if isinstance(item, str) else item for item in parsed]
    return id_list(str(parsed))


def _address(server: str) -> tuple[str, int]:
    host, _, port = server.strip().rpartition(":")
    if not host:
        return port, 11211
    return host, int(port)


def _pymemcache_client(servers: list) -> Any:
    try:
        from pymemcache.client.hash import HashClient
    except ImportError:
        raise SeldonMicroserviceException(
            f"{MEMCACHED_ENV} is set but pymemcache is not installed: "
            "pip install 'seldon-wrapper[memcached]'",
            status_code=503,
        ) from None
    return HashClient(
        servers,
        connect_timeout=MEMCACHED_TIMEOUT_S,
        timeout=MEMCACHED_TIMEOUT_S,
        retry_attempts=1,
        ignore_exc=False,
        use_pooling=True,  # one connection per thread at a time (GUNICORN_THREADS)
    )


def for_component(user: Any, env: Mapping[str, str] | None = None) -> ItemSource:
    """memcached when configured, else the user's ``get_items``, else no source."""
    env = os.environ if env is None else env
    servers = env.get(MEMCACHED_ENV, "").strip()
    if servers:
        return MemcachedItems(servers)
    get_items = getattr(user, "get_items", None)
    if callable(get_items):
        return UserItems(get_items)
    return NoItemSource()
