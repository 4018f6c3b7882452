"""Chroma clients, the data-dir lock, and collections that know their embedder.

Chroma's ``PersistentClient`` keeps indexes in memory and is not safe for
several processes on one directory, so an embedded store takes an exclusive
``flock`` on ``<data_dir>/chroma.lock`` for as long as it is open. ``flock``
is released by the kernel when a process dies, so a killed ingest never
leaves a stale lock behind.

Every collection records the embedder's name and dimension in its metadata;
opening it with another embedder is a :class:`StoreError`, not silently
mixed vector spaces.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from agentkit.errors import StoreError, storage_fault
from agentkit.models.embedder import EmbedderInfo

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

DOCUMENTS_COLLECTION = "agentkit_documents"
MEMORIES_COLLECTION = "agentkit_memories"
FILES_COLLECTION = "agentkit_files"  # the document index's per-file manifest
MANIFEST_INFO_NAME = "agentkit-manifest"
EMBEDDER_KEY = "agentkit_embedder"
DIMENSION_KEY = "agentkit_dimension"
LOCK_NAME = "chroma.lock"
CHROMA_SUBDIR = "chroma"


class DataDirLock:
    """An exclusive, non-blocking ``flock`` on a data dir, shared within a
    process (two stores on one dir in one process share Chroma's system)."""

    _held: dict[Path, tuple[int, int]] = {}  # path -> (fd, refcount)
    _guard = threading.Lock()

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._acquired = False

    def acquire(self) -> None:
        with self._guard:
            if self.path in self._held:
                fd, count = self._held[self.path]
                self._held[self.path] = (fd, count + 1)
                self._acquired = True
                return
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as err:  # a read-only or full data dir: one line, not a traceback
                raise (storage_fault(err, self.path) or err) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise StoreError(
                    f"the vector store in {self.path.parent} is in use by another "
                    f"agentkit process{holder}",
                    hint="close that chat or ingest first, or use another --data-dir",
                ) from None
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            self._held[self.path] = (fd, 1)
            self._acquired = True

    def release(self) -> None:
        with self._guard:
            if not self._acquired:
                return
            self._acquired = False
            fd, count = self._held[self.path]
            if count > 1:
                self._held[self.path] = (fd, count - 1)
                return
            del self._held[self.path]
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _read_holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""


def _chroma_settings() -> object:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


class VectorStore:
    """One Chroma client (embedded or server) plus the lock that guards it."""

    def __init__(self, client: ClientAPI, location: str, lock: DataDirLock | None = None) -> None:
        self.client = client
        self.location = location
        self._lock = lock

    @classmethod
    def open(cls, data_dir: Path, url: str | None = None) -> VectorStore:
        """``HttpClient`` when ``url`` is set, else a locked ``PersistentClient``
        under ``data_dir/chroma``."""
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        import chromadb

        if url:
            parsed = urlparse(url if "://" in url else f"http://{url}")
            if not parsed.hostname:
                raise StoreError(f"invalid chroma_url {url!r}", hint="use http://host:port")
            try:
                client = chromadb.HttpClient(
                    host=parsed.hostname,
                    port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                    ssl=parsed.scheme == "https",
                    settings=_chroma_settings(),  # type: ignore[arg-type]
                )
            except Exception as err:  # noqa: BLE001 - connection errors vary by transport
                raise StoreError(
                    f"cannot reach the Chroma server at {url}: {err}",
                    hint="start it with `chroma run` or unset chroma_url",
                ) from None
            return cls(client, url)
        lock = DataDirLock(data_dir)
        lock.acquire()
        try:
            client = chromadb.PersistentClient(
                path=str(data_dir / CHROMA_SUBDIR),
                settings=_chroma_settings(),  # type: ignore[arg-type]
            )
        except Exception as err:
            lock.release()
            fault = storage_fault(err, data_dir / CHROMA_SUBDIR)  # damaged, full, read-only
            if fault is None:
                raise
            raise fault from None
        return cls(client, str(data_dir / CHROMA_SUBDIR), lock)

    def collection(self, name: str, embedder: EmbedderInfo) -> Collection:
        """Get or create ``name``, checking it was built with ``embedder``."""
        # embedding_function=None: we always pass vectors ourselves, and
        # Chroma's default function would try to download an ONNX model.
        collection = self.client.get_or_create_collection(
            name,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={EMBEDDER_KEY: embedder.name, DIMENSION_KEY: embedder.dimension},
            embedding_function=None,
        )
        metadata = dict(collection.metadata or {})
        stored_name = metadata.get(EMBEDDER_KEY)
        stored_dim = metadata.get(DIMENSION_KEY)
        if stored_name is None:
            if collection.count() > 0:
                raise StoreError(
                    f"collection {name} in {self.location} was not made by agentkit "
                    "(no embedder recorded)",
                    hint="use another data dir or Chroma database",
                )
            metadata.update({EMBEDDER_KEY: embedder.name, DIMENSION_KEY: embedder.dimension})
            collection.modify(metadata=metadata)
        elif stored_name != embedder.name or stored_dim != embedder.dimension:
            raise StoreError(
                f"collection {name} in {self.location} was built with embedder "
                f"{stored_name} ({stored_dim} dims), but the current embedder is "
                f"{embedder.name} ({embedder.dimension} dims)",
                hint="set embed_model back, or use another --data-dir and re-ingest",
            )
        return collection

    def close(self) -> None:
        close = getattr(self.client, "close", None)
        if close is not None:
            close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> VectorStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
