"""A pipeline of per-config tasks run as one task (``wfl pipe``): each input config goes
through every stage in turn inside the worker, or the batch task, that was given it.

Between stages the outputs travel as the extxyz text a verb would have written and are
read back, as the next verb of a shell pipeline reads them, so every stage sees the same
configs, derives the same seeds from them, and passes a config that failed earlier on as
failed. What comes out for an input config is one Outcome: all its final outputs, cached
as one entry under the identity of the whole pipeline (every stage's, in order).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from wflcli.exec.contracts import TaskDefaults
from wflcli.exec.digest import config_digest, config_seed
from wflcli.exec.payload import OUTPUTS, encode_outputs
from wflcli.exec.task import Outcome, _run_one, seed_identity
from wflcli.io.reader import FrameReader
from wflcli.io.writer import format_config


@dataclass(frozen=True)
class ChainTask(TaskDefaults):
    """The stages' tasks, in order. ``failed_apart``: failed outputs go to the failed
    output (``--failed``) rather than into the output stream where they arose."""

    stages: tuple
    failed_apart: bool = False

    verb = "pipe"

    @property
    def records_index(self) -> bool:
        """A stage that writes its input's position (md's MD_source) makes it part of the
        result, and each stage sees the pipeline input's position."""
        return any(stage.records_index for stage in self.stages)

    def parameters(self) -> dict:
        return {"stages": [[stage.verb, stage.parameters()] for stage in self.stages]}

    def start(self):
        started = [(stage, stage.start(), seed_identity(stage)) for stage in self.stages]

        def run(atoms, context) -> Outcome:
            configs, outcomes = [atoms], []
            for number, (stage, function, seeding) in enumerate(started, 1):
                outcomes = [_through(stage, function, seeding, context.index, config)
                            for config in configs]
                if number < len(started):
                    configs = _read(outcomes, f"<output of stage {number}, {stage.verb}>")
            return self._joined(context.index, outcomes)

        return run

    def _joined(self, index: int, outcomes: list[Outcome]) -> Outcome:
        """The last stage's outcomes as the input config's one outcome."""
        count = sum(outcome.count for outcome in outcomes)
        failures = [outcome for outcome in outcomes if outcome.failed]
        if not failures:
            text = "".join(outcome.text for outcome in outcomes)
            return Outcome(index, text, count, kind=OUTPUTS, payload=encode_outputs(text, count))
        if self.failed_apart:
            text = "".join(outcome.text for outcome in outcomes)
            failed_text = "".join(outcome.failed_text for outcome in failures)
        else:  # as the last verb writes them: each failed config where it came
            text = "".join(outcome.text + outcome.failed_text for outcome in outcomes)
            failed_text = ""
        return Outcome(index, text, count, error=failures[0].error, failed_text=failed_text)


def _through(stage, function, seeding: str, index: int, atoms) -> Outcome:
    """One config through one stage: computed, or passed on when it failed upstream."""
    if "wfl_error" in atoms.info:
        return Outcome(index, "", 0, error=atoms.info["wfl_error"],
                       failed_text=format_config(atoms))
    seed = config_seed(seeding, config_digest(atoms, stage))
    return _run_one(stage, function, index, atoms, seed)  # as a chunk of the verb runs it


def _read(outcomes: list[Outcome], name: str) -> list:
    """A stage's output (failed configs where they arose) read back as the next stage's
    input."""
    text = "".join(outcome.text + outcome.failed_text for outcome in outcomes)
    return list(FrameReader(io.BytesIO(text.encode("utf-8")), name))
