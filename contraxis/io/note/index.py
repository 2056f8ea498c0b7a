"""The phrase index of the note reader and of the page's finding search, built once.

What it holds:

* every current HPO term below the roots of ``findings.yaml`` (Phenotypic abnormality) in
  the shipped release (``contraxis/data/hpo/hp.obo.gz``): its label, its EXACT synonyms, its
  RELATED synonyms of more than one word and its layperson synonyms of any scope but NARROW,
  each keyed word by word
  (:func:`contraxis.io.note.text.phrase_key`), and its parents;
* the knowledge base's own phrases (``findings.yaml``: the terms of every rule) for its local
  ``CX:`` codes and the HPO terms its rules read;
* the drug names the drug resolver reads (the drug-named-entity-recognition library's
  dictionary and the reviewed table ``terminology/data/drugs.yaml``), lower case.

The part read from the ontology and the drug dictionary is built at first use (a few
seconds) and cached under ``<cache>/note/`` (``<cache>`` as
:func:`contraxis.codes.default_cache_dir` says), keyed by the bytes of the ontology, the
drug table and the library's version; later loads read the cache (a fraction of a second).
Nothing is built at import. The reviewed files are read and checked on every load.
"""

from __future__ import annotations

import bisect
import gzip
import hashlib
import pickle
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ...codes.patterns import HPO_ID
from .data import DATA_DIR, KB_DIR, NoteFiles, Rule, load_note_files
from .text import Lexicon, phrase_key, split_words

__all__ = ["FindingHit", "NoteIndex", "PhraseHit", "load_note_index", "search_findings"]

OBO_FILE = Path(__file__).resolve().parents[2] / "data" / "hpo" / "hp.obo.gz"
DRUG_TABLE = Path(__file__).resolve().parents[2] / "terminology" / "data" / "drugs.yaml"
_FORMAT = 4
"""Bump when the cached part changes shape."""

MAX_QUERY = 100
"""The longest search query read (characters)."""


@dataclass(frozen=True, slots=True)
class PhraseHit:
    """One phrase of the index: the code it names, the phrase as written, and its kind
    (``label``, ``synonym``, ``layperson``, ``knowledge-base``)."""

    code: str
    text: str
    kind: str


@dataclass(frozen=True, slots=True)
class FindingHit:
    """One answer of the finding search.

    Parameters
    ----------
    code : str
        The HPO id or local code.
    name : str
        Its label (HPO's, or the knowledge base's for a local code).
    matched : str
        The phrase the query matched (the label or a synonym).
    knowledge_base : bool
        Whether the knowledge base reads this code (its rules, concepts or intake form).
    """

    code: str
    name: str
    matched: str
    knowledge_base: bool

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "matched": self.matched, "knowledge_base": self.knowledge_base}


@dataclass(frozen=True, slots=True)
class _Cached:
    release: str
    labels: Mapping[str, str]
    synonyms: Mapping[str, tuple[tuple[str, str], ...]]  # code -> ((text, kind), ...)
    parents: Mapping[str, tuple[str, ...]]
    roots_below: Mapping[str, frozenset[str]]  # root -> every term below it
    current: frozenset[str]
    drug_names: frozenset[str]


@dataclass(frozen=True, slots=True, eq=False)
class NoteIndex:
    """Everything the note reader and the finding search read, compiled.

    Parameters
    ----------
    files : NoteFiles
        The reviewed data files.
    lexicon : Lexicon
        The word rules.
    release : str
        The HPO release (``2025-01-16``).
    labels : Mapping[str, str]
        Code -> label, for HPO terms and local codes.
    phrases : Mapping[tuple of str, tuple of PhraseHit]
        Phrase key -> what it names (HPO words, then the knowledge base's terms).
    max_words : int
        The longest phrase key.
    parents : Mapping[str, tuple of str]
        HPO id -> its parents.
    drug_names : frozenset of str
        Lower-case drug names of one to four words.
    knowledge_base_codes : frozenset of str
        The codes the knowledge base reads.
    """

    files: NoteFiles
    lexicon: Lexicon
    release: str
    labels: Mapping[str, str]
    phrases: Mapping[tuple[str, ...], tuple[PhraseHit, ...]]
    max_words: int
    parents: Mapping[str, tuple[str, ...]]
    drug_names: frozenset[str]
    knowledge_base_codes: frozenset[str]
    _search: Any

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(self.files.findings.rules)

    def ancestors(self, code: str) -> frozenset[str]:
        """Every HPO term above ``code`` (itself excluded); empty for a local code."""
        return _ancestors(self, code)

    def label(self, code: str) -> str:
        """The label of a code, or the code itself when unknown."""
        return self.labels.get(code, code)


