"""The document index: incremental ingest, search with citations, listing,
removal and pruning, over two Chroma collections: the chunks, and a small
manifest with one record per file (its hash, chunk count and whether its
chunks are all written).

Rewriting a file follows a fixed order: mark the file incomplete in the
manifest, delete its old chunks, upsert the new ones (ids derived from path,
file hash and chunk index), mark it complete. A crash at any point leaves no
duplicates, and the next run sees the file incomplete and redoes it. Reading
the manifest costs one record per file, so an unchanged re-ingest stays fast
on a large store (scanning 100k chunks' metadata took ~14 s).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from langchain_core.embeddings import Embeddings

from agentkit.memory.ingest import (
    MAX_FILE_BYTES,
    LoadedFile,
    UnsupportedFile,
    discover,
    load_file,
    sha256_bytes,
)
from agentkit.models.embedder import embed_texts

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

# Embed this many chunks at a time: enough for length bucketing to pay off,
# small enough that an interrupt loses little work.
EMBED_GROUP = 256
WRITE_BATCH = 1000
SCAN_PAGE = 5000

Phase = Literal["scan", "embed"]
IngestProgress = Callable[[Phase, int, int], None]  # (phase, done, total)


@dataclass(frozen=True)
class DocumentHit:
    text: str
    source: str  # absolute path
    start: int
    end: int
    unit: str
    score: float  # cosine similarity

    @property
    def citation(self) -> str:
        return format_citation(self.source, self.start, self.end, self.unit)


@dataclass(frozen=True)
class IndexedFile:
    source: str
    kind: str
    file_hash: str
    n_chunks: int
    complete: bool  # False: a rewrite was interrupted; the next ingest redoes it


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # gone from disk, kept (no --prune)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    chunks_written: int = 0
    seconds: float = 0.0


def display_path(source: str) -> str:
    """``source`` relative to the working directory when it lies inside it."""
    try:
        return str(Path(source).relative_to(Path.cwd()))
    except ValueError:
        return source


def format_citation(source: str, start: int, end: int, unit: str = "line") -> str:
    shown = display_path(source)
    pages = "p" if unit == "page" else ""
    return f"{shown}:{pages}{start}-{end}" if end != start else f"{shown}:{pages}{start}"


def chunk_id(source: str, digest: str, index: int) -> str:
    return hashlib.sha256(f"{source}\0{digest}\0{index}".encode()).hexdigest()[:32]


def file_id(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:32]


# Manifest records carry no meaningful vector; Chroma insists on one.
_MANIFEST_VECTOR = [1.0]


class DocumentIndex:
    def __init__(
        self, collection: Collection, manifest: Collection, embeddings: Embeddings
    ) -> None:
        self.collection = collection
        self.manifest = manifest
        self.embeddings = embeddings

    # --- reading -------------------------------------------------------------------

    def files(self) -> dict[str, IndexedFile]:
        """Every indexed file, from the manifest."""
        result: dict[str, IndexedFile] = {}
        offset = 0
        while True:
            page = self.manifest.get(include=["metadatas"], limit=SCAN_PAGE, offset=offset)
            metadatas = page["metadatas"] or []
            for meta in metadatas:
                source = str(meta["source"])
                result[source] = IndexedFile(
                    source=source,
                    kind=str(meta.get("kind", "")),
                    file_hash=str(meta["file_hash"]),
                    n_chunks=int(meta["n_chunks"]),
                    complete=bool(meta["complete"]),
                )
            if len(metadatas) < SCAN_PAGE:
                return result
            offset += SCAN_PAGE

    def _mark(self, loaded: LoadedFile, complete: bool) -> None:
        source = str(loaded.path)
        self.manifest.upsert(
            ids=[file_id(source)],
            embeddings=[_MANIFEST_VECTOR],
            metadatas=[
                {
                    "source": source,
                    "kind": loaded.kind,
                    "file_hash": loaded.file_hash,
                    "n_chunks": len(loaded.chunks),
                    "complete": complete,
                }
            ],
        )

    def _forget(self, source: str) -> None:
        # Incomplete first: a crash before the chunks are gone is redone or pruned.
        self.manifest.update(ids=[file_id(source)], metadatas=[{"complete": False}])
        self.collection.delete(where={"source": source})
        self.manifest.delete(ids=[file_id(source)])

    def search(self, query: str, k: int = 5) -> list[DocumentHit]:
        return self.search_vector(self.embeddings.embed_query(query), k)

    def search_vector(self, vector: Sequence[float], k: int = 5) -> list[DocumentHit]:
        if k <= 0 or self.collection.count() == 0:
            return []
        result = self.collection.query(
            query_embeddings=[list(vector)],
            n_results=k,
            include=["documents", "metadatas", "distances"],
        )
        hits: list[DocumentHit] = []
        for text, meta, distance in zip(
            (result["documents"] or [[]])[0],
            (result["metadatas"] or [[]])[0],
            (result["distances"] or [[]])[0],
            strict=True,
        ):
            hits.append(
                DocumentHit(
                    text=text or "",
                    source=str(meta["source"]),
                    start=int(meta["start"]),
                    end=int(meta["end"]),
                    unit=str(meta.get("unit", "line")),
                    score=1.0 - float(distance),
                )
            )
        return hits

    def count(self) -> int:
        return self.collection.count()

    # --- writing -------------------------------------------------------------------

    def remove(self, path: Path | str) -> list[str]:
        """Forget a file, or every file under a directory. Returns the sources removed."""
        target = str(Path(path).expanduser().resolve())
        indexed = self.files()
        doomed = [s for s in indexed if s == target or s.startswith(target.rstrip("/") + "/")]
        for source in doomed:
            self._forget(source)
        return doomed

    def ingest(
        self,
        paths: Iterable[Path | str],
        *,
        prune: bool = False,
        progress: IngestProgress | None = None,
    ) -> IngestReport:
        """Index new and changed files under ``paths``; with ``prune``, drop
        indexed files under ``paths`` that no longer exist."""
        started = time.perf_counter()
        report = IngestReport()
        roots = [Path(p).expanduser().resolve() for p in paths]
        for root in roots:
            if not root.exists():
                report.skipped.append((str(root), "does not exist"))
        found = list(discover(r for r in roots if r.exists()))
        indexed = self.files()
        pending: list[tuple[LoadedFile, bool]] = []  # (file, already indexed)
        for number, path in enumerate(found, 1):
            if progress is not None:
                progress("scan", number, len(found))
            source = str(path)
            try:
                if path.stat().st_size > MAX_FILE_BYTES:
                    report.skipped.append((source, f"larger than {MAX_FILE_BYTES >> 20} MB"))
                    continue
                raw = path.read_bytes()
            except OSError as err:
                report.skipped.append((source, f"unreadable: {err.strerror}"))
                continue
            current = indexed.get(source)
            if current is not None and current.complete and current.file_hash == sha256_bytes(raw):
                report.unchanged.append(source)
            else:
                try:
                    loaded = load_file(path, raw)
                except UnsupportedFile as err:
                    report.skipped.append((source, str(err)))
                else:
                    if loaded.chunks:
                        pending.append((loaded, current is not None))
                    else:
                        report.skipped.append((source, "no text"))
                        if current is not None:  # emptied since the last ingest
                            self._forget(source)
                            report.removed.append(source)

        self._write(pending, report, progress)

        found_set = {str(p) for p in found}
        for source in indexed:
            under = any(
                source == str(root) or source.startswith(str(root).rstrip("/") + "/")
                for root in roots
            )
            if under and source not in found_set and not os.path.exists(source):
                if prune:
                    self._forget(source)
                    report.removed.append(source)
                else:
                    report.missing.append(source)
        report.seconds = time.perf_counter() - started
        return report

    def _write(
        self,
        pending: list[tuple[LoadedFile, bool]],
        report: IngestReport,
        progress: IngestProgress | None,
    ) -> None:
        total = sum(len(f.chunks) for f, _ in pending)
        done = 0
        group: list[tuple[LoadedFile, bool]] = []
        group_chunks = 0
        for item in pending:
            group.append(item)
            group_chunks += len(item[0].chunks)
            if group_chunks >= EMBED_GROUP:
                done = self._write_group(group, report, progress, done, total)
                group, group_chunks = [], 0
        if group:
            self._write_group(group, report, progress, done, total)

    def _write_group(
        self,
        group: list[tuple[LoadedFile, bool]],
        report: IngestReport,
        progress: IngestProgress | None,
        done: int,
        total: int,
    ) -> int:
        texts = [c.text for f, _ in group for c in f.chunks]

        def on_batch(batch_done: int, _batch_total: int) -> None:
            if progress is not None:
                progress("embed", done + batch_done, total)

        vectors = embed_texts(self.embeddings, texts, on_batch)
        row = 0
        for loaded, existed in group:
            n = len(loaded.chunks)
            source = str(loaded.path)
            # Mark, then delete before writing: an interruption leaves the
            # file incomplete (redone next run), never two versions side by side.
            self._mark(loaded, complete=False)
            if existed:
                self.collection.delete(where={"source": source})
            for start in range(0, n, WRITE_BATCH):
                part = loaded.chunks[start : start + WRITE_BATCH]
                self.collection.upsert(
                    ids=[chunk_id(source, loaded.file_hash, start + i) for i in range(len(part))],
                    embeddings=vectors[row + start : row + start + len(part)],
                    documents=[c.text for c in part],
                    metadatas=[
                        {
                            "source": source,
                            "kind": loaded.kind,
                            "unit": loaded.unit,
                            "start": c.start,
                            "end": c.end,
                            "chunk_index": start + i,
                            "n_chunks": n,
                            "file_hash": loaded.file_hash,
                            "content_hash": c.content_hash,
                        }
                        for i, c in enumerate(part)
                    ],
                )
            self._mark(loaded, complete=True)
            row += n
            report.chunks_written += n
            (report.updated if existed else report.added).append(source)
        return done + len(texts)
