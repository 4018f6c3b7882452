"""Document ingestion: chunk metadata, formats, incremental re-ingest, prune,
and interrupted runs (Ctrl-C and SIGKILL). Real Chroma, real embeddings."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentkit.config import load_settings
from agentkit.memory import KnowledgeBase, LlamaEmbedder
from agentkit.memory import documents as documents_module
from agentkit.memory.ingest import load_file

pytestmark = pytest.mark.model


def _section(n: int) -> str:
    return f"## Section {n}\n\n" + " ".join(f"Sentence {n}.{i} about topic {n}." for i in range(12))


def make_corpus(root: Path) -> Path:
    docs = root / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "guide.md").write_text(
        "# Guide\n\n" + "\n\n".join(_section(n) for n in range(5)) + "\n"
    )
    (docs / "sub" / "tool.py").write_text(
        "\n\n".join(
            f'def function_{n}(value):\n    """Doc {n}."""\n'
            + "".join(f"    value = value * {n} + {i}\n" for i in range(12))
            + "    return value\n"
            for n in range(6)
        )
    )
    (docs / "plain.txt").write_text("Just one short plain text file about the lighthouse keeper.\n")
    (docs / ".hidden").mkdir()
    (docs / ".hidden" / "secret.md").write_text("should not be indexed")
    (docs / "image.bin").write_bytes(b"\x89PNG\x00\x00\x01binary")
    return docs


def stored(kb: KnowledgeBase) -> dict:
    return kb.documents.collection.get(include=["metadatas", "documents"])


def assert_consistent(kb: KnowledgeBase) -> None:
    """No duplicates: every file has exactly n_chunks chunks of one version,
    and the manifest agrees with the chunks."""
    data = stored(kb)
    per_source = Counter(m["source"] for m in data["metadatas"])
    for meta in data["metadatas"]:
        assert per_source[meta["source"]] == meta["n_chunks"], meta["source"]
    keys = [(m["source"], m["chunk_index"]) for m in data["metadatas"]]
    assert len(keys) == len(set(keys))
    files = kb.documents.files()
    assert set(files) == set(per_source)
    for source, state in files.items():
        assert state.complete and state.n_chunks == per_source[source], source


def test_chunks_carry_source_line_range_and_content_hash(kb: KnowledgeBase, tmp_path: Path) -> None:
    docs = make_corpus(tmp_path)
    report = kb.documents.ingest([docs])
    assert sorted(Path(p).name for p in report.added) == ["guide.md", "plain.txt", "tool.py"]
    assert [Path(p).name for p, _ in report.skipped] == ["image.bin"]
    data = stored(kb)
    assert len(data["ids"]) > 6
    for text, meta in zip(data["documents"], data["metadatas"], strict=True):
        lines = Path(meta["source"]).read_text().splitlines()
        span = "\n".join(lines[meta["start"] - 1 : meta["end"]])
        assert text.strip() in span, (meta, text[:40])
        assert (
            lines[meta["start"] - 1].strip().startswith(text.strip().splitlines()[0].strip()[:20])
        )
        assert meta["content_hash"] == hashlib.sha256(text.encode()).hexdigest()
        assert meta["file_hash"] == hashlib.sha256(Path(meta["source"]).read_bytes()).hexdigest()
    kinds = {Path(m["source"]).name: m["kind"] for m in data["metadatas"]}
    assert kinds == {"guide.md": "markdown", "tool.py": "code:python", "plain.txt": "text"}
    assert_consistent(kb)


def test_code_is_split_at_definitions(tmp_path: Path) -> None:
    docs = make_corpus(tmp_path)
    loaded = load_file(docs / "sub" / "tool.py")
    assert len(loaded.chunks) >= 3
    assert all(c.text.lstrip().startswith("def function_") for c in loaded.chunks)


def test_markdown_is_split_at_headings(tmp_path: Path) -> None:
    docs = make_corpus(tmp_path)
    loaded = load_file(docs / "guide.md")
    assert len(loaded.chunks) >= 3
    assert all(c.text.lstrip().startswith("#") for c in loaded.chunks)


def test_html_keeps_visible_text_and_source_lines(tmp_path: Path) -> None:
    page = tmp_path / "manual.html"
    page.write_text(
        "<html><head><title>Manual</title><script>var secret = 1;</script></head>\n"
        "<body>\n<h1>Widget manual</h1>\n<p>To reset the widget,\n"
        "hold the red button.</p>\n</body></html>\n"
    )
    [chunk] = load_file(page).chunks
    assert "secret" not in chunk.text
    assert "Widget manual" in chunk.text and "hold the red button." in chunk.text
    assert (chunk.start, chunk.end) == (1, 5)


def _minimal_pdf(pages: list[str]) -> bytes:
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [{}] /Count {} >>".format(
            " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages))), len(pages)
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, text in enumerate(pages):
        ops = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET"
        objects.append(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>"
        )
        objects.append(f"<< /Length {len(ops)} >>\nstream\n{ops}\nendstream")
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out


def test_pdf_is_cited_by_page(kb: KnowledgeBase, tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(_minimal_pdf(["Page one is an introduction.", "The secret number is 7."]))
    kb.documents.ingest([pdf])
    [hit] = kb.documents.search("what is the secret number?", k=1)
    assert hit.unit == "page"
    assert hit.citation.endswith("report.pdf:p1-2") or hit.citation.endswith("report.pdf:p2")


def test_reingest_is_incremental(kb: KnowledgeBase, tmp_path: Path) -> None:
    docs = make_corpus(tmp_path)
    first = kb.documents.ingest([docs])
    total = kb.documents.count()
    ids_before = set(stored(kb)["ids"])

    again = kb.documents.ingest([docs])
    assert (again.added, again.updated, again.chunks_written) == ([], [], 0)
    assert len(again.unchanged) == len(first.added)
    assert set(stored(kb)["ids"]) == ids_before

    (docs / "plain.txt").write_text(
        "The lighthouse keeper now collects seashells.\nA second line.\n"
    )
    changed = kb.documents.ingest([docs])
    assert [Path(p).name for p in changed.updated] == ["plain.txt"]
    assert changed.chunks_written == 1
    assert kb.documents.count() == total
    texts = [d for d in stored(kb)["documents"] if "lighthouse" in d]
    assert texts == ["The lighthouse keeper now collects seashells.\nA second line."]
    assert_consistent(kb)


def test_deleted_files_are_reported_then_pruned(kb: KnowledgeBase, tmp_path: Path) -> None:
    docs = make_corpus(tmp_path)
    kb.documents.ingest([docs])
    guide_chunks = kb.documents.files()[str(docs / "guide.md")].n_chunks
    before = kb.documents.count()
    (docs / "guide.md").unlink()

    kept = kb.documents.ingest([docs])
    assert kept.missing == [str(docs / "guide.md")] and kept.removed == []
    assert kb.documents.count() == before

    pruned = kb.documents.ingest([docs], prune=True)
    assert pruned.removed == [str(docs / "guide.md")]
    assert kb.documents.count() == before - guide_chunks
    assert str(docs / "guide.md") not in kb.documents.files()


def test_emptied_file_is_dropped(kb: KnowledgeBase, tmp_path: Path) -> None:
    docs = make_corpus(tmp_path)
    kb.documents.ingest([docs])
    (docs / "plain.txt").write_text("   \n")
    report = kb.documents.ingest([docs])
    assert report.removed == [str(docs / "plain.txt")]
    assert_consistent(kb)


def test_remove_file_and_directory(kb: KnowledgeBase, tmp_path: Path) -> None:
    docs = make_corpus(tmp_path)
    kb.documents.ingest([docs])
    assert kb.documents.remove(docs / "plain.txt") == [str(docs / "plain.txt")]
    assert kb.documents.remove(docs / "sub") == [str(docs / "sub" / "tool.py")]
    assert set(kb.documents.files()) == {str(docs / "guide.md")}


class InterruptAfter:
    """Embeddings that raise KeyboardInterrupt (as Ctrl-C would) on call N."""

    def __init__(self, inner: LlamaEmbedder, calls: int) -> None:
        self.inner, self.calls = inner, calls
        self.info = inner.info

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls -= 1
        if self.calls < 0:
            raise KeyboardInterrupt
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def test_ctrl_c_between_files_resumes_without_duplicates(
    kb: KnowledgeBase, tmp_path: Path, embedder: LlamaEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = make_corpus(tmp_path)
    monkeypatch.setattr(documents_module, "EMBED_GROUP", 1)  # one file per embedding call
    kb.documents.embeddings = InterruptAfter(embedder, calls=1)  # type: ignore[assignment]
    with pytest.raises(KeyboardInterrupt):
        kb.documents.ingest([docs])
    assert len(kb.documents.files()) == 1
    kb.documents.embeddings = embedder
    resumed = kb.documents.ingest([docs])
    assert len(resumed.unchanged) == 1 and len(resumed.added) == 2
    assert_consistent(kb)


def test_interrupt_inside_a_file_rewrite_resumes(
    kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = make_corpus(tmp_path)
    kb.documents.ingest([docs])
    guide = docs / "guide.md"
    guide.write_text(guide.read_text().replace("topic", "subject"))
    monkeypatch.setattr(documents_module, "WRITE_BATCH", 1)  # one chunk per write
    collection = kb.documents.collection
    real_upsert = collection.upsert
    writes = {"left": 2}

    def dying_upsert(**kwargs: object) -> None:
        if writes["left"] == 0:
            raise KeyboardInterrupt
        writes["left"] -= 1
        real_upsert(**kwargs)

    monkeypatch.setattr(collection, "upsert", dying_upsert)
    with pytest.raises(KeyboardInterrupt):
        kb.documents.ingest([docs])
    state = kb.documents.files()[str(guide)]
    assert not state.complete
    partial = kb.documents.collection.get(where={"source": str(guide)}, include=[])
    assert len(partial["ids"]) == 2  # the new version, partly written
    assert not any("topic" in d for d in stored(kb)["documents"] if "Section" in d)

    monkeypatch.setattr(collection, "upsert", real_upsert)
    resumed = kb.documents.ingest([docs])
    assert resumed.updated == [str(guide)]
    assert_consistent(kb)


KILLED_INGEST = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from agentkit.config import load_settings
    from agentkit.memory import KnowledgeBase, LlamaEmbedder
    from agentkit.memory import documents
    documents.EMBED_GROUP = 1
    documents.WRITE_BATCH = 1
    embedder = LlamaEmbedder.bundled(Path(sys.argv[3]), n_threads=1)
    kb = KnowledgeBase.open(load_settings(data_dir=Path(sys.argv[1])), embeddings=embedder)
    real_upsert = kb.documents.collection.upsert
    def slow_upsert(**kwargs):
        real_upsert(**kwargs)
        print("wrote", flush=True)
        time.sleep(0.2)
    kb.documents.collection.upsert = slow_upsert
    kb.documents.ingest([Path(sys.argv[2])])
    print("finished", flush=True)
    """
)


