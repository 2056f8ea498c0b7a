"""Words as the note reader compares them: lower case, American spelling, stemmed.

A phrase of the index (an HPO label, a synonym, a phrase of the reviewed data) and a word of
a note are compared through the same key, :func:`word_key`: the word in lower case, its
British spelling turned American by the rules of ``data/lexicon.yaml`` (``dyspnoea`` ->
``dyspnea``, ``paralyse`` -> ``paralyze``), an irregular plural turned singular (``feet`` ->
``foot``), then stemmed by the Snowball English stemmer (Porter 2: ``twisting``, ``twisted``
and ``twists`` -> ``twist``). Small words that carry no meaning in a phrase (``the``,
``his``, ``of``) are left out of keys (:data:`Lexicon.skip`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Lexicon", "phrase_key", "split_words", "word_key"]

_WORD = re.compile(r"[A-Za-z][A-Za-z']*|[0-9]+(?:[.,][0-9]+)*")


@dataclass(frozen=True, slots=True, eq=False)
class Lexicon:
    """The word rules read from ``data/lexicon.yaml``.

    Parameters
    ----------
    spelling : tuple of (re.Pattern, str)
        British -> American rewrites, applied in order to a lower-case word.
    irregular : Mapping[str, str]
        Irregular forms -> the form the stemmer is given (``feet`` -> ``foot``).
    skip : frozenset of str
        Words left out of keys (articles, possessives, ``of``).

    Compared and hashed by identity: keys are cached per lexicon.
    """

    spelling: tuple[tuple[re.Pattern[str], str], ...]
    irregular: Mapping[str, str]
    skip: frozenset[str]


@lru_cache(maxsize=1)
def _stemmer():  # noqa: ANN202 - snowballstemmer has no type hints
    import snowballstemmer

    return snowballstemmer.stemmer("english")


def split_words(text: str) -> list[str]:
    """The words and numbers of ``text`` (letters with inner apostrophes; digits with
    decimal points), in order; hyphens and other punctuation separate words."""
    return _WORD.findall(text)


def word_key(word: str, lexicon: Lexicon) -> str:
    """The key of one word (see the module docstring); ``""`` for a word left out.

    Parameters
    ----------
    word : str
        One word as written.
    lexicon : Lexicon
        The spelling rules, irregular forms and skipped words.

    Returns
    -------
    str
        The stem, e.g. ``word_key("Dyspnoea") == "dyspnea"``, ``word_key("twisting") ==
        "twist"``.
    """
    return _word_key(word, lexicon)


@lru_cache(maxsize=65536)
def _word_key(word: str, lexicon: Lexicon) -> str:
    w = word.lower().strip("'")
    if w.endswith("'s"):
        w = w[:-2]
    if not w or w in lexicon.skip:
        return ""
    for pattern, replacement in lexicon.spelling:
        w = pattern.sub(replacement, w)
    w = lexicon.irregular.get(w, w)
    if not w[0].isalpha():
        return w
    return _stemmer().stemWord(w)


def phrase_key(words: Iterable[str], lexicon: Lexicon) -> tuple[str, ...]:
    """The key of a phrase: the keys of its words, skipped words left out."""
    return tuple(k for k in (word_key(w, lexicon) for w in words) if k)
