"""Drug names and RxNorm codes to the ingredients the knowledge base reasons about.

One resolver for every reader (native case, web form, FHIR, CDS Hooks, phenopacket). The
knowledge base names drugs by their generic (INN) name in lower case
(``contraxis/knowledge/data/drugs.yaml``); what arrives is a brand ("Reglan", "Stemetil"),
a salt ("metoclopramide hydrochloride"), a misspelling ("metoclopramid"), a combination
product ("Sinemet", "co-codamol", "carbidopa and levodopa"), an RxNorm code (ingredient,
clinical drug or branded drug) or a display string ("24 HR Metformin hydrochloride 500 MG
Extended Release Oral Tablet"). :func:`resolve_drug` turns each into a :class:`DrugReading`:
the ingredients, how they were read and one sentence for the ``not_read`` list.

Where the names come from:

* the drug-named-entity-recognition library (MIT; its dictionary ships with it and is read
  offline) for generic names, brand names from several countries and synonyms. Its canonical
  names are MeSH style ("torsemide", "cyclosporine"); they are mapped to the knowledge base's
  spelling ("torasemide", "ciclosporin") through the library's own synonyms;
* the reviewed table ``terminology/data/drugs.yaml`` for what the library lacks: brands
  (Stemetil, Sinemet, Madopar, ...), combination products with every ingredient, a few INN
  names, and the RxNorm codes of the drugs the rules use. Every row cites a source of
  ``knowledge/data/sources.yaml`` and names the public listing where it was checked.

Nothing here decides anything clinical; unknown input is never guessed at beyond a single,
strict spelling correction, and is reported as unresolved.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..codes.patterns import RXNORM_ID, anchored
from ..errors import KnowledgeBaseError, Problem

__all__ = [
    "DrugReading",
    "DrugTable",
    "known_rxnorm",
    "load_drug_table",
    "resolve_drug",
    "suggest_drugs",
]

DATA_FILE = Path(__file__).resolve().parent / "data" / "drugs.yaml"
_KB_DIR = Path(__file__).resolve().parent.parent / "knowledge" / "data"
KB_DRUGS_FILE = _KB_DIR / "drugs.yaml"
SOURCES_FILE = _KB_DIR / "sources.yaml"

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_NAME = 200
"""Names longer than this are cut to this many characters before matching."""
MISSPELLING_MIN = 6
"""Only names of at least this many letters are corrected for spelling."""
MISSPELLING_CUTOFF = 0.85
"""Least difflib similarity ratio for a spelling correction."""
SPELLING_VARIANT = 0.8
"""A library synonym this close to its generic name is another spelling of it, not a brand."""
MAX_SUGGESTIONS = 50

How = Literal["generic", "brand", "salt", "misspelling", "combination", "rxnorm", "display", "unresolved"]


@dataclass(frozen=True, slots=True)
class DrugReading:
    """What a drug name or RxNorm code was read as.

    Parameters
    ----------
    given : str
        The name as given (at most 200 characters), or ``"RxNorm 311666"`` when only a code
        was given.
    ingredients : tuple of str
        Lower-case generic (INN) names, spelled as the knowledge base spells them where it
        knows the drug, sorted; ``()`` when unresolved.
    how : str
        ``generic`` (the name is exactly one ingredient name), ``brand`` (a brand or other
        name of one drug), ``salt`` (a salt or ester form, read as its base),
        ``misspelling`` (corrected to the one nearest name the knowledge base uses),
        ``combination`` (a product of several ingredients, each given), ``rxnorm`` (a code
        of the reviewed table), ``display`` (a description such as an RxNorm display:
        strengths, units and dose forms set aside) or ``unresolved``.
    note : str
        One sentence for the ``not_read`` list saying what it was read as and how; ``""``
        exactly when ``how == "generic"``.
    """

    given: str
    ingredients: tuple[str, ...]
    how: How
    note: str

    @property
    def resolved(self) -> bool:
        """Whether at least one ingredient was read."""
        return bool(self.ingredients)


# --------------------------------------------------------------------------------------------
# The reviewed table
# --------------------------------------------------------------------------------------------

_INGREDIENT = r"^[a-z0-9][a-z0-9 ,\-']*[a-z0-9]$"


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_ingredients(value: list[str]) -> list[str]:
    for item in value:
        if not re.match(_INGREDIENT, item):
            raise ValueError(f"ingredient {item!r} is not a lower-case generic name")
    if len(set(value)) != len(value):
        raise ValueError("an ingredient is listed twice")
    return value


class NameRow(_Row):
    """A brand, combination product or other name that the library lacks or reads wrongly."""

    name: str = Field(min_length=2, max_length=60)
    ingredients: list[str] = Field(min_length=1)
    kind: Literal["brand", "combination", "other-name"]
    country: str | None = None
    source: str
    evidence: str = Field(min_length=10)

    @field_validator("ingredients")
    @classmethod
    def _lower_case(cls, value: list[str]) -> list[str]:
        return _check_ingredients(value)


class CodeRow(_Row):
    """One RxNorm code with the ingredients it contains."""

    code: str = Field(pattern=anchored(RXNORM_ID))
    kind: Literal["ingredient", "multiple ingredients", "clinical drug", "branded drug", "pack"]
    display: str = Field(min_length=3)
    ingredients: list[str] = Field(min_length=1)
    source: str
    evidence: str = Field(min_length=10)

    @field_validator("ingredients")
    @classmethod
    def _lower_case(cls, value: list[str]) -> list[str]:
        return _check_ingredients(value)


class DrugTable(_Row):
    """The reviewed drug table (``terminology/data/drugs.yaml``)."""

    reviewed: str
    names: list[NameRow]
    rxnorm: list[CodeRow]


def load_drug_table(path: str | Path | None = None, *, sources: Iterable[str] | None = None) -> DrugTable:
    """Load and check the reviewed drug table.

    Parameters
    ----------
    path : str or Path, optional
        The YAML file; the bundled ``terminology/data/drugs.yaml`` by default.
    sources : iterable of str, optional
        The source ids a row may cite; those of ``knowledge/data/sources.yaml`` by default.

    Returns
    -------
    DrugTable

    Raises
    ------
    contraxis.errors.KnowledgeBaseError
        Listing every problem at once, each naming the file, the row and the field
        (``drugs.yaml: rxnorm[3].code: ...``): a row that does not fit the schema, a source
        that is not in ``sources.yaml``, a code or name given twice.
    """
    file = Path(path) if path is not None else DATA_FILE
    label = file.name
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KnowledgeBaseError([Problem(label, "file is missing")], source=str(file.parent)) from None
    except yaml.YAMLError as error:
        raise KnowledgeBaseError(
            [Problem(label, f"not valid YAML: {str(error).splitlines()[0]}")], source=str(file.parent)
        ) from None
    try:
        table = DrugTable.model_validate(data)
    except ValidationError as error:
        problems = []
        for e in error.errors():
            loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"]).lstrip(".")
            got = e.get("input")
            shown = repr(got) if not isinstance(got, dict) else "a row"
            problems.append(Problem(f"{label}: {loc}", f"{e['msg']} (got {shown[:80]})"))
        raise KnowledgeBaseError(problems, source=str(file.parent)) from None
    known = set(sources) if sources is not None else _source_ids()
    problems = []
    seen_names: dict[str, int] = {}
    for i, row in enumerate(table.names):
        if row.source not in known:
            problems.append(Problem(f"{label}: names[{i}].source", f"source {row.source!r} is not in sources.yaml"))
        key = _norm(row.name)
        if key in seen_names:
            problems.append(Problem(f"{label}: names[{i}].name", f"{row.name!r} is also names[{seen_names[key]}]"))
        seen_names.setdefault(key, i)
    seen_codes: dict[str, int] = {}
    for i, code in enumerate(table.rxnorm):
        if code.source not in known:
            problems.append(Problem(f"{label}: rxnorm[{i}].source", f"source {code.source!r} is not in sources.yaml"))
        if code.code in seen_codes:
            problems.append(
                Problem(f"{label}: rxnorm[{i}].code", f"{code.code!r} is also rxnorm[{seen_codes[code.code]}]")
            )
        seen_codes.setdefault(code.code, i)
    if problems:
        raise KnowledgeBaseError(problems, source=str(file.parent))
    return table


def _source_ids() -> set[str]:
    rows = yaml.safe_load(SOURCES_FILE.read_text(encoding="utf-8")) or []
    return {row["id"] for row in rows if isinstance(row, dict) and "id" in row}


def _kb_names() -> frozenset[str]:
    """Every drug name the knowledge base uses: class members and ``treats_as`` keys."""
    data = yaml.load(KB_DRUGS_FILE.read_text(encoding="utf-8"), Loader=_YAML_LOADER) or {}
    names: set[str] = set()
    for cls in data.get("classes", []):
        names.update(str(m) for m in cls.get("members", []))
    names.update(str(k) for k in (data.get("treats_as") or {}))
    return frozenset(_norm(n) for n in names)


# --------------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------------

SALT_WORDS = frozenset(
    """hydrochloride dihydrochloride monohydrochloride hcl hydrobromide hbr maleate dimaleate
    hydrogen mesylate mesilate dimesylate edisylate esylate sodium disodium potassium calcium
    magnesium decanoate enanthate enantate palmitate pamoate embonate fumarate
    hemifumarate succinate tartrate bitartrate citrate phosphate diphosphate sulfate sulphate
    bisulfate acetate diacetate besylate besilate bromide hyclate monohydrate dihydrate
    trihydrate hemihydrate sesquihydrate hydrate anhydrous lactate gluconate napsylate tosylate
    xinafoate teoclate carbonate propionate dipropionate valerate stearate trometamol
    tromethamine mononitrate nitrate hemisulfate oxalate malate mandelate orotate aspartate
    benzoate salicylate chloride iodide terephthalate medoxomil cilexetil axetil
    pivoxil mofetil proxetil etabonate""".split()
)
"""Salt and ester words set aside to find the base ingredient."""

FORM_WORDS = frozenset(
    """oral tablet tablets tab tabs capsule capsules cap caps caplet caplets injection injectable
    injections inj solution solutions soln suspension susp syrup elixir liquid linctus drops
    drop extended release released delayed sustained modified controlled prolonged immediate
    chewable disintegrating dispersible orodispersible effervescent soluble gastro-resistant
    enteric coated film-coated film transdermal system patch patches inhaler inhalation
    inhalant metered dose doses powder prefilled pre-filled syringe syringes cartridge pen
    injector auto-injector topical cream ointment gel lotion foam rectal suppository
    suppositories enema nasal spray sublingual buccal ophthalmic otic vaginal intrauterine
    implant pack kit granules sachet sachets lozenge lyophilisate lyophilisates emulsion
    infusion intravenous intramuscular subcutaneous intrathecal vial vials ampule ampoule
    ampoules bag device breezhaler concentrate conc abuse-deterrent pellet strip wafer
    mouthwash shampoo mucosal dry liposomal once-daily matrix delivery sensor
    cutaneous chewing gum medicated pad jet enteral ring irrigation epidural intradermal
    intravitreal intra-articular intraperitoneal""".split()
)
"""Dose forms, routes and release words: never a drug."""

NOISE_WORDS = FORM_WORDS | frozenset(
    """mg mcg µg ug microgram micrograms milligram milligrams gram grams g kg ml millilitre
    milliliter millilitres milliliters l mmol meq unt unit units iu % actuat hr hrs h hour hours
    day days week weeks month months min po iv im sc sq pr sl prn bid tid qid qds tds bd od
    om on nocte mane stat daily once twice thrice times each every as needed take taking taken
    of per in for by mouth or the a an to at from up sugar free sf generic brand xl xr er sr cr
    la mr ec dr odt ir xr-odt forte mite plus retard depot long-acting short-acting usp nf bp
    ph eur total pmdd dosage strength strengths tablet(s) capsule(s) only not use""".split()
)

_SPLIT_COMBINATION = re.compile(r"\s*(?:/|\+|&|,|;|\band\b|\bwith\b|\bplus\b)\s*")
_SPLIT_CANONICAL = re.compile(r"\s*(?:/|\+|&|;|\bwith\b)\s*")
_PARENTHESES = re.compile(r"\s*\([^)]*\)")
_TOKEN = re.compile(r"[^\s/+,;:()\[\]{}<>|\"*=]+")
_NUMBERISH = re.compile(r"^[\d.,%µ]+|^nda\d+$|^anda\d+$|^\d")


def _norm(text: str) -> str:
    """Case-fold, trim and collapse white space."""
    return " ".join(str(text).casefold().split()).strip(" .;:'\"")


def _q(text: str, limit: int = 80) -> str:
    """The given text, quoted and cut for a note."""
    text = " ".join(str(text).split())
    return "'" + (text if len(text) <= limit else text[: limit - 1] + "…") + "'"


def _join(items: Iterable[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# --------------------------------------------------------------------------------------------
# The index (built once, lazily: the library's dictionary takes about a second to load)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Index:
    kb: frozenset[str]
    variants: Mapping[str, tuple[str, ...]]  # library: lower-case variant -> canonical names
    brands: frozenset[str]  # library variants it marks as brands
    names: Mapping[str, NameRow]  # table: normalised name -> row
    spelling: Mapping[str, str]  # library canonical -> knowledge-base spelling
    codes: Mapping[str, CodeRow]
    by_initial: Mapping[str, tuple[str, ...]]  # one-word library variants by first letter
    common: frozenset[str]  # library canonical names of medicines (MedlinePlus, NHS, DrugBank+MeSH)


_INDEX_FORMAT = 1
"""Bump when :class:`_Index` changes shape, so that an older cached index is rebuilt."""


def _index_key() -> str:
    """The content key of the index: the library's version and the bytes of the data files."""
    import hashlib
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256(f"format {_INDEX_FORMAT}\n".encode())
    try:
        digest.update(version("drug-named-entity-recognition").encode())
    except PackageNotFoundError:  # pragma: no cover - the library is a dependency
        digest.update(b"unknown")
    for path in (DATA_FILE, KB_DRUGS_FILE, SOURCES_FILE):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


