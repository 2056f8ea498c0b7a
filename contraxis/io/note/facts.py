"""The other facts: drugs with their start, treatments tried, results, vital signs, imaging, genes.

Part of :mod:`contraxis.io.note.reader`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .document import Compiled, Doc, Key, Mention, dedupe, keys_of, section_at
from .model import Evidence, Unused
from .timing import Found, durations, number

if TYPE_CHECKING:  # pragma: no cover
    from .builder import Builder


def drug_mentions(d: Doc, comp: Compiled) -> list[Mention]:
    """Drug names (one to four words) the drug resolver reads as a drug."""
    from ...terminology.drugs import resolve_drug

    names = d.index.drug_names
    out: list[Mention] = []
    i = 0
    while i < d.n:
        if not d.alpha[i]:
            i += 1
            continue
        hit = None
        for length in range(min(4, d.n - i), 0, -1):
            j = i + length
            if not d.alpha[j - 1]:
                continue
            text = d.text[d.idx[i]:d.ends[j - 1]].casefold()
            if text in names and text not in comp.not_drugs:
                hit = (j, text)
                break
        if hit is None:
            i += 1
            continue
        j, text = hit
        reading = resolve_drug(d.text[d.idx[i]:d.ends[j - 1]])
        if reading.how in ("generic", "brand", "salt", "combination") and reading.ingredients and not (
            set(reading.ingredients) & comp.not_drugs
        ):
            how = {"generic": "drug name", "brand": "brand name", "salt": "salt name", "combination": "combination"}
            out.append(Mention("drug", i, j, reading, f"{how[reading.how]} '{d.words(i, j)}'",
                                tokens=tuple(range(i, j))))
        i = j
    return out


def treatment_mentions(d: Doc, comp: Compiled) -> list[Mention]:
    out = []
    for seg in range(len(d.segments)):
        stream = d.stream[seg]
        for key, treatment in comp.treatment_words.items():
            for a, b in d.occurrences(seg, key):
                out.append(Mention("treatment", stream[a], stream[b] + 1, treatment,
                                    f"treatment words '{d.words(stream[a], stream[b] + 1)}'",
                                    tokens=tuple(range(stream[a], stream[b] + 1))))
    return dedupe(out)


def _responses(d: Doc, comp: Compiled, seg: int) -> list[tuple[int, int, str, str]]:
    """Response words in a segment, longest first and not overlapping: (start, end, level, words)."""
    stream = d.stream[seg]
    found: list[tuple[int, int, str, str]] = []
    taken: set[int] = set()
    for key, level in comp.responses:
        for a, b in d.occurrences(seg, key):
            span = set(range(stream[a], stream[b] + 1))
            if span & taken:
                continue
            taken |= span
            found.append((stream[a], stream[b] + 1, level, d.words(stream[a], stream[b] + 1)))
    return sorted(found)


def _response_for(d: Doc, comp: Compiled, m: Mention) -> tuple[str, str] | None:
    seg = d.segment_of[m.start]
    found = _responses(d, comp, seg)
    after = [r for r in found if r[0] >= m.end]
    before = [r for r in found if r[1] <= m.start]
    if after:
        return after[0][2], after[0][3]
    if before:
        return before[-1][2], before[-1][3]
    return None


_DRUG_TIME = 60
"""How far (characters) around a drug's name its start is looked for."""


def _owner(d: Doc, t: Found, drugs: Sequence[Mention]) -> Mention | None:
    """The drug a time belongs to: for a length of time ("X for six years") the nearest drug
    named before it; for a time before now ("added X four days ago", "four days ago X was
    added") the nearest either side, the one before it on a tie."""
    seg_start, seg_end = d.chars(*d.segments[d.segment_of_char(t.start)])
    best: tuple[int, int, Mention] | None = None
    for m in drugs:
        a, b = d.chars(m.start, m.end)
        if not seg_start <= a < seg_end or (t.kind == "duration" and a > t.start):
            continue
        distance = t.start - b if t.start >= b else a - t.end
        key = (abs(distance), 0 if t.start >= b else 1)
        if best is None or key < best[:2]:
            best = (*key, m)
    return best[2] if best else None


