"""Write man/*.1 and completions/wfl.{bash,zsh,fish} from the click definitions.

Run after changing any command: `python scripts/generate_docs.py`. A test fails when the
files in the repository differ from what this writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATE = "2026-11-23"  # fixed, so regenerating changes nothing unless a command did


def generated() -> dict[Path, str]:
    from wflcli.cli.completion import SHELLS, completion_script
    from wflcli.cli.main import cli
    from wflcli.cli.manpage import all_pages

    files = {ROOT / "man" / name: page for name, page in all_pages(cli, DATE).items()}
    for shell in SHELLS:
        files[ROOT / "completions" / f"wfl.{shell}"] = completion_script(shell)
    return files


def main() -> int:
    files = generated()
    for folder in {path.parent for path in files}:
        folder.mkdir(exist_ok=True)
        for stale in folder.iterdir():
            if stale not in files:
                stale.unlink()
    for path, text in files.items():
        path.write_text(text)
    print(f"wrote {len(files)} files", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