@lru_cache(maxsize=1)
def _index() -> _Index:
    """The index, from the disk cache when its key matches (a few tens of milliseconds),
    else built from the library and the table (about two seconds) and cached.

    The cache is ``<cache>/terminology/drug-index-<key>.pickle`` (``<cache>`` as in
    :func:`contraxis.codes.default_cache_dir`); the key covers the library's version and the
    bytes of the table, the knowledge base's drug classes and its sources, so a change to
    any of them rebuilds (and re-validates) it. An unreadable cache is rebuilt.
    """
    import pickle

    from ..codes import default_cache_dir
    from ..codes.cache import read_keyed, write_keyed

    key = _index_key()
    path = default_cache_dir() / "terminology" / f"drug-index-{key}.pickle"
    payload = read_keyed(path, key)
    if payload is not None:
        try:
            fields = pickle.loads(payload)  # noqa: S301 - our own cache, keyed by content and digest-checked
            return _Index(**{name: _frozen(value) for name, value in fields.items()})
        except (pickle.UnpicklingError, EOFError, AttributeError, TypeError, KeyError, ValueError):
            pass
    ix = _build_index()
    fields = {name: (dict(value) if isinstance(value, MappingProxyType) else value)
              for name, value in ((f, getattr(ix, f)) for f in _Index.__slots__)}
    write_keyed(path, key, pickle.dumps(fields, protocol=pickle.HIGHEST_PROTOCOL), keep=2)
    return ix


