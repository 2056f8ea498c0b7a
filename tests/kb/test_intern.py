"""Answer parts a knowledge base keeps and hands out again (explanations, finding codes)."""

from __future__ import annotations

from pathlib import Path

import pytest

import contraxis.knowledge.loader as loader
from contraxis import assess
from contraxis.case import read_case
from contraxis.documents import parse_document

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cervical-dystonia.yaml"


def test_a_value_is_made_once_and_handed_out_again(kb) -> None:
    made = []

    def make() -> tuple[str, ...]:
        made.append(1)
        return ("a",)

    first = kb.intern(("test", "key"), make)
    assert kb.intern(("test", "key"), make) is first
    assert len(made) == 1


def test_what_is_kept_is_bounded(kb, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "INTERNED", 3)
    kb.interned.clear()
    for i in range(3):
        kb.intern(("bounded", i), lambda i=i: i)
    assert len(kb.interned) == 3
    kb.intern(("bounded", 3), lambda: 3)
    assert len(kb.interned) == 1 and kb.interned[("bounded", 3)] == 3


def test_kept_parts_give_the_same_answer_as_parts_made_anew(kb) -> None:
    case = read_case(parse_document(EXAMPLE.read_text()))
    kb.interned.clear()
    fresh = assess(case, kb=kb).model_dump_json()
    assert kb.interned  # explanations and codes were kept
    again = assess(case, kb=kb)
    assert again.model_dump_json() == fresh
    assert any(item.why is not None for item in again.conclusions)
