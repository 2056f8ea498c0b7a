"""Clinical notes in, a native case out: free-text intake with negation, laterality and timing.

:func:`read_note` reads the text of a letter or a clinic note into an ordinary
:class:`~contraxis.case.Case` and says where every fact came from (:class:`Fact`,
:class:`Evidence`) and what was recognised but not used (:class:`Unused`).
:func:`search_findings` searches every HPO term and the knowledge base's local codes by their
labels, synonyms and plain words. :func:`bench_notes` measures the reader on vignettes.

The reader needs the ``note`` extra (spaCy without a trained model, negspacy); without it
:func:`read_note` raises :class:`NoteReaderUnavailable`. The search needs only the core.

Modules: :mod:`~contraxis.io.note.data` (the reviewed data files and their schema),
:mod:`~contraxis.io.note.text` (word keys), :mod:`~contraxis.io.note.index` (the phrase
index, built once and cached), :mod:`~contraxis.io.note.pipeline` (spaCy and NegEx cues),
:mod:`~contraxis.io.note.timing` (ages and durations), :mod:`~contraxis.io.note.reader` (the
reading), :mod:`~contraxis.io.note.bench` (the measures).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "Evidence",
    "Fact",
    "FindingHit",
    "NoteIndex",
    "NoteReaderUnavailable",
    "NoteReading",
    "Unused",
    "bench_notes",
    "default_note_index",
    "load_note_index",
    "read_note",
    "search_findings",
]

if TYPE_CHECKING:  # pragma: no cover
    from .bench import bench_notes
    from .index import FindingHit, NoteIndex, default_note_index, load_note_index, search_findings
    from .pipeline import NoteReaderUnavailable
    from .reader import Evidence, Fact, NoteReading, Unused, read_note

_WHERE = {
    "bench_notes": ".bench",
    "FindingHit": ".index",
    "NoteIndex": ".index",
    "default_note_index": ".index",
    "load_note_index": ".index",
    "search_findings": ".index",
    "NoteReaderUnavailable": ".pipeline",
    "Evidence": ".reader",
    "Fact": ".reader",
    "NoteReading": ".reader",
    "Unused": ".reader",
    "read_note": ".reader",
}


def __getattr__(name: str) -> Any:
    """Names are imported on first use: importing the package loads neither spaCy nor the index."""
    if name in _WHERE:
        from importlib import import_module

        value = getattr(import_module(_WHERE[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