def test_sigkill_mid_ingest_leaves_no_duplicates(
    tmp_path: Path, cache_dir: Path, embedder: LlamaEmbedder
) -> None:
    docs = make_corpus(tmp_path)
    data = tmp_path / "data"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_INGEST, str(data), str(docs), str(cache_dir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    for _ in range(2):  # guide.md, the first file, has more chunks than that
        assert child.stdout.readline().strip() == "wrote"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    with KnowledgeBase.open(load_settings(data_dir=data), embeddings=embedder) as kb:
        assert 0 < kb.documents.count() < 20
        assert any(not f.complete for f in kb.documents.files().values())
        resumed = kb.documents.ingest([docs])
        assert resumed.chunks_written > 0
        assert_consistent(kb)
        assert len(kb.documents.files()) == 3
        assert all(f.complete for f in kb.documents.files().values())


def test_cli_ingest_and_docs(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentkit.cli import app

    docs = make_corpus(tmp_path)
    monkeypatch.setenv("AGENTKIT_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("AGENTKIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AGENTKIT_N_THREADS", "2")
    runner = CliRunner()
    first = runner.invoke(app, ["ingest", str(docs), "--json"])
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout[first.stdout.index("{") :])
    assert len(report["added"]) == 3 and report["skipped"][0]["reason"] == "binary"

    listed = runner.invoke(app, ["docs", "list", "--json"])
    assert {Path(f["path"]).name for f in json.loads(listed.stdout)} == {
        "guide.md",
        "tool.py",
        "plain.txt",
    }
    found = runner.invoke(app, ["docs", "search", "lighthouse keeper", "-k", "1", "--json"])
    [hit] = json.loads(found.stdout)
    assert hit["citation"].endswith("plain.txt:1")
    removed = runner.invoke(app, ["docs", "remove", str(docs / "plain.txt")])
    assert removed.exit_code == 0 and "removed 1" in removed.stdout


def test_cli_ingest_of_a_missing_path_is_a_one_line_error(tmp_path: Path) -> None:
    """A typo must not pass as a successful ingest of nothing; the index is untouched."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "AGENTKIT_DATA_DIR": str(tmp_path / "data")}
    agentkit = Path(sys.executable).with_name("agentkit")
    result = subprocess.run(
        [str(agentkit), "ingest", str(tmp_path / "no-such-dir")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {tmp_path / 'no-such-dir'}: no such file or directory")
    assert not (tmp_path / "data").exists()