def _drug_days(d: Doc, m: Mention, timings: Sequence[Found], facts_words: Any) -> dict[str, Any]:
    """Days since the start (and the dose increase) of a drug, from the words of its sentence."""
    seg = d.segment_of[m.start]
    s_start, s_end = d.chars(*d.segments[seg])
    a, b = d.chars(m.start, m.end)
    sentence = d.text[s_start:s_end].casefold()
    out: dict[str, Any] = {}
    near = [t for t in timings if s_start <= t.start < s_end]
    raise_words = ("raised", "increased", "doubled", "double dose", "double doses", "higher dose")
    start_words = ("started", "start", "taken", "taking", "given", "added", "began", "commenced", "put on")
    for t in near:
        before = d.text[max(s_start, t.start - 35):t.start].casefold()
        after = d.text[t.end:min(s_end, t.end + 35)].casefold()
        raised_before = any(w in before for w in raise_words) and re.search(r"\bdose|\d\s*(?:mg|mcg|g)\b", before)
        raised_after = (any(w in after for w in raise_words) and "dose" in after
                        and not any(w in before for w in start_words))
        if raised_before or raised_after:
            if t.kind in ("ago",) or "for" in d.text[t.start:t.end].casefold():
                out.setdefault("days_since_dose_increase", int(round(t.value)))
            continue
        if t.kind in ("ago", "duration", "later"):
            if t.kind == "later":
                continue
            if abs(t.start - b) > _DRUG_TIME and abs(t.end - a) > _DRUG_TIME:
                continue
            # a duration counts when the drug is taken for it; "ago" when it was started then
            in_list = section_at(d.sections, s_start) == "medications" or bool(  # "sertraline 100 mg (for 5 years)"
                re.match(r"^[^.;]{0,40}\(\s*(?:for|since)\b", d.text[b:t.end]))
            taking = re.search(r"\b(?:taken|taking|takes|been on|on)\b", sentence)
            if t.kind == "duration" and not in_list and not taking:
                continue
            out.setdefault("days_since_start", int(round(t.value)))
    given = re.search(r"\b(?:given|gave|administered|injected)\b", sentence)
    today = re.search(r"\b(?:this morning|today|emergency department|\bed\b|hours? later|tonight)\b", sentence)
    if "days_since_start" not in out and given and today:
        out["days_since_start"] = 0
    return out


_VALUE = re.compile(r"(?<![\w.])(?P<cmp>[<>]=?\s*)?(?P<n>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?P<sp>\s*)"
                    r"(?P<u>[a-zA-Zµμ%][a-zA-Zµμ%0-9()./ ]{0,14})?")


def _unit_of(raw: str | None) -> tuple[str | None, str]:
    """The longest start of ``raw`` that is a unit: (UCUM code, the unit as written)."""
    from ...terminology.units import normalise_unit

    if not raw:
        return None, ""
    text = raw.rstrip()
    for cut in range(len(text), 0, -1):
        candidate = text[:cut].rstrip(" .,;")
        if not candidate or (cut < len(text) and text[cut].isalnum() and candidate[-1].isalnum()):
            continue
        if candidate[-1] in "/(":
            continue
        code = normalise_unit(candidate)
        if code is not None:
            return code, candidate
    return None, ""


def _loinc_for(analyte: str, ucum: str | None) -> str:
    """The analyte's LOINC code whose property fits the unit (serum or plasma first)."""
    from ...terminology.labs import analytes
    from ...terminology.units import unit_info

    info = analytes()[analyte]
    unit = unit_info(ucum) if ucum else None
    want = {"MCnc": "[Mass/volume]", "SCnc": "[Moles/volume]", "MRat": "[Mass/time]", "SRat": "[Moles/time]",
            "CCnc": "[Enzymatic activity/volume]", "ACnc": "[Enzymatic activity/volume]"}.get(
        unit.property if unit else "", "")
    codes = list(info.loinc_codes)
    ranked = sorted(codes, key=lambda c: (bool(want) and want not in info.loinc_names.get(c, ""),
                                          "Blood" in info.loinc_names.get(c, ""), codes.index(c)))
    return ranked[0]