@lru_cache(maxsize=65536)
def _ancestors(index: NoteIndex, code: str) -> frozenset[str]:
    out: set[str] = set()
    todo = list(index.parents.get(code, ()))
    while todo:
        parent = todo.pop()
        if parent not in out:
            out.add(parent)
            todo.extend(index.parents.get(parent, ()))
    return frozenset(out)


# --- the ontology ------------------------------------------------------------------------------

_SYNONYM = re.compile(r'^synonym: "((?:[^"\\]|\\.)*)" (EXACT|RELATED|BROAD|NARROW)\s*([A-Za-z0-9_:]*)')


def _parse_obo(raw: bytes) -> tuple[str, dict[str, dict[str, Any]]]:
    """Terms of an OBO file: id -> name, synonyms (text, scope, type), parents, obsolete."""
    text = gzip.decompress(raw).decode("utf-8") if raw[:2] == b"\x1f\x8b" else raw.decode("utf-8")
    release = ""
    terms: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] | None = None
    for line in text.splitlines():
        if line.startswith("[Term]"):
            current = {"synonyms": [], "parents": [], "obsolete": False}
            continue
        if line.startswith("["):
            current = None
            continue
        if current is None:
            if line.startswith("data-version:"):
                release = line.split(":", 1)[1].strip().rsplit("/", 1)[-1]
            continue
        if line.startswith("id: "):
            current["id"] = line[4:].strip()
            terms[current["id"]] = current
        elif line.startswith("name: "):
            current["name"] = line[6:].strip()
        elif line.startswith("synonym: "):
            m = _SYNONYM.match(line)
            if m:
                current["synonyms"].append((m.group(1).replace('\\"', '"'), m.group(2), m.group(3)))
        elif line.startswith("is_a: "):
            current["parents"].append(line[6:].split("!")[0].strip())
        elif line.startswith("is_obsolete: true"):
            current["obsolete"] = True
    return release, terms


def _below(roots: Iterable[str], children: Mapping[str, list[str]]) -> frozenset[str]:
    out: set[str] = set()
    todo = list(roots)
    while todo:
        code = todo.pop()
        if code not in out:
            out.add(code)
            todo.extend(children.get(code, ()))
    return frozenset(out)


def _drug_names() -> frozenset[str]:
    """Lower-case drug names of one to four words: the library's variants and the table's names."""
    from drug_named_entity_recognition import drugs_finder  # noqa: PLC0415 - heavy, read at build only

    from ...terminology.drugs import load_drug_table

    names = {str(k).casefold() for k in drugs_finder.drug_variant_to_canonical}
    names.update(row.name.casefold() for row in load_drug_table().names)
    good = re.compile(r"^[a-z][a-z\-']*(?: [a-z][a-z\-']*){0,3}$")
    return frozenset(n for n in names if len(n) >= 4 and good.match(n))


