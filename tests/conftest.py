"""Shared fixtures: the bundled knowledge base and the acceptance corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from contraxis import KnowledgeBase, load_knowledge_base

ROOT = Path(__file__).resolve().parent.parent
VIGNETTES = ROOT.parent / "shared" / "vignettes"
KB_CASES = Path(__file__).resolve().parent / "kb" / "cases"


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge_base()


@pytest.fixture(scope="session")
def vignette_dir() -> Path:
    if not VIGNETTES.is_dir():
        pytest.fail(f"the acceptance corpus is missing: {VIGNETTES} (shared/ must sit beside the project)")
    return VIGNETTES
