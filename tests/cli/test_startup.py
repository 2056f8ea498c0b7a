"""Tests of what `contraxis assess` loads to answer one case: nothing it does not use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "cervical-dystonia.yaml"

#: Libraries a one-case assessment without the differential never needs.
NOT_NEEDED = ("rich", "fastapi", "starlette", "uvicorn", "numpy", "pyhpo", "simple_icd_10_cm", "httpx")

SCRIPT = """
import json, sys
from contraxis.cli import main
try:
    main(sys.argv[1:])
except SystemExit as stop:
    code = stop.code
heavy = sorted({m.split('.')[0] for m in sys.modules} & set(json.loads(%r)))
print(json.dumps({"exit": code, "loaded": heavy}), file=sys.stderr)
"""


def _run(*args: str, cache: Path) -> tuple[dict[str, object], str]:
    env = {**os.environ, "CONTRAXIS_CACHE": str(cache)}
    script = SCRIPT % json.dumps(NOT_NEEDED)
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=env, cwd=ROOT)
    return json.loads(done.stderr.strip().splitlines()[-1]), done.stdout


def test_assess_json_without_differential_loads_only_what_it_uses(tmp_path: Path) -> None:
    """Check that, with the caches filled, `assess --no-differential --json` imports neither
    Rich nor the web service nor numpy nor hpo3, and answers."""
    _run("assess", str(EXAMPLE), "--no-differential", "--json", cache=tmp_path)  # fills the caches
    report, out = _run("assess", str(EXAMPLE), "--no-differential", "--json", cache=tmp_path)
    assert report == {"exit": 0, "loaded": []}
    assert json.loads(out)["summary"]["phenomenology"] == "dystonia"


def test_errors_and_reports_still_print_with_rich(tmp_path: Path) -> None:
    """Check that the report and an error are printed (with Rich, imported on use)."""
    report, out = _run("assess", str(EXAMPLE), "--no-differential", cache=tmp_path)
    assert report["exit"] == 0 and "rich" in report["loaded"] and "dystonia" in out.lower()
    report, _ = _run("assess", str(tmp_path / "missing.yaml"), "--no-differential", "--json", cache=tmp_path)
    assert report == {"exit": 2, "loaded": ["rich"]}
