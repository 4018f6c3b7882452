"""Retrieval quality on a small hand-written corpus (tests/fixtures/corpus):
42 documents (ten of them near-topic distractors), 32 questions phrased
without copying the documents' wording, each with one known answer document. Prints recall@1,
recall@5 and MRR; requires recall@5 >= 0.9."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentkit.memory import KnowledgeBase

pytestmark = pytest.mark.model

CORPUS = Path(__file__).parent / "fixtures" / "corpus"


def test_recall_at_5(kb: KnowledgeBase) -> None:
    questions = json.loads((CORPUS / "questions.json").read_text())
    assert len(questions) >= 30
    assert len(list((CORPUS / "docs").glob("*.md"))) >= 30
    kb.documents.ingest([CORPUS / "docs"])
    ranks: list[int | None] = []
    for item in questions:
        answer = str((CORPUS / item["answer"]).resolve())
        hits = kb.documents.search(item["question"], k=5)
        sources = list(dict.fromkeys(h.source for h in hits))
        ranks.append(sources.index(answer) + 1 if answer in sources else None)
    n = len(ranks)
    recall_at_1 = sum(r == 1 for r in ranks) / n
    recall_at_5 = sum(r is not None for r in ranks) / n
    mrr = sum(1 / r for r in ranks if r) / n
    misses = [q["question"] for q, r in zip(questions, ranks, strict=True) if r is None]
    print(
        f"\nretrieval: recall@1={recall_at_1:.3f} recall@5={recall_at_5:.3f} MRR={mrr:.3f} "
        f"over {n} questions; misses: {misses}"
    )
    assert recall_at_5 >= 0.9, misses
