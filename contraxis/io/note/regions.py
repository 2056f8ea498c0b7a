"""Body regions: parts named with a word of movement, and their side.

Part of :mod:`contraxis.io.note.reader`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .document import LIST_WORDS, Compiled, CompiledPart, Doc, Key, Mention
from .model import Evidence

if TYPE_CHECKING:  # pragma: no cover
    from .builder import Builder


def part_mentions(d: Doc, comp: Compiled) -> list[Mention]:
    """Body parts, longest first, each with its side words (``left``, ``both``) if any."""
    out: list[Mention] = []
    for seg, stream in enumerate(d.stream):
        keys = [d.keys[t] for t in stream]
        p = 0
        while p < len(keys):
            hit = None
            for length in range(min(comp.part_max, len(keys) - p), 0, -1):
                ids = comp.part_table.get(tuple(keys[p:p + length]))
                if ids:
                    hit = (length, ids)
                    break
            if hit is None:
                p += 1
                continue
            length, ids = hit
            start, end = stream[p], stream[p + length - 1] + 1
            part = comp.parts[ids[0]]
            previous = d.lower[start - 1] if start > 0 else ""
            if part.after and previous not in part.after:
                p += length
                continue
            out.append(Mention("part", start, end, part, f"body part '{d.words(start, end)}'",
                                tokens=tuple(range(start, end)), extra={"seg": seg, "plural": _plural(d, start, end)}))
            p += length
    return out


def _plural(d: Doc, start: int, end: int) -> bool:
    word = d.lower[end - 1]
    return word in d.index.lexicon.irregular or (word.endswith("s") and not word.endswith("ss"))


def _side_before(d: Doc, comp: Compiled, start: int) -> tuple[str, int] | None:
    """A side word just before a part (``left``, ``both``, ``all four``), skipping small words."""
    skip = {"the", "his", "her", "their", "lower", "upper", "index", "big", "outer", "inner", "little", "ring",
            "middle", "of", "a", "one", "side", "-", "sided"}
    j = start - 1
    steps = 0
    while j >= 0 and steps < 4:
        for length in (2, 1):
            if j - length + 1 < 0:
                continue
            key = tuple(k for k in d.keys[j - length + 1:j + 1] if k)
            if key and key in comp.side_words:
                return comp.side_words[key], j - length + 1
        if d.lower[j] not in skip and not d.lower[j].isdigit():
            return None
        j -= 1
        steps += 1
    return None


def _side_after(d: Doc, start: int) -> str | None:
    """``one calf or the other``: both sides."""
    tail = " ".join(d.lower[start:start + 5])
    return "both" if re.match(r"^\w+ or (?:the )?other\b", tail) else None


def moving_parts(d: Doc, comp: Compiled, parts: list[Mention]) -> None:
    """Mark parts with a word of movement in their clause, or in a list with one that has."""
    window = 6
    move_spots: dict[int, list[tuple[int, int, Key]]] = {}
    for seg in range(len(d.segments)):
        spots = []
        for key in comp.moves:
            for a, b in d.occurrences(seg, key):
                spots.append((a, b, key))
        move_spots[seg] = spots
    for m in parts:
        seg = m.extra["seg"]
        stream = d.stream[seg]
        pos = [p for p, t in enumerate(stream) if m.start <= t < m.end]
        if not pos:
            continue
        lo, hi = pos[0], pos[-1]
        blocked = any(lo - 2 <= a <= hi + 2 for key in comp.non_moves for a, _b in d.occurrences(seg, key))
        if blocked:
            m.extra["move"] = None
            m.extra["blocked"] = True
            continue
        own: list[tuple[int, int, Key]] = []
        for key in m.value.moves:
            own.extend((a, b, key) for a, b in d.occurrences(seg, key))
        # the nearest word of movement decides; one the part does not move with ("eyes rolled")
        # means the part is not a region there
        nearest: tuple[int, int, int, bool] | None = None
        for a, b, key in [*own, *move_spots[seg]]:
            if a > hi + window or b < lo - window:
                continue
            if lo <= a <= hi and b <= hi:
                continue  # the part's own word ("jaw-opening") is not its movement
            distance = a - hi if a > hi else lo - b
            blocked_by = bool(set(key) & m.value.not_with)
            if nearest is None or distance < nearest[0]:
                nearest = (distance, a, b, blocked_by)
        for word in m.value.not_with:
            for a, b in d.occurrences(seg, (word,)):
                distance = a - hi if a > hi else lo - b
                if 0 <= distance <= window and (nearest is None or distance < nearest[0]):
                    nearest = (distance, a, b, True)
        m.extra["move"] = None if nearest is None or nearest[3] else (stream[nearest[1]], stream[nearest[2]] + 1)
    # lists of parts share a movement
    ordered = sorted(parts, key=lambda x: x.start)
    for _ in range(2):
        for a, b in zip(ordered, ordered[1:], strict=False):
            if a.extra["seg"] != b.extra["seg"]:
                continue
            between = [d.lower[t] for t in range(a.end, b.start)]
            if a.extra.get("blocked") or b.extra.get("blocked"):
                continue
            if all(w in LIST_WORDS or w in ("left", "right", "lower", "upper", "index", "big") for w in between):
                if a.extra.get("move") and not b.extra.get("move"):
                    b.extra["move"] = a.extra["move"]
                elif b.extra.get("move") and not a.extra.get("move"):
                    a.extra["move"] = b.extra["move"]


def regions_of(b: Builder, parts: list[Mention]) -> dict[str, list[Evidence]]:
    d, comp = b.d, b.comp
    out: dict[str, list[Evidence]] = {}
    last_side: dict[int, tuple[str, int]] = {}  # segment -> (side, token)
    last_side_of: dict[str, str] = {}  # limb kind -> side, through the note
    limb_kinds = {"arm": ("left-arm", "right-arm"), "leg": ("left-leg", "right-leg"),
                  "foot": ("left-foot", "right-foot")}
    for m in sorted(parts, key=lambda x: x.start):
        part: CompiledPart = m.value
        seg = m.extra["seg"]
        side = _side_before(d, comp, m.start)
        side_word = side[0] if side else _side_after(d, m.start)
        if side_word:
            last_side[seg] = (side_word, m.start)
            if part.region in limb_kinds:
                last_side_of[part.region] = side_word
        if not m.extra.get("move"):
            continue
        reason = b.why_not(m)
        if reason or m.negated:
            b.skip(m, f"region {part.region}", reason or f"negated ('{m.negated}')")
            continue
        move = m.extra["move"]
        ev = b.ev_chars(d.chars(m.start, m.end)[0], d.chars(m.start, m.end)[1],
                        f"body part '{d.words(m.start, m.end)}' with '{d.words(*move)}'")
        regions: list[str] = []
        if part.region in limb_kinds:
            if not side_word:
                if m.extra["plural"]:
                    side_word = last_side[seg][0] if seg in last_side else "both"
                elif seg in last_side:
                    side_word = last_side[seg][0]
                else:
                    side_word = last_side_of.get(part.region, "")
            if not side_word:
                b.skip(m, f"region {part.region}", "no side given: choose left or right in the form")
                continue
            left, right = limb_kinds[part.region]
            regions = {"left": [left], "right": [right], "both": [left, right]}[side_word]
        elif part.region == "limb":
            if side_word != "both" and "four" not in d.lower[max(0, m.start - 2):m.end]:
                b.skip(m, "region limbs", "which limbs is not said (all four, both arms?): choose them in the form")
                continue
            regions = ["left-arm", "right-arm", "left-leg", "right-leg"]
        elif part.region == "upper-limb":
            regions = ["left-arm", "right-arm"]
        elif part.region == "lower-limb":
            regions = ["left-leg", "right-leg"]
        else:
            regions = [part.region]
        for region in regions:
            out.setdefault(region, []).append(ev)
    return out