def _labs(d: Doc, comp: Compiled, files: Any) -> list[dict[str, Any]]:
    """Laboratory results: a test's name, then its value and unit, in the same sentence part;
    a test named with "normal" and no value is read as normal."""
    out: list[dict[str, Any]] = []
    bare = files.facts.labs.bare_units
    for s, e in d.segments:
        a, b = d.chars(s, e)
        sentence = d.text[a:b]
        low = sentence.casefold()
        names: list[tuple[int, int, str]] = []
        for name, analyte in comp.lab_names:
            for m in re.finditer(rf"(?<![\w-]){re.escape(name)}(?![\w])", low):
                if any(x <= m.start() < y or m.start() <= x < m.end() for x, y, _ in names):
                    continue
                names.append((m.start(), m.end(), analyte))
        if not names:
            continue
        names.sort()
        used: set[int] = set()
        for m in _VALUE.finditer(sentence):
            before = [i for i, (_x, y, _a) in enumerate(names) if y <= m.start() and i not in used]
            if not before:
                continue
            i = before[-1]
            x, y, analyte = names[i]
            gap = sentence[y:m.start()]
            if len(gap) > 40 or re.search(r"\d", gap):
                continue
            ucum, written = _unit_of(m.group("u"))
            if analyte in bare:
                word = (m.group("u") or "").split(" ")[0].rstrip(".,;")
                if word.casefold() in bare[analyte] and (ucum is None or written.casefold() == word.casefold()):
                    ucum, written = bare[analyte][word.casefold()], word
            if ucum is None:
                continue
            value = number(m.group("n"), {})
            if value is None:
                continue
            used.add(i)
            end = m.start("u") + len(written)
            row: dict[str, Any] = {"loinc": _loinc_for(analyte, ucum), "name": sentence[x:y].strip(),
                                   "value": value, "unit": ucum if analyte in bare and ucum in bare[analyte].values()
                                   else written}
            comparator = (m.group("cmp") or "").strip()
            if comparator:
                row["comparator"] = comparator
            out.append({"row": row, "analyte": analyte, "span": (a + x, a + end)})
        for i, (x, y, analyte) in enumerate(names):
            if i in used or any(r["analyte"] == analyte for r in out):
                continue
            tail = low[y:]
            stop = re.search(r"[.;]", tail)
            window = tail[: stop.start() if stop else len(tail)]
            found = re.match(r"^[\s,a-z]{0,60}?\b(?:normal|within normal limits|unremarkable)\b", window)
            if found and not re.search(r"\d", window[: found.end()]):
                row = {"loinc": _loinc_for(analyte, None), "name": sentence[x:y].strip(), "interpretation": "normal"}
                out.append({"row": row, "analyte": analyte, "span": (a + x, a + y + found.end())})
    return out


def _vitals(d: Doc, files: Any) -> list[tuple[str, bool, tuple[int, int], str]]:
    """Fever and tachycardia from a temperature or a pulse: (code, present, span, how)."""
    vitals = files.facts.vitals
    out = []
    temp = re.compile(r"\b(?:temperature|temp|febrile at|fever of|pyrexial at|t)\s*(?:of|is|was|at|:|=)?\s*"
                      r"(?P<n>\d{2,3}(?:\.\d)?)\s*(?:°\s*)?(?P<u>c|f|degrees)?\b", re.IGNORECASE)
    for m in temp.finditer(d.text):
        value = float(m.group("n"))
        unit = (m.group("u") or "").casefold()
        if unit == "f" or value > 50:
            value = (value - 32) * 5 / 9
        if not 30 <= value <= 44:
            continue
        present = value >= vitals.fever
        if present or value < vitals.afebrile:
            out.append(("HP:0001945", present, m.span(), f"temperature {m.group('n')}"))
    pulse = re.compile(r"\b(?:pulse|heart rate|hr|pulse rate)\s*(?:of|is|was|at|:|=)?\s*(?P<n>\d{2,3})\b",
                       re.IGNORECASE)
    for m in pulse.finditer(d.text):
        value = float(m.group("n"))
        if value > vitals.tachycardia:
            out.append(("HP:0001649", True, m.span(), f"pulse {m.group('n')}"))
    return out


