"""Turning files into chunks: discovery, loading (text, Markdown, code, HTML,
PDF) and language-aware splitting with exact line (or page) ranges.

Nothing here touches the store; :mod:`agentkit.memory.documents` decides what
to re-embed.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Literal

from langchain_text_splitters import Language, RecursiveCharacterTextSplitter

# MiniLM reads 256 tokens; ~800 characters of prose stays under that, so a
# chunk is embedded whole rather than silently truncated.
CHUNK_CHARS = 800
CHUNK_OVERLAP = 120
MAX_FILE_BYTES = 20 * 1024 * 1024

SKIP_DIRS = frozenset(
    {"node_modules", "__pycache__", "site-packages", "venv", ".venv", "dist-packages"}
)

CODE_LANGUAGES: dict[str, Language] = {
    ".py": Language.PYTHON,
    ".pyi": Language.PYTHON,
    ".js": Language.JS,
    ".jsx": Language.JS,
    ".mjs": Language.JS,
    ".cjs": Language.JS,
    ".ts": Language.TS,
    ".tsx": Language.TS,
    ".go": Language.GO,
    ".rs": Language.RUST,
    ".java": Language.JAVA,
    ".kt": Language.KOTLIN,
    ".kts": Language.KOTLIN,
    ".scala": Language.SCALA,
    ".c": Language.C,
    ".h": Language.C,
    ".cc": Language.CPP,
    ".cpp": Language.CPP,
    ".cxx": Language.CPP,
    ".hpp": Language.CPP,
    ".cs": Language.CSHARP,
    ".rb": Language.RUBY,
    ".php": Language.PHP,
    ".swift": Language.SWIFT,
    ".lua": Language.LUA,
    ".pl": Language.PERL,
    ".hs": Language.HASKELL,
    ".ex": Language.ELIXIR,
    ".exs": Language.ELIXIR,
    ".ps1": Language.POWERSHELL,
    ".proto": Language.PROTO,
    ".sol": Language.SOL,
    ".r": Language.R,
    ".tex": Language.LATEX,
}
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdx"})
RST_SUFFIXES = frozenset({".rst"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
PDF_SUFFIXES = frozenset({".pdf"})

Unit = Literal["line", "page"]


@dataclass(frozen=True)
class Chunk:
    text: str
    start: int  # first line (or page), 1-based
    end: int  # last line (or page), inclusive
    content_hash: str


@dataclass
class LoadedFile:
    path: Path
    kind: str  # "markdown", "code:python", "text", "html", "pdf"
    unit: Unit
    file_hash: str
    chunks: list[Chunk] = field(default_factory=list)


class UnsupportedFile(Exception):
    """A file that is skipped, with the reason (binary, too large, unreadable)."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """Files under ``paths`` (absolute, sorted), skipping hidden and vendored dirs."""
    for root in paths:
        root = root.expanduser().resolve()
        if root.is_file():
            yield root
            continue
        if not root.is_dir():
            continue
        stack = [root]
        while stack:
            directory = stack.pop()
            try:
                entries = sorted(directory.iterdir())
            except OSError:
                continue
            for entry in reversed(entries):
                if entry.name.startswith(".") or entry.is_symlink():
                    continue
                if entry.is_dir():
                    if entry.name not in SKIP_DIRS:
                        stack.append(entry)
                elif entry.is_file():
                    yield entry
    return


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_file(path: Path, data: bytes | None = None) -> LoadedFile:
    """Read and split one file. Raises :class:`UnsupportedFile` to skip it."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise UnsupportedFile(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        raw = path.read_bytes() if data is None else data
    except OSError as err:
        raise UnsupportedFile(f"unreadable: {err.strerror}") from None
    digest = sha256_bytes(raw)
    suffix = path.suffix.lower()
    if suffix in PDF_SUFFIXES:
        pages = _pdf_pages(path)
        loaded = LoadedFile(path, "pdf", "page", digest)
        loaded.chunks = _split_pages(pages)
        return loaded
    if b"\x00" in raw[:8192]:
        raise UnsupportedFile("binary")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if suffix in HTML_SUFFIXES:
        extracted, line_map = html_to_text(text)
        loaded = LoadedFile(path, "html", "line", digest)
        loaded.chunks = _split(extracted, _splitter(None), line_map)
        return loaded
    if suffix in MARKDOWN_SUFFIXES:
        kind, language = "markdown", Language.MARKDOWN
    elif suffix in RST_SUFFIXES:
        kind, language = "rst", Language.RST
    elif suffix in CODE_LANGUAGES:
        language = CODE_LANGUAGES[suffix]
        kind = f"code:{language.value}"
    else:
        kind, language = "text", None
    loaded = LoadedFile(path, kind, "line", digest)
    loaded.chunks = _split(text, _splitter(language))
    return loaded


