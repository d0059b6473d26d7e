"""``Storage.download``: local paths and ``file://`` URIs only, as in the original 1.19."""

from __future__ import annotations

import glob  # noqa: F401 - a name the original's module had
import logging
import os
import tempfile  # noqa: F401 - a name the original's module had

logger = logging.getLogger(__name__)

_LOCAL_PREFIX = "file://"


class Storage:
    @staticmethod
    def download(uri: str, out_dir: str | None = None) -> str:
        """The local path of ``uri``; with ``out_dir``, symlinks of its content placed there.

        A directory has each of its children linked into ``out_dir``; a file is linked by name.
        """
        logger.info("Copying contents of %s to local", uri)
        if uri.startswith(_LOCAL_PREFIX) or os.path.exists(uri):
            return Storage._download_local(uri, out_dir)
        raise Exception(
            f"Cannot recognize storage type for {uri}. Only file:// is currently available as storage type."
        )

    @staticmethod
    def _download_local(uri: str, out_dir: str | None = None) -> str:
        local_path = uri[len(_LOCAL_PREFIX) :] if uri.startswith(_LOCAL_PREFIX) else uri
        if not os.path.exists(local_path):
            raise RuntimeError(f"Local path {uri} does not exist.")
        if out_dir is None:
            return local_path
        os.makedirs(out_dir, exist_ok=True)
        if os.path.isdir(local_path):
            sources = [os.path.join(local_path, name) for name in sorted(os.listdir(local_path))]
        else:
            sources = [local_path]
        for source in sources:
            _link(os.path.abspath(source), os.path.join(out_dir, os.path.basename(source)))
        return out_dir


def _link(source: str, destination: str) -> None:
    """Symlink ``destination`` -> ``source``; a link already pointing there is kept (repeat downloads)."""
    if os.path.islink(destination) and os.readlink(destination) == source:
        return
    os.symlink(source, destination)