def imaging_clauses(d: Doc, imaging: list[Mention]) -> list[tuple[int, int, Mention]]:
    """The clause of each imaging word: back to the previous comma or "and", on to the end of
    its sentence part."""
    out = []
    for m in imaging:
        seg = d.segment_of[m.start]
        s, e = d.segments[seg]
        lo = m.start
        while lo > s and d.lower[lo - 1] not in (",", "and", ";", "but"):
            lo -= 1
        out.append((lo, e, m))
    return out


def in_clause(m: Mention, clauses: Sequence[tuple[int, int, Mention]]) -> tuple[int, int, Mention] | None:
    for lo, hi, w in clauses:
        if lo <= m.start < hi:
            return lo, hi, w
    return None


MED_WORDS = ("medication", "medications", "medicine", "medicines", "drug", "drugs", "tablets", "treatment")


def gene_tests(b: Builder, mentions_ctx: Sequence[Mention]) -> None:
    d, comp, files = b.d, b.comp, b.d.index.files
    gen = files.facts.genetics
    not_genes = {g.upper() for g in gen.not_genes}
    tested: dict[str, Evidence] = {}
    positive: dict[str, Evidence] = {}
    lex = d.index.lexicon
    pos_keys, neg_keys = keys_of(gen.positive, lex), keys_of(gen.negative, lex)
    for i, token in enumerate(d.doc):
        sym = token.text
        if sym not in comp.genes or sym.upper() != sym or sym in not_genes or len(sym) < 3:
            continue
        seg = d.segment_of[i]
        a, z = d.chars(i, i + 1)
        pos = [o for k in pos_keys for o in d.occurrences(seg, k)]
        neg = [o for k in neg_keys for o in d.occurrences(seg, k)]
        uncertain = any(m.uncertain and m.start <= i < m.end for m in mentions_ctx)
        if uncertain:
            b.unused.append(Unused(a, z, sym, f"gene {sym}", "uncertain: a test to do, not a result"))
            continue
        if neg and (not pos or any(d.keys[d.stream[seg][p[0]]] in ("negat", "normal") for p in neg)):
            tested.setdefault(sym, b.ev_chars(a, z, "gene test, negative"))
            continue
        if pos:
            tested.setdefault(sym, b.ev_chars(a, z, "gene test, positive"))
            positive.setdefault(sym, b.ev_chars(a, z, "gene test, positive"))
        else:
            b.unused.append(Unused(a, z, sym, f"gene {sym}", "no result stated"))
    if tested:
        b.fields["genetics"] = {"tested": list(tested), "positive": list(positive)}
        b.evidence["genetics"] = [*tested.values()]