def _frozen(value: Any) -> Any:
    """A value of the stored index, its dicts read-only (what a pickle holds is untyped: a
    wrong shape fails when the index is built and the index is rebuilt)."""
    return MappingProxyType(value) if isinstance(value, dict) else value


def _build_index() -> _Index:
    from drug_named_entity_recognition import drugs_finder  # noqa: PLC0415 - heavy, load on use

    table = load_drug_table()
    kb = _kb_names()
    variants: dict[str, tuple[str, ...]] = {
        str(k): tuple(str(c) for c in v) for k, v in drugs_finder.drug_variant_to_canonical.items() if v
    }
    brands = frozenset(
        str(k)
        for k, v in drugs_finder.drug_variant_to_variant_data.items()
        if isinstance(v, dict) and v.get("is_brand")
    )
    spelling: dict[str, str] = {}
    for name in sorted(kb):
        for canonical in variants.get(name, ()):
            c = _norm(canonical)
            if c != name and c not in kb:
                spelling.setdefault(c, name)
    by_initial: dict[str, list[str]] = {}
    for variant in variants:
        if variant.isalpha() and len(variant) >= MISSPELLING_MIN - 1:
            by_initial.setdefault(variant[0], []).append(variant)
    common = frozenset(
        _norm(k)
        for k, v in drugs_finder.drug_canonical_to_data.items()
        if isinstance(v, dict)
        and (v.get("medline_plus_id") or v.get("nhs_url") or (v.get("drugbank_id") and v.get("mesh_id")))
    )
    return _Index(
        kb=kb,
        common=common,
        variants=MappingProxyType(variants),
        brands=brands,
        names=MappingProxyType({_norm(r.name): r for r in table.names}),
        spelling=MappingProxyType(spelling),
        codes=MappingProxyType({r.code: r for r in table.rxnorm}),
        by_initial=MappingProxyType({k: tuple(v) for k, v in by_initial.items()}),
    )


