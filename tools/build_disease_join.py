#!/usr/bin/env python3
"""Build ``contraxis/differential/data/mondo_join.tsv``: the OMIM and Orphanet entries that
MONDO maps to the same disease.

Usage: build_disease_join.py [MONDO_DIR] [OUTPUT]

MONDO_DIR holds the MONDO exact-match mapping sets (SSSOM, gzipped)
``mondo_exactmatch_omim.sssom.tsv.gz`` and ``mondo_exactmatch_orphanet.sssom.tsv.gz``
(``../shared/data/mondo`` by default: monarch-initiative/mondo,
``src/ontology/mappings/``, release 2026-08-04, CC0 1.0). Each row of OUTPUT is one MONDO
disease that has two or more exact matches among OMIM and Orphanet entries: the MONDO id,
then the matched ids (OMIM first, then Orphanet, each in numeric order). A MONDO disease with
one match joins nothing and is left out. The differential reads the file at build time
(:func:`contraxis.differential.annotations.read_join`); the mapping sets' headers (licence,
mapping set version) are copied into the output's header.

Standard library only; the output is deterministic for the same inputs.
"""

from __future__ import annotations

import gzip
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETS = {"omim": "OMIM:", "orphanet": "ORPHA:"}
"""The mapping sets read, and the prefix the differential uses for their ids."""


def read_set(path: Path, prefix: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Read one SSSOM mapping set: its header metadata and ``(MONDO id, object id)`` rows.

    Only ``skos:exactMatch`` rows are kept; the object id's prefix is rewritten to ``prefix``
    (``Orphanet:36899`` -> ``ORPHA:36899``, as the HPO annotation writes it).
    """
    header: dict[str, str] = {}
    rows: list[tuple[str, str]] = []
    columns: list[str] = []
    with gzip.open(path, "rt", encoding="utf-8") as text:
        for line in text:
            line = line.rstrip("\n")
            if line.startswith("#"):
                key, _, value = line[1:].strip().partition(":")
                if value.strip() and not key.startswith(" "):
                    header[key.strip()] = value.strip()
                continue
            cells = line.split("\t")
            if not columns:
                columns = cells
                continue
            row = dict(zip(columns, cells, strict=True))
            if row["predicate_id"] != "skos:exactMatch":
                continue
            local = row["object_id"].split(":", 1)[1]
            rows.append((row["subject_id"], prefix + local))
    return header, rows


def _order(identifier: str) -> tuple[int, int]:
    prefix, _, number = identifier.partition(":")
    return (0 if prefix == "OMIM" else 1, int(number))


def build(mondo_dir: Path) -> str:
    """The join file's text."""
    groups: dict[str, set[str]] = defaultdict(set)
    lines = [
        "# OMIM and Orphanet entries that MONDO maps to the same disease (skos:exactMatch), one MONDO",
        "# disease a row: its id, then every matched id (OMIM first). Built by tools/build_disease_join.py",
        "# from the MONDO exact-match mapping sets (monarch-initiative/mondo, src/ontology/mappings):",
    ]
    for name, prefix in SETS.items():
        header, rows = read_set(mondo_dir / f"mondo_exactmatch_{name}.sssom.tsv.gz", prefix)
        lines.append(f"#   {header.get('mapping_set_version', name)}")
        lines.append(f"#   license: {header.get('license', 'unknown')}")
        for mondo, other in rows:
            groups[mondo].add(other)
    lines.append("# The mapping sets are CC0 1.0; MONDO as a whole is CC BY 4.0 (https://mondo.monarchinitiative.org).")
    lines.append("mondo_id\tids")
    for mondo in sorted(groups, key=lambda m: int(m.split(":")[1])):
        ids = sorted(groups[mondo], key=_order)
        if len(ids) >= 2:
            lines.append(f"{mondo}\t{' '.join(ids)}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    mondo_dir = Path(argv[1]) if len(argv) > 1 else ROOT.parent / "shared" / "data" / "mondo"
    output = Path(argv[2]) if len(argv) > 2 else ROOT / "contraxis" / "differential" / "data" / "mondo_join.tsv"
    text = build(mondo_dir)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    rows = sum(1 for line in text.splitlines() if line.startswith("MONDO:"))
    print(f"{output}: {rows} MONDO diseases joining two or more OMIM or Orphanet entries")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