def medications_of(b: Builder, drugs: list[Mention], medwords: list[Mention], treatments: list[Mention]) -> None:
    d, comp = b.d, b.comp
    timings = durations(d.text, comp.numbers)
    meds: dict[tuple[str, ...], dict[str, Any]] = {}
    med_ev: dict[tuple[str, ...], list[Evidence]] = {}
    tried: dict[str, tuple[str, Evidence]] = {}
    for m in drugs:
        reading = m.value
        what = f"drug {' and '.join(reading.ingredients)}"
        reason = b.why_not(m)
        if reason or m.negated:
            b.skip(m, what, reason or f"negated ('{m.negated}'): not taken")
            continue
        response = _response_for(d, comp, m)
        treatment = next((comp.treats_as[i] for i in reading.ingredients if i in comp.treats_as), None)
        how = m.how if reading.how == "generic" else f"{m.how} read as {' and '.join(reading.ingredients)}"
        if treatment and response:
            tried.setdefault(treatment, (response[0], b.ev(m, f"{how}, response '{response[1]}'")))
            if response[0] == "none":
                b.skip(m, what, f"tried without benefit ('{response[1]}'): a treatment tried, not taken now")
                continue
        key = reading.ingredients
        row = meds.setdefault(key, {"name": reading.ingredients[0] if len(reading.ingredients) == 1 else reading.given})
        mine = [t for t in timings if _owner(d, t, drugs) is m]
        for name, value in _drug_days(d, m, mine, None).items():
            row.setdefault(name, value)
        med_ev.setdefault(key, []).append(b.ev(m, how))
    for m in treatments:
        reason = b.why_not(m)
        if reason or m.negated:
            b.skip(m, f"treatment {m.value}", reason or f"negated ('{m.negated}')")
            continue
        response = _response_for(d, comp, m)
        if response is None:
            b.skip(m, f"treatment {m.value}", "no response stated: not counted as tried")
            continue
        tried.setdefault(m.value, (response[0], b.ev(m, f"{m.how}, response '{response[1]}'")))
    if meds:
        b.fields["medications"] = list(meds.values())
        b.evidence["medications"] = [e for k in meds for e in med_ev[k][:1]]
        b.med_evidence = [med_ev[k] for k in meds]  # type: ignore[attr-defined]
    else:
        for m in medwords:
            if m.negated and not m.family and not m.uncertain and d.lower[m.start] != "treatment":
                b.set("medications", [], b.ev(m, f"no drug taken ('{m.negated}')", cue=m.negated))
                break
    if tried:
        ordered = sorted(tried.items(), key=lambda item: item[1][1].start)  # in the note's order
        b.fields["treatment_history"] = [{"treatment": t, "response": r} for t, (r, _e) in ordered]
        b.evidence["treatment_history"] = [e for _t, (_r, e) in ordered]


def imaging_fact(b: Builder, imaging: list[Mention], clauses: Sequence[tuple[int, int, Mention]]) -> None:
    d, files = b.d, b.d.index.files
    lex = d.index.lexicon
    normal = keys_of(files.facts.imaging.normal, lex)
    abnormal = keys_of(files.facts.imaging.abnormal, lex)
    if b.imaging_findings:
        codes = list(b.imaging_findings)
        b.fields["imaging"] = {"mri_brain": "abnormal", "findings": codes}
        b.evidence["imaging"] = [e for c in codes for e in b.imaging_findings[c][:1]]
        return
    for lo, hi, m in clauses:
        if b.why_not(m):
            continue
        seg = d.segment_of[m.start]
        if m.negated:
            b.set("imaging", {"mri_brain": "not_done"}, b.ev(m, "brain imaging not done", cue=m.negated))
            continue
        stream = d.stream[seg]
        inside = [p for p, t in enumerate(stream) if lo <= t < hi]
        if not inside:
            continue
        keys_in = [d.keys[stream[p]] for p in inside]

        def has(phrases: Sequence[Key], keys_in: list[str] = keys_in) -> bool:
            return any(tuple(keys_in[i:i + len(k)]) == k for k in phrases for i in range(len(keys_in)))

        if has(normal):
            b.set("imaging", {"mri_brain": "normal"}, b.ev_chars(d.chars(lo, hi)[0], d.chars(lo, hi)[1],
                                                                  "brain imaging normal"))
        elif has(abnormal):
            b.set("imaging", {"mri_brain": "abnormal"}, b.ev_chars(d.chars(lo, hi)[0], d.chars(lo, hi)[1],
                                                                    "brain imaging abnormal"))


def labs_and_vitals(b: Builder) -> None:
    d = b.d
    rows = []
    evidence = []
    for found in _labs(d, b.comp, d.index.files):
        a, z = found["span"]
        rows.append(found["row"])
        evidence.append(b.ev_chars(a, z, f"laboratory result ({found['analyte']})"))
    if rows:
        b.fields["labs"] = rows
        b.evidence["labs"] = evidence
    for code, present, (a, z), how in _vitals(d, d.index.files):
        target = b.present if present else b.absent
        if present and code in b.absent:
            del b.absent[code]
        if not present and code in b.present:
            continue
        target.setdefault(code, []).append(b.ev_chars(a, z, how))
