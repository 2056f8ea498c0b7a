"""Writes visits to a registry without end, printing ``ACK <patient> <visit id> <sha256>`` once
each write has returned (committed); the durability test kills it at random moments.

Usage: python durability_writer.py URL RUN
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys

from contraxis.registry.store import Registry, canonical_json


def main() -> None:
    url, run = sys.argv[1], int(sys.argv[2])
    registry = Registry(url)
    regions = (["neck"], ["neck", "right-arm"], ["upper-face", "jaw"], ["neck", "trunk", "left-leg"])
    print("READY", flush=True)
    k = 0
    while True:
        case = {"age": 30 + k % 40, "sex": "female", "onset_age": 25, "regions": regions[k % len(regions)],
                "findings": ["HP:0000473", "CX:sustained-contractions"], "course": "progressive",
                "severity": "moderate"}
        day = dt.date(2000, 1, 1) + dt.timedelta(days=run * 1000 + k)
        visit = registry.add_visit(f"K-{run}-{k % 3}", case, date=day)
        digest = hashlib.sha256(canonical_json(visit.case).encode()).hexdigest()
        sys.stdout.write(f"ACK {visit.id} {digest} {json.dumps(visit.summary.get('distribution'))}\n")
        sys.stdout.flush()
        k += 1


if __name__ == "__main__":
    main()
