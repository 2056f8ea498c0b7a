"""What a reading of a note holds: the case, each fact with its words, what was not used.

Part of :mod:`contraxis.io.note.reader`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...reading import NotRead, Reading

MAX_NOTE_CHARS = 100_000
"""The longest note read (characters): a long clinic letter is a few thousand."""


EMPTY_MESSAGE = (
    "Nothing clinical was recognised in this text (no finding, body region, age, drug, result or history): "
    "the case is empty. Paste the clinical note itself, or fill in the form."
)


@dataclass(frozen=True, slots=True)
class Evidence:
    """The words a fact came from.

    Parameters
    ----------
    start, end : int
        Character offsets in the note (``text[start:end]`` is the words).
    text : str
        The words, as written.
    how : str
        How they were read: ``HPO label 'Torticollis'``, ``HPO synonym 'Wry neck'``,
        ``phrase rule torticollis.turned``, ``body part 'left hand'``, ``number``...
    cue : str or None
        The negation cue that made the finding absent (``no``, ``without``), if any.
    section : str or None
        The section of the note it was in (``examination``, ``family``...), if the note has
        headers.
    """

    start: int
    end: int
    text: str
    how: str
    cue: str | None = None
    section: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"start": self.start, "end": self.end, "text": self.text, "how": self.how}
        if self.cue:
            out["cue"] = self.cue
        if self.section:
            out["section"] = self.section
        return out


@dataclass(frozen=True, slots=True)
class Fact:
    """One fact of the case and the words it came from.

    Parameters
    ----------
    path : str
        Where it is in the case (``findings[2]``, ``regions[0]``, ``age``, ``labs[1]``,
        ``family_history``).
    value : Any
        Its value in the case (a code, a region, a number, a mapping for a drug or a result).
    label : str
        A name for it (the HPO label, ``left arm``, ``58 years``).
    evidence : tuple of Evidence
        Every span of words that says it.
    """

    path: str
    value: Any
    label: str
    evidence: tuple[Evidence, ...]

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "value": self.value, "label": self.label,
                "evidence": [e.to_json() for e in self.evidence]}


@dataclass(frozen=True, slots=True)
class Unused:
    """Something recognised in the note and not put in the case, and why.

    Parameters
    ----------
    start, end : int
        Character offsets of the words.
    text : str
        The words.
    what : str
        What they were recognised as (``HP:0100021 Cerebral palsy``, ``drug haloperidol``).
    reason : str
        Why it is not in the case (``uncertain: 'possible'``, ``about a relative``...).
    """

    start: int
    end: int
    text: str
    what: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text, "what": self.what, "reason": self.reason}


@dataclass(frozen=True)
class NoteReading:
    """A note read into a case.

    Parameters
    ----------
    text : str
        The note as read.
    case : contraxis.case.Case
        The native case (nothing downstream knows it came from a note).
    not_read : tuple of NotRead
        What the case reader changed or could not use (a brand read as its ingredient...).
    facts : tuple of Fact
        The provenance of every fact of the case.
    unused : tuple of Unused
        What was recognised and not used.
    message : str
        ``""``, or a sentence for the reader (an empty case says so).
    sections : tuple of (str, int, int)
        The sections found: kind, start and end offsets.
    said_none : tuple of str
        The list fields the note says are empty (``medications`` for "takes no medication").
    """

    text: str
    case: Any
    not_read: tuple[NotRead, ...] = ()
    facts: tuple[Fact, ...] = ()
    unused: tuple[Unused, ...] = ()
    message: str = ""
    sections: tuple[tuple[str, int, int], ...] = ()
    said_none: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        """Whether nothing was put in the case."""
        return not self.facts

    def to_reading(self) -> Reading:
        """The :class:`~contraxis.reading.Reading` every way in passes to the engine."""
        return Reading(case=self.case, not_read=self.not_read, format="note")

    def case_json(self) -> dict[str, Any]:
        """The case as the case format writes it: fields left unknown are left out, and a list
        the note says is empty ("takes no medication": ``medications: []``) is written empty."""
        data = self.case.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        for name in self.said_none:
            data.setdefault(name, [])
        order = list(type(self.case).model_fields)
        return {key: data[key] for key in sorted(data, key=order.index)}

    def to_json(self) -> dict[str, Any]:
        """``case``, ``facts``, ``unused``, ``not_read``, ``sections`` and ``message``."""
        return {
            "case": self.case_json(),
            "facts": [f.to_json() for f in self.facts],
            "unused": [u.to_json() for u in self.unused],
            "not_read": [n.to_json() for n in self.not_read],
            "sections": [{"kind": k, "start": s, "end": e} for k, s, e in self.sections],
            "message": self.message,
        }
