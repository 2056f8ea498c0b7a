"""The real-world inputs (``../shared/realworld``: what clinicians, EHRs, CDS clients and
phenopacket tools send, each with the behaviour it must show) all pass, through the CLI and a
live server, run by the shared runner."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
RUNNER = SHARED / "tools" / "run_realworld.py"
CASES = SHARED / "realworld"


@pytest.mark.skipif(not RUNNER.exists(), reason="../shared/tools/run_realworld.py is not beside the project")
def test_every_realworld_input_behaves_as_its_side_file_says():
    """Check that every case passes (the runner exits non-zero below 100%) and name the failures."""
    bin_dir = Path(sys.executable).parent
    run = subprocess.run(
        [sys.executable, str(RUNNER), str(bin_dir), str(CASES)],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
    )
    summary = [line for line in run.stdout.splitlines() if line.startswith(("realworld", "FAIL"))]
    assert run.returncode == 0, "\n".join(summary) or run.stderr[-2000:]
    assert any(line.startswith("realworld") and "pass" in line for line in summary)