def _strip_words(text: str, words: frozenset[str]) -> str:
    return " ".join(w for w in text.split() if w not in words)


def _ingredients_of(canonical: str, ix: _Index, depth: int = 0) -> tuple[str, ...]:
    """The ingredients of a library canonical name or a table name, in the knowledge base's
    spelling: combination names split, salts and dose-form words set aside."""
    c = _norm(canonical)
    if c in ix.kb:
        return (c,)
    row = ix.names.get(c)
    if row is not None:
        return tuple(sorted(row.ingredients))
    if c in ix.spelling:
        return (ix.spelling[c],)
    if depth > 3:
        return (c,)
    bare = _strip_words(_PARENTHESES.sub("", c).strip(), FORM_WORDS) or c
    splitter = _SPLIT_COMBINATION if " and " in bare else _SPLIT_CANONICAL
    parts = [p for p in splitter.split(bare) if p]
    if len(parts) > 1:
        out: set[str] = set()
        for part in parts:
            out.update(_ingredients_of(part, ix, depth + 1))
        return tuple(sorted(out))
    base = _strip_words(bare, SALT_WORDS)
    if base and base != bare and (base in ix.kb or base in ix.names or base in ix.variants):
        return _of_name(base, ix, depth + 1)
    if bare != c:
        return _ingredients_of(bare, ix, depth + 1)
    return (c,)