def _cache_key(obo: bytes, data_dir: Path, kb_dir: Path) -> str:
    """The content key of the cached part: the ontology, the drug table and library, the
    reviewed files of the reader and the knowledge base's data files."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256(f"note index {_FORMAT}\n".encode())
    digest.update(hashlib.sha256(obo).digest())
    digest.update(DRUG_TABLE.read_bytes())
    try:
        digest.update(version("drug-named-entity-recognition").encode())
    except PackageNotFoundError:  # pragma: no cover - a dependency
        digest.update(b"unknown")
    for folder in (data_dir, kb_dir):
        for path in sorted(folder.rglob("*.yaml")):
            digest.update(path.name.encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:24]


def _build_cached(obo: bytes, roots: tuple[str, ...]) -> _Cached:
    release, terms = _parse_obo(obo)
    children: dict[str, list[str]] = {}
    for code, term in terms.items():
        for parent in term["parents"]:
            children.setdefault(parent, []).append(code)
    current = frozenset(c for c, t in terms.items() if not t["obsolete"] and HPO_ID.fullmatch(c))
    labels = {c: terms[c].get("name", c) for c in current}
    synonyms: dict[str, tuple[tuple[str, str], ...]] = {}
    for code in current:
        kept = []
        for text, scope, kind in terms[code]["synonyms"]:
            if kind == "layperson" and scope != "NARROW":
                kept.append((text, "layperson"))
            elif scope == "EXACT" and kind != "obsolete_synonym":
                kept.append((text, "synonym"))
            elif scope == "RELATED" and kind != "obsolete_synonym" and len(text.split()) > 1:
                kept.append((text, "synonym"))  # a one-word related synonym is too loose ("Limp")
        synonyms[code] = tuple(kept)
    return _Cached(
        release=release,
        labels=labels,
        synonyms=synonyms,
        parents={c: tuple(p for p in terms[c]["parents"] if p in current) for c in current},
        roots_below={root: _below([root], children) & current for root in roots},
        current=current,
        drug_names=_drug_names(),
    )


def _read_pickle(path: Path, key: str) -> Any:
    from ...codes.cache import read_keyed

    payload = read_keyed(path, key)
    if payload is None:
        return None
    try:
        return pickle.loads(payload)  # noqa: S301 - our own cache, keyed by content and digest-checked
    except (pickle.UnpicklingError, EOFError, AttributeError, TypeError, ValueError, ImportError):
        return None


def _write_pickle(path: Path, key: str, value: Any) -> None:
    from ...codes.cache import write_keyed

    write_keyed(path, key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), keep=2)


# --- compiling -----------------------------------------------------------------------------


def _lexicon(files: NoteFiles) -> Lexicon:
    return Lexicon(
        spelling=tuple((re.compile(s.uk), s.us) for s in files.lexicon.spelling),
        irregular=MappingProxyType({k.casefold(): v.casefold() for k, v in files.lexicon.irregular.items()}),
        skip=frozenset(w.casefold() for w in files.lexicon.skip),
    )


def _kb_codes(kb_dir: Path, rules: Iterable[Rule]) -> frozenset[str]:
    """Codes the knowledge base reads: any HPO id named in its data files, its local codes and
    the codes of the reader's rules."""
    codes: set[str] = set()
    for path in kb_dir.rglob("*.yaml"):
        codes.update(re.findall(r"\b(?:HP:\d{7}|CX:[a-z][a-z0-9\-]*)\b", path.read_text(encoding="utf-8")))
    for rule in rules:
        codes.update(rule.codes)
    return frozenset(c for c in codes if not c.startswith("CX:hx-"))


def _phrase_table(
    cached: _Cached, files: NoteFiles, lexicon: Lexicon
) -> tuple[dict[tuple[str, ...], tuple[PhraseHit, ...]], dict[str, list[tuple[str, str]]]]:
    """The phrase table for reading notes, and every name of every code (for the search)."""
    hpo = files.findings.hpo
    allowed: set[str] = set()
    for root in hpo.roots:
        allowed |= cached.roots_below.get(root, frozenset())
    ignored_terms = set(hpo.ignore_terms)
    ignored_words = {phrase_key(split_words(s), lexicon) for s in hpo.ignore_synonyms}
    table: dict[tuple[str, ...], list[PhraseHit]] = {}
    names: dict[str, list[tuple[str, str]]] = {}
    for code in sorted(allowed):
        label = cached.labels[code]
        entries = [(label, "label"), *cached.synonyms.get(code, ())]
        names[code] = entries
        if code in ignored_terms:
            continue
        for text, kind in entries:
            key = phrase_key(split_words(text), lexicon)
            if not key or key in ignored_words:
                continue
            table.setdefault(key, []).append(PhraseHit(code, text, kind))
    for rule in files.findings.rules:
        if rule.only == "negated" or rule.polarity == "absent" or rule.scope != "patient":
            continue
        for code in rule.codes:
            for term in rule.terms:
                names.setdefault(code, []).append((term, "knowledge-base"))
    return {k: tuple(v) for k, v in table.items()}, names


