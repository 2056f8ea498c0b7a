"""The text pipeline: spaCy without a trained model, and NegEx cues from negspacy.

``spacy.blank("en")`` tokenises (rules, no weights) and a sentencizer cuts sentences at
. ! ? ; and : (a clause after a semicolon is a sentence part of its own for negation). Three
negspacy ``Negex`` matchers find the cues of ``context.yaml``: negation (negspacy's own
``en_clinical`` termset with the file's additions and removals), uncertainty and nothing else;
each gives the cue positions after its pseudo-negations are set aside, and the termination
boundaries. How far a cue reaches is decided by :mod:`contraxis.io.note.reader` (a list of
findings, not a whole sentence).

spaCy and negspacy are the ``note`` extra; without them :func:`load_pipeline` raises
:class:`NoteReaderUnavailable` naming the install command.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import ContraxisError, Problem
from .index import NoteIndex

__all__ = ["Cues", "NoteReaderUnavailable", "Pipeline", "load_pipeline"]

INSTALL = "pip install 'contraxis[note]'"


class NoteReaderUnavailable(ContraxisError, RuntimeError):
    """The note reader's libraries (spaCy, negspacy) are not installed."""


@dataclass(frozen=True, slots=True)
class Cues:
    """Cue matches of one kind in a document, token positions: each (start, end, text)."""

    preceding: tuple[tuple[int, int, str], ...]
    following: tuple[tuple[int, int, str], ...]
    termination: tuple[int, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Pipeline:
    """The spaCy language object and the two Negex cue matchers."""

    nlp: Any
    negation: Any
    uncertainty: Any

    def doc(self, text: str) -> Any:
        """Tokenise ``text`` and cut it into sentence parts."""
        return self.nlp(text)

    def cues(self, doc: Any, kind: str) -> Cues:
        """The cues of ``kind`` (``negation`` or ``uncertainty``) found in ``doc``."""
        matcher = self.negation if kind == "negation" else self.uncertainty
        preceding, following, terminating = matcher.process_negations(doc)
        return Cues(
            preceding=tuple((s, e, doc[s:e].text) for _m, s, e in sorted(preceding, key=lambda m: m[1])),
            following=tuple((s, e, doc[s:e].text) for _m, s, e in sorted(following, key=lambda m: m[1])),
            termination=tuple(sorted(s for _m, s, _e in terminating)),
        )


def _termsets(index: NoteIndex) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    from negspacy.termsets import termset

    context = index.files.context
    base = termset(context.negation.base).get_patterns()
    names = {"pseudo": "pseudo_negations", "preceding": "preceding_negations",
             "following": "following_negations", "termination": "termination"}
    negation: dict[str, list[str]] = {}
    for short, long in names.items():
        removed = {w.casefold() for w in getattr(context.negation.remove, short)}
        words = [w for w in base[long] if w.casefold() not in removed]
        words += [w for w in getattr(context.negation.add, short) if w.casefold() not in {x.casefold() for x in words}]
        negation[long] = words
    uncertainty = {long: list(getattr(context.uncertainty, short)) for short, long in names.items()}
    return negation, uncertainty


def load_pipeline(index: NoteIndex) -> Pipeline:
    """Build the pipeline for ``index``'s cue lists (a fraction of a second; keep it).

    Raises
    ------
    NoteReaderUnavailable
        When spaCy or negspacy is not installed.
    """
    try:
        import spacy
        from negspacy.negation import Negex
    except ImportError as error:
        raise NoteReaderUnavailable(
            [Problem("", f"reading clinical notes needs spaCy and negspacy ({error.name} is not installed): {INSTALL}")]
        ) from None
    nlp = spacy.blank("en")
    # A unit or a single letter at the end of a sentence ("14,200 U/L.", "39.4 C.") must not
    # swallow the full stop as an initial would; abbreviations ("Dr.", "e.g.") stay whole.
    from spacy.util import compile_suffix_regex

    nlp.tokenizer.suffix_search = compile_suffix_regex([*nlp.Defaults.suffixes, r"(?<=[A-Za-z])\.$"]).search
    nlp.add_pipe("sentencizer", config={"punct_chars": [".", "!", "?", ";", ":"]})
    negation_terms, uncertainty_terms = _termsets(index)
    negation = Negex(nlp, "negation", neg_termset=negation_terms, extension_name="cx_negated")
    uncertainty = Negex(nlp, "uncertainty", neg_termset=uncertainty_terms, extension_name="cx_uncertain")
    return Pipeline(nlp=nlp, negation=negation, uncertainty=uncertainty)