def _of_name(name: str, ix: _Index, depth: int = 0) -> tuple[str, ...]:
    """Ingredients of a name known exactly (knowledge base, table or library); () if unknown."""
    if name in ix.kb:
        return (name,)
    if name in ix.names:
        return tuple(sorted(ix.names[name].ingredients))
    canonicals = ix.variants.get(name)
    if canonicals:
        out: set[str] = set()
        for canonical in canonicals:
            out.update(_ingredients_of(canonical, ix, depth))
        return tuple(sorted(out))
    return ()


def _is_generic(name: str, ix: _Index) -> bool:
    return name in ix.kb or (_of_name(name, ix) == (name,) and name not in ix.names)


# --------------------------------------------------------------------------------------------
# Reading a name
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Read:
    ingredients: tuple[str, ...]
    how: How
    note: str


def _generic(norm: str, given: str, ix: _Index) -> _Read | None:
    """The name is exactly one ingredient name."""
    return _Read((norm,), "generic", "") if _is_generic(norm, ix) else None


def _exact(norm: str, given: str, ix: _Index) -> _Read | None:
    """A name known as a whole: generic, table name or library synonym."""
    if _is_generic(norm, ix):
        return _Read((norm,), "generic", "")
    ingredients = _of_name(norm, ix)
    if not ingredients:
        return None
    shown = _join(ingredients)
    row = ix.names.get(norm)
    if len(ingredients) > 1:
        return _Read(ingredients, "combination", f"combination product {_q(given)} read as its ingredients {shown}")
    if (row is not None and row.kind == "brand") or norm in ix.brands:
        return _Read(ingredients, "brand", f"brand name {_q(given)} read as {shown}")
    if row is not None and row.kind == "other-name":
        return _Read(
            ingredients, "brand", f"other name {_q(given)} read as {shown}, its international non-proprietary name"
        )
    if row is None and difflib.SequenceMatcher(None, norm, ingredients[0]).ratio() >= SPELLING_VARIANT:
        return _Read(ingredients, "misspelling", f"{_q(given)} read as {shown} (another spelling of the name)")
    return _Read(ingredients, "brand", f"brand or other name {_q(given)} read as {shown}")