def _splitter(language: Language | None) -> RecursiveCharacterTextSplitter:
    if language is None:
        return RecursiveCharacterTextSplitter(
            chunk_size=CHUNK_CHARS, chunk_overlap=CHUNK_OVERLAP, add_start_index=True
        )
    return RecursiveCharacterTextSplitter.from_language(
        language, chunk_size=CHUNK_CHARS, chunk_overlap=CHUNK_OVERLAP, add_start_index=True
    )


def _split(
    text: str, splitter: RecursiveCharacterTextSplitter, line_map: list[int] | None = None
) -> list[Chunk]:
    """Chunks with 1-based inclusive line ranges. ``line_map[i]`` is the source
    line of line ``i`` of ``text`` when ``text`` was extracted (HTML)."""
    newlines = [i for i, char in enumerate(text) if char == "\n"]
    chunks: list[Chunk] = []
    for document in splitter.create_documents([text]):
        body = document.page_content
        if not body.strip():
            continue
        start = int(document.metadata.get("start_index", -1))
        if start < 0:  # splitter could not locate it; fall back to a search
            start = max(text.find(body), 0)
        end = start + len(body.rstrip("\n")) - 1
        first = bisect.bisect_left(newlines, start)  # 0-based line index
        last = bisect.bisect_left(newlines, max(end, start))
        if line_map is not None:
            first_line = line_map[min(first, len(line_map) - 1)]
            last_line = max(line_map[min(last, len(line_map) - 1)], first_line)
        else:
            first_line, last_line = first + 1, last + 1
        chunks.append(Chunk(body, first_line, last_line, sha256_bytes(body.encode("utf-8"))))
    return chunks


# --- HTML ------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    "p div br li ul ol h1 h2 h3 h4 h5 h6 tr table section article header footer pre "
    "blockquote dt dd title nav main aside figure figcaption hr".split()
)
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "svg"})


class _HTMLText(HTMLParser):
    """Visible text of an HTML page, remembering each output line's source line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.sources: list[int] = [1]
        self._skip = 0

    def _newline(self) -> None:
        if self.lines[-1].strip():
            self.lines.append("")
            self.sources.append(self.getpos()[0])

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self._newline()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self._newline()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        line = self.getpos()[0]
        for offset, part in enumerate(data.split("\n")):
            if offset:
                self._newline()
            words = " ".join(part.split())
            if not words:
                continue
            if not self.lines[-1]:
                self.sources[-1] = line + offset
                self.lines[-1] = words
            else:
                self.lines[-1] += " " + words


def html_to_text(html: str) -> tuple[str, list[int]]:
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    return "\n".join(parser.lines), parser.sources


# --- PDF ----------------------------------------------------------------------------


def _pdf_pages(path: Path) -> list[str]:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError:  # pragma: no cover - pypdf is a dependency
        raise UnsupportedFile("PDF support needs pypdf") from None
    try:
        reader = PdfReader(str(path))
        return [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, OSError, ValueError) as err:
        raise UnsupportedFile(f"unreadable PDF: {err}") from None


def _split_pages(pages: list[str]) -> list[Chunk]:
    """Split a PDF's text; ranges are page numbers."""
    text = ""
    page_starts: list[int] = []
    for page in pages:
        page_starts.append(len(text))
        text += page.replace("\r\n", "\n") + "\n\n"
    chunks: list[Chunk] = []
    for document in _splitter(None).create_documents([text]):
        body = document.page_content
        if not body.strip():
            continue
        start = max(int(document.metadata.get("start_index", 0)), 0)
        end = start + len(body) - 1
        first = bisect.bisect_right(page_starts, start)
        last = bisect.bisect_right(page_starts, end)
        chunks.append(Chunk(body, first, max(last, first), sha256_bytes(body.encode("utf-8"))))
    return chunks