@dataclass(frozen=True, slots=True)
class _Search:
    words: tuple[str, ...]  # sorted word keys
    postings: Mapping[str, frozenset[int]]  # word key -> entries
    entries: tuple[tuple[str, str, str, tuple[str, ...]], ...]  # (code, name, kind, key)


def _search_index(names: Mapping[str, list[tuple[str, str]]], lexicon: Lexicon) -> _Search:
    entries: list[tuple[str, str, str, tuple[str, ...]]] = []
    postings: dict[str, set[int]] = {}
    for code in sorted(names):
        seen: set[tuple[str, ...]] = set()
        for text, kind in names[code]:
            key = phrase_key(split_words(text), lexicon)
            if not key or key in seen:
                continue
            seen.add(key)
            i = len(entries)
            entries.append((code, text, kind, key))
            for word in set(key):
                postings.setdefault(word, set()).add(i)
    return _Search(
        words=tuple(sorted(postings)),
        postings={k: frozenset(v) for k, v in postings.items()},
        entries=tuple(entries),
    )


def load_note_index(
    *, data_dir: Path | None = None, obo_path: Path | None = None, cache_dir: Path | None = None, kb_dir: Path = KB_DIR
) -> NoteIndex:
    """Load the note reader's index: the reviewed files (checked on every load) and the part
    built from the ontology and the drug dictionary (cached).

    Parameters
    ----------
    data_dir : pathlib.Path, optional
        The reviewed files' folder (the package's by default).
    obo_path : pathlib.Path, optional
        The HPO release (the shipped ``hp.obo.gz`` by default).
    cache_dir : pathlib.Path, optional
        The cache folder (:func:`contraxis.codes.default_cache_dir` by default).
    kb_dir : pathlib.Path
        The knowledge base's data folder.

    Returns
    -------
    NoteIndex
        Frozen; share it between calls (:func:`default_note_index` keeps one per process).

    Raises
    ------
    KnowledgeBaseError
        When a reviewed file is wrong (naming file, row and field).
    """
    from ...codes import default_cache_dir
    from ...terminology.labs import analytes
    from .data import local_codes

    data_dir = data_dir or DATA_DIR
    obo = (obo_path or OBO_FILE).read_bytes()
    key = _cache_key(obo, data_dir, kb_dir)
    path = (cache_dir or default_cache_dir()) / "note" / f"index-{key}.pickle"
    stored = _read_pickle(path, key)
    if stored is not None:
        cached, table, search, labels, kb_codes = stored
        files = load_note_files(data_dir, hpo_ok=cached.current.__contains__, analytes=analytes(), kb_dir=kb_dir)
        lexicon = _lexicon(files)
    else:
        cached = _build_cached(obo, _roots(data_dir))
        files = load_note_files(data_dir, hpo_ok=cached.current.__contains__, analytes=analytes(), kb_dir=kb_dir)
        lexicon = _lexicon(files)
        table, names = _phrase_table(cached, files, lexicon)
        local, _history = local_codes(kb_dir)
        kb_local = _read_local_labels(kb_dir)
        labels = dict(cached.labels)
        for code in sorted(local):
            labels[code] = kb_local.get(code, code)
            names.setdefault(code, []).insert(0, (labels[code], "label"))
            names[code].insert(1, (code.removeprefix("CX:").replace("-", " "), "knowledge-base"))
        search = _search_index(names, lexicon)
        kb_codes = _kb_codes(kb_dir, files.findings.rules)
        _write_pickle(path, key, (cached, table, search, labels, kb_codes))
    return NoteIndex(
        files=files,
        lexicon=lexicon,
        release=cached.release,
        labels=MappingProxyType(labels),
        phrases=MappingProxyType(table),
        max_words=max((len(k) for k in table), default=1),
        parents=MappingProxyType(cached.parents),
        drug_names=cached.drug_names,
        knowledge_base_codes=kb_codes,
        _search=search,
    )