def _salt(norm: str, given: str, ix: _Index) -> _Read | None:
    words = norm.split()
    if not any(w in SALT_WORDS for w in words):
        return None
    base = " ".join(w for w in words if w not in SALT_WORDS)
    if not base:
        return None
    found = _exact(base, base, ix) or _combination(base, base, ix)
    if found is None:
        return None
    shown = _join(found.ingredients)
    if len(found.ingredients) > 1:
        return _Read(
            found.ingredients, "combination", f"combination product {_q(given)} read as its ingredients {shown}"
        )
    return _Read(found.ingredients, "salt", f"salt or ester form {_q(given)} read as its base {shown}")


def _combination(norm: str, given: str, ix: _Index) -> _Read | None:
    parts = [p for p in _SPLIT_COMBINATION.split(norm) if p]
    if len(parts) < 2 and "-" in norm and " " not in norm:
        parts = [p for p in norm.split("-") if p]
    if len(parts) < 2:
        return None
    out: set[str] = set()
    for part in parts:
        part = _strip_words(part, SALT_WORDS) or part
        found = _of_name(part, ix)
        if not found:
            return None
        out.update(found)
    ingredients = tuple(sorted(out))
    return _Read(
        ingredients, "combination", f"combination product {_q(given)} read as its ingredients {_join(ingredients)}"
    )


def _nearest(word: str, ix: _Index) -> str | None:
    """The one knowledge-base name a misspelt word stands for, or None.

    Only for words of 6 or more letters that are no drug the library knows; the best match
    must reach the cutoff, be the only one that does so well, and no other drug of the
    library may be as close (so that a real but unknown drug is never renamed)."""
    if len(word) < MISSPELLING_MIN or not word.replace("-", "").isalpha() or word in ix.variants:
        return None
    scored = []
    for name in ix.kb:
        if abs(len(name) - len(word)) > 3:
            continue
        matcher = difflib.SequenceMatcher(None, word, name)
        if matcher.real_quick_ratio() < MISSPELLING_CUTOFF or matcher.quick_ratio() < MISSPELLING_CUTOFF:
            continue
        ratio = matcher.ratio()
        if ratio >= MISSPELLING_CUTOFF:
            scored.append((ratio, name))
    if not scored:
        return None
    scored.sort(reverse=True)
    best_ratio, best = scored[0]
    if len(scored) > 1 and best_ratio - scored[1][0] < 0.05 and _of_name(scored[1][1], ix) != _of_name(best, ix):
        return None
    target = _of_name(best, ix)
    for variant in ix.by_initial.get(word[0], ()):
        if abs(len(variant) - len(word)) > 2:
            continue
        matcher = difflib.SequenceMatcher(None, word, variant)
        if matcher.real_quick_ratio() < best_ratio or matcher.quick_ratio() < best_ratio:
            continue
        if matcher.ratio() >= best_ratio and _of_name(variant, ix) != target:
            return None
    return best


def _misspelling(norm: str, given: str, ix: _Index) -> _Read | None:
    best = _nearest(norm, ix)
    if best is None:
        return None
    ingredients = _of_name(best, ix)
    return _Read(
        ingredients,
        "misspelling",
        f"{_q(given)} read as {_join(ingredients)}, the nearest name Contraxis knows (spelling corrected)",
    )


def _display(norm: str, given: str, ix: _Index) -> _Read | None:
    """A description such as an RxNorm display: strengths, units and dose forms set aside,
    each drug named in it read (library first, then the table, then one spelling fix)."""
    tokens = [t.strip(".'\"-") for t in _TOKEN.findall(norm)]
    tokens = [t for t in tokens if t]
    content = [t for t in tokens if t not in NOISE_WORDS and not _NUMBERISH.match(t)]
    if not content or len(content) == len(tokens) == 1:
        return None
    found: set[str] = set()
    used = [False] * len(content)
    # n-grams of the knowledge base, the table and the library, longest first
    for size in (3, 2, 1):
        for i in range(len(content) - size + 1):
            if any(used[i : i + size]):
                continue
            phrase = " ".join(content[i : i + size])
            if size == 1 and (phrase in SALT_WORDS or len(phrase) < 4):
                continue
            ingredients = _of_name(phrase, ix)
            if ingredients:
                found.update(ingredients)
                for j in range(i, i + size):
                    used[j] = True
    corrected = []
    for i, token in enumerate(content):
        if used[i] or token in SALT_WORDS:
            continue
        best = _nearest(token, ix)
        if best is not None:
            found.update(_of_name(best, ix))
            corrected.append(f"'{token}' as {best}")
            used[i] = True
    if not found:
        return None
    unread = [t for i, t in enumerate(content) if not used[i] and t not in SALT_WORDS and any(ch.isalpha() for ch in t)]
    ingredients = tuple(sorted(found))
    note = f"drug description {_q(given)} read as {_join(ingredients)}"
    if corrected:
        note += f" (spelling corrected: {', '.join(corrected)})"
    if unread:
        note += f"; not read: {', '.join(_q(u, 30) for u in unread[:5])}"
    return _Read(ingredients, "misspelling" if corrected else "display", note)


