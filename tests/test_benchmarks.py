"""The benchmarks' smoke run, so they never rot (the full run is `python -m benchmarks`)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_quick_benchmark_run_completes():
    pytest.importorskip("quippy", reason="the GAP scenario needs quippy-ase; CI installs it")
    result = subprocess.run([sys.executable, "-m", "benchmarks", "--quick"], cwd=ROOT,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    for heading in ("## 1.", "## 2.", "## 3.", "## 4.", "## 5.", "## 6.", "## 7a.", "## 7b.",
                    "## 8.", "## 9.", "## 10.", "## 11a.", "## 11b.", "## 13."):
        assert heading in result.stdout
    assert "| wfl calc --parallel 2 |" in result.stdout
    assert "| wfl calc --calc nwchem --parallel 2 |" in result.stdout  # CI installs NWChem
    assert "## Against the targets" in result.stdout and "| `wfl --help` at most 0.15 s |" \
        in result.stdout and "not measured" not in result.stdout.split("## 1.")[0]
    from helpers_remote import SSH_KEY

    if SSH_KEY.exists():  # the test cluster is up (CI starts it): the remote run is measured
        assert "| wfl --remote slurm-local --per-job 10 |" in result.stdout
        assert "| wfl --remote pipe (per job 10) |" in result.stdout