# The cache holds plain dictionaries; the index hands them out read-only.


def _roots(data_dir: Path) -> tuple[str, ...]:
    import yaml

    raw = yaml.safe_load((data_dir / "findings.yaml").read_text(encoding="utf-8")) or {}
    roots = ((raw.get("hpo") or {}).get("roots")) if isinstance(raw, dict) else None
    return tuple(str(r) for r in roots) if isinstance(roots, list) and roots else ("HP:0000118",)


def _read_local_labels(kb_dir: Path) -> dict[str, str]:
    import yaml

    raw = yaml.safe_load((kb_dir / "findings.yaml").read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in (raw.get("local") or {}).items()}


@lru_cache(maxsize=1)
def default_note_index() -> NoteIndex:
    """The index of the shipped data, loaded once per process."""
    return load_note_index()


# --- the finding search ------------------------------------------------------------------------


def search_findings(query: str, *, limit: int = 20, index: NoteIndex | None = None) -> list[FindingHit]:
    """Search every HPO term (labels and synonyms) and the knowledge base's local codes.

    Parameters
    ----------
    query : str
        What was typed: words in any order, British or American spelling, plain words
        (``dyspnoea``, ``tongue``, ``sensory trick``), the last word possibly unfinished; or
        an id (``HP:0000473``, ``0000473``, ``CX:sensory-trick``). Only the first
        :data:`MAX_QUERY` characters are read.
    limit : int
        At most this many answers (1 to 100).
    index : NoteIndex, optional
        The index (the shipped one by default).

    Returns
    -------
    list of FindingHit
        One per code, best first: the knowledge base's codes before the others, then a name
        equal to the query, then a name starting with it, then the shorter name; a code
        matched by its label before one matched by a synonym.
    """
    index = index or default_note_index()
    limit = max(1, min(int(limit), 100))
    text = str(query)[:MAX_QUERY].strip()
    if not text:
        return []
    by_id = _by_id(text, index)
    if by_id is not None:
        return [by_id]
    search: _Search = index._search
    words = split_words(text)
    keys = [k for k in (phrase_key([w], index.lexicon) for w in words) if k]
    if not keys:
        return []
    flat = [k[0] for k in keys]
    last_raw = index.lexicon.spelling and words[-1].casefold()
    candidates: set[int] | None = None
    for i, key in enumerate(flat):
        found = set(search.postings.get(key, frozenset()))
        if i == len(flat) - 1:  # the last word may be unfinished: any word starting with it
            for prefix in {key, str(last_raw)}:
                start = bisect.bisect_left(search.words, prefix)
                for j in range(start, min(start + 400, len(search.words))):
                    if not search.words[j].startswith(prefix):
                        break
                    found |= search.postings[search.words[j]]
        candidates = found if candidates is None else candidates & found
        if not candidates:
            return []
    best: dict[str, tuple[tuple[Any, ...], FindingHit]] = {}
    query_key = tuple(flat)
    for i in candidates or ():
        code, name, kind, key = search.entries[i]
        rank = (
            code not in index.knowledge_base_codes,
            key != query_key,
            key[: len(query_key)] != query_key,
            kind != "label",
            len(key),
            index.label(code).casefold(),
        )
        hit = FindingHit(code, index.label(code), name, code in index.knowledge_base_codes)
        if code not in best or rank < best[code][0]:
            best[code] = (rank, hit)
    return [hit for _rank, hit in sorted(best.values(), key=lambda pair: pair[0])[:limit]]


def _by_id(text: str, index: NoteIndex) -> FindingHit | None:
    candidate = text.upper().replace(" ", "")
    if re.fullmatch(r"\d{7}", candidate):
        candidate = "HP:" + candidate
    if HPO_ID.fullmatch(candidate) and candidate in index.labels:
        return FindingHit(candidate, index.label(candidate), candidate, candidate in index.knowledge_base_codes)
    if text.startswith("CX:") and text in index.labels:
        return FindingHit(text, index.label(text), text, True)
    return None