def _read_name(name: str) -> _Read:
    ix = _index()
    given = name.strip()
    norm = _norm(given)
    if not norm:
        return _Read((), "unresolved", "an empty drug name is not a drug: not counted as a cause")
    for step in (_generic, _salt, _exact, _combination, _display, _misspelling):
        found = step(norm, given, ix)
        if found is not None:
            return found
    return _Read((), "unresolved", f"{_q(given)} is not a drug name or code Contraxis knows: not counted as a cause")


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def resolve_drug(name: str | None = None, *, rxnorm: str | None = None) -> DrugReading:
    """Read a drug name and/or RxNorm code as the ingredients the knowledge base uses.

    Parameters
    ----------
    name : str, optional
        A generic or brand name, a salt, a combination product or a display string, as
        given. May be None when only ``rxnorm`` is given. Names over 200 characters are cut
        to 200 before matching (the note says so).
    rxnorm : str, optional
        An RxNorm code (ingredient, clinical drug or branded drug). A code of the reviewed
        table wins over the name; an unknown code falls back to the name (the note says the
        code was not known).

    Returns
    -------
    DrugReading
        Pure and cached: the same input always gives the same (frozen) reading.

    Raises
    ------
    ValueError
        Only when both ``name`` and ``rxnorm`` are None or empty.

    Notes
    -----
    Sources: the drug-named-entity-recognition library's dictionary and the reviewed table
    ``terminology/data/drugs.yaml`` (each row cites a source of ``sources.yaml``).

    Examples
    --------
    >>> resolve_drug("Reglan").ingredients
    ('metoclopramide',)
    >>> resolve_drug(rxnorm="311666").how
    'rxnorm'
    """
    name_text = None if name is None else str(name)
    code_text = None if rxnorm is None else str(rxnorm).strip()
    if not (name_text and name_text.strip()) and not code_text:
        raise ValueError("a drug needs a name or an RxNorm code; both are empty")
    return _resolve(name_text if name_text and name_text.strip() else None, code_text or None)


@lru_cache(maxsize=4096)
def _resolve(name: str | None, code: str | None) -> DrugReading:
    cut = ""
    if name is not None and len(name) > MAX_NAME:
        name = name[:MAX_NAME]
        cut = f" (only its first {MAX_NAME} characters were read)"
    by_name = _read_name(name) if name is not None else None
    given = name.strip() if name is not None else f"RxNorm {code}"
    if code is not None:
        ix = _index()
        row = ix.codes.get(code)
        if row is not None:
            ingredients = tuple(sorted(row.ingredients))
            note = f"RxNorm {code} ({row.display}) read as {_join(ingredients)}"
            if by_name is not None and by_name.ingredients and by_name.ingredients != ingredients:
                note += f"; the name {_q(given)} (read as {_join(by_name.ingredients)}) was set aside for the code"
            elif by_name is not None and not by_name.ingredients:
                note += f"; the name {_q(given)} was not recognised"
            return DrugReading(given, ingredients, "rxnorm", note + cut)
        valid = re.fullmatch(r"[1-9][0-9]{0,9}", code) is not None
        unknown = (
            f"RxNorm code '{code[:20]}' is not one Contraxis knows"
            if valid
            else f"'{code[:20]}' is not an RxNorm code (RxNorm codes are digits)"
        )
        if by_name is None:
            return DrugReading(given, (), "unresolved", f"{unknown}: not counted as a cause")
        if not by_name.ingredients:
            return DrugReading(
                given,
                (),
                "unresolved",
                f"{unknown}, and {_q(given)} is not a drug name Contraxis knows: not counted as a cause" + cut,
            )
        said = by_name.note or f"{_q(given)} read as {_join(by_name.ingredients)}"
        how: How = "display" if by_name.how == "generic" else by_name.how
        return DrugReading(given, by_name.ingredients, how, f"{unknown}; the name was read instead: {said}" + cut)
    assert by_name is not None
    if cut:
        how = "display" if by_name.how == "generic" else by_name.how
        note = (by_name.note or f"{_q(given)} read as {_join(by_name.ingredients)}") + cut
        return DrugReading(given, by_name.ingredients, how, note)
    return DrugReading(given, by_name.ingredients, by_name.how, by_name.note)


