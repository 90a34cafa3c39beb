"""What the shell offers at a TAB: calculator names for ``--calc``, system names for
``--remote``, and click's own completion of verbs, options, choices and files.

Click's shell scripts know completions of type plain, file and dir. Ours add ``nospace``: a
value that is the start of a longer word (``gap:`` before its model file), after which the
shell must not add a space.
"""

from __future__ import annotations

from click.shell_completion import (BashComplete, CompletionItem, FishComplete, ZshComplete,
                                    add_completion_class)

NOSPACE = "nospace"
_MODEL_KINDS = ("gap", "mace")  # kinds whose value after the colon is a model file


def complete_calc(ctx, param, incomplete: str) -> list[CompletionItem]:
    """``--calc``: the known names, ``gap:``/``mace:``/``python:`` without a space, then
    the files after a model kind's colon (zsh and fish hand over the whole word)."""
    from wflcli.calculators.registry import KINDS, PYTHON

    kind, colon, rest = incomplete.partition(":")
    if colon:
        return _paths(kind + colon, rest) if kind in _MODEL_KINDS else []
    names = [*KINDS, PYTHON, *_MODEL_KINDS]
    items = []
    for name in sorted(set(names)):
        if name.startswith(incomplete):
            takes_value = name in _MODEL_KINDS or name == PYTHON
            items.append(CompletionItem(name + ":" if takes_value else name,
                                        type=NOSPACE if takes_value else "plain"))
    return items


def _paths(prefix: str, partial: str) -> list[CompletionItem]:
    """Files and folders starting with ``partial``, each written after ``prefix``."""
    import glob
    import os

    items = []
    for path in sorted(glob.glob(glob.escape(partial) + "*")):
        if os.path.isdir(path):
            items.append(CompletionItem(prefix + path + os.sep, type=NOSPACE))
        else:
            items.append(CompletionItem(prefix + path))
    return items


def complete_system(ctx, param, incomplete: str) -> list[CompletionItem]:
    """``--remote`` and ``wfl remote doctor``: the systems of the config files in force."""
    from wflcli.errors import WflError
    from wflcli.exec.systems import load_config

    try:
        names = load_config().systems
    except WflError:  # a broken config file offers nothing, rather than an error at TAB
        return []
    return [CompletionItem(name) for name in sorted(names) if name.startswith(incomplete)]


class _Bash(BashComplete):
    source_template = BashComplete.source_template.replace(
        "        elif [[ $type == 'plain' ]]; then",
        "        elif [[ $type == 'nospace' ]]; then\n"
        "            COMPREPLY+=($value)\n"
        "            compopt -o nospace\n"
        "        elif [[ $type == 'plain' ]]; then")


class _Zsh(ZshComplete):
    source_template = ZshComplete.source_template.replace(
        '        elif [[ "$type" == "file" ]]; then\n            _path_files -f',
        '        elif [[ "$type" == "nospace" ]]; then\n'
        '            compadd -U -S "" -- "$key"\n'
        '        elif [[ "$type" == "file" ]]; then\n'
        '            _path_files -f')


class _Fish(FishComplete):
    source_template = FishComplete.source_template.replace(
        '        else if test $metadata[1] = "plain";',
        '        else if test $metadata[1] = "nospace";\n'
        '            echo $metadata[2];\n'
        '        else if test $metadata[1] = "plain";')


def register_shells() -> None:
    """Make ``wfl completion`` and the shells' calls at TAB use the scripts above."""
    for shell, completer in (("bash", _Bash), ("zsh", _Zsh), ("fish", _Fish)):
        add_completion_class(completer, shell)
