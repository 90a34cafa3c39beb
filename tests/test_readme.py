"""Every command block of README.md marked runnable is run as it stands, in an empty
folder, so the README never goes stale. (Its set-up commands are run by CI itself.)"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from helpers_wfl import PROGRAM


README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"<!-- runnable -->\n```sh\n(.*?)```", README.read_text(), re.DOTALL)


def test_the_readme_has_runnable_blocks():
    assert len(BLOCKS) >= 2


@pytest.mark.slow
@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_block_runs(block, tmp_path):
    for module in ("tblite", "rdkit", "featomic"):
        pytest.importorskip(module, reason="the README uses every extra; CI installs them")
    env = dict(os.environ, PATH=f"{Path(PROGRAM).parent}{os.pathsep}{os.environ['PATH']}")
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{block}\n{result.stderr[-3000:]}"
    for name in re.findall(r"(?:-o|>) ?(\S+\.xyz)", block):
        assert (tmp_path / name).stat().st_size > 0, name