def known_rxnorm() -> Mapping[str, tuple[str, ...]]:
    """Every RxNorm code of the reviewed table with its ingredients (read-only).

    Returns
    -------
    Mapping of str to tuple of str
        ``{"311666": ("metoclopramide",), ...}``, for FHIR and CDS Hooks readers that want
        to know whether a code can be read before they read it.
    """
    return _known_rxnorm()


@lru_cache(maxsize=1)
def _known_rxnorm() -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({code: tuple(sorted(row.ingredients)) for code, row in _index().codes.items()})


def suggest_drugs(prefix: str, *, limit: int = 10) -> list[dict[str, str]]:
    """Drug names starting with ``prefix``, for the web form's drug entry.

    Parameters
    ----------
    prefix : str
        What was typed so far; matched case-insensitively at the start of a name. Only its
        first 60 characters are used; an empty prefix gives ``[]``.
    limit : int
        At most this many suggestions (1 to 50).

    Returns
    -------
    list of dict
        ``[{"name": "metoclopramide", "ingredient": "metoclopramide"},
        {"name": "Reglan", "ingredient": "metoclopramide"}, ...]``: generic names first
        (those the knowledge base uses, then other medicines), then brand and other names,
        each group in alphabetical order; a combination product's ingredients are joined
        with " + ". The work is a binary search and at most ``limit`` steps per group.
    """
    key = _norm(str(prefix))[:60]
    limit = max(1, min(int(limit), MAX_SUGGESTIONS))
    if not key:
        return []
    out: list[dict[str, str]] = []
    for keys, rows in _suggestion_lists():
        start = bisect.bisect_left(keys, key)
        for i in range(start, min(start + limit, len(keys))):
            if not keys[i].startswith(key) or len(out) >= limit:
                break
            out.append({"name": rows[i][0], "ingredient": rows[i][1]})
    return out


_Lists = tuple[list[str], list[tuple[str, str]]]


@lru_cache(maxsize=1)
def _suggestion_lists() -> tuple[_Lists, _Lists, _Lists]:
    """Three sorted lists (keys, rows): generic names the knowledge base uses, other generic
    names of medicines, and brand or other names with their ingredients."""
    ix = _index()
    known: dict[str, str] = {name: " + ".join(_of_name(name, ix)) for name in ix.kb}
    generic: dict[str, str] = {}
    brand: dict[str, tuple[str, str]] = {}
    for row in ix.names.values():
        if row.kind != "other-name":
            brand[_norm(row.name)] = (row.name, " + ".join(sorted(row.ingredients)))
    for variant, canonicals in ix.variants.items():
        if not _SUGGESTIBLE.match(variant) or variant in known or variant in brand or variant in generic:
            continue
        if not any(_norm(c) in ix.common for c in canonicals):
            continue
        ingredients = _of_name(variant, ix)
        if not ingredients:
            continue
        if ingredients == (variant,):
            generic[variant] = variant
        elif not any(variant[:4] == i[:4] for i in ingredients):  # not a spelling of the generic
            brand[variant] = (variant[:1].upper() + variant[1:], " + ".join(ingredients))

    def lists(rows: Mapping[str, tuple[str, str]]) -> _Lists:
        keys = sorted(rows)
        return keys, [rows[k] for k in keys]

    return (
        lists({k: (k, v) for k, v in known.items()}),
        lists({k: (k, v) for k, v in generic.items()}),
        lists(brand),
    )


_SUGGESTIBLE = re.compile(r"^[a-z][a-z\-]{2,24}( [a-z][a-z\-]{1,20})?$")
