"""``wfl pipe``: the stages run as one process group give what the same verbs give as a
shell pipeline (``wfl A | wfl B | wfl C``), byte for byte, serially and with --parallel;
each config is cached on the whole pipeline; a bad stage is a usage error before work."""

from __future__ import annotations

import io
import shlex

import pytest
from helpers_data import rattled_cells, write_configs
from helpers_pipe import MD, mixed_inputs, refusing_stage, shell_pipeline

from wflcli.io.reader import FrameReader
from wflcli.io.writer import format_config
from helpers_wfl import wfl_program

COUNTING = "python:helpers_calc:CountingEMT"


def piped(wfl_program, global_args, stages, source, *last_args):
    return wfl_program(*global_args, "pipe", " | ".join(stages), source, *last_args,
                       timeout=300)


@pytest.fixture
def cells(tmp_path):
    return write_configs(tmp_path / "in.xyz", rattled_cells(6, repeat=(1, 1, 1)))


@pytest.fixture
def with_failures(tmp_path):
    return mixed_inputs(tmp_path)


@pytest.fixture
def refuse_step(tmp_path):
    return refusing_stage(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("parallel", [[], ["--parallel", "2"]], ids=["serial", "parallel"])
@pytest.mark.parametrize("stages", [
    ["optimize --calc emt --fmax 0.1", MD, "calc --calc lj"],
    ["rattle --copies 3 --stdev 0.03", "optimize --calc emt --fmax 0.1 --steps 20",
     "calc --calc lj --prefix LJ_"],
], ids=["optimize-md-calc", "rattle-optimize-calc"])
def test_three_stages_equal_the_shell_pipeline(cells, parallel, stages):
    global_args = ["--no-cache", "--seed", "11", *parallel]
    code, expected, err = shell_pipeline(global_args, stages, cells)
    assert code == 0, err
    done = piped(wfl_program, global_args, stages, cells)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected
    assert expected.count(b"Lattice") == (30 if "md" in stages[1] else 18)


@pytest.mark.slow
def test_seed_reaches_every_stage_as_in_the_shell_pipeline(cells):
    stages = [MD, "rattle --copies 2", "calc --calc lj"]
    runs = {seed: piped(wfl_program, ["--no-cache", "--seed", seed], stages, cells).stdout
            for seed in ("1", "2")}
    assert runs["1"] != runs["2"]
    assert runs["2"] == shell_pipeline(["--no-cache", "--seed", "2"], stages, cells)[1]


@pytest.mark.slow
def test_a_stage_sees_the_position_of_the_pipelines_input(cells):
    """After a stage that gives several configs per input, md's MD_source is the input's
    position in the pipeline's input (a shell pipeline numbers md's own input); the
    frames, seeds included, are the same."""
    stages = ["rattle --copies 2", MD]
    shell = _configs(shell_pipeline(["--no-cache"], stages, cells)[1])
    staged = _configs(piped(wfl_program, ["--no-cache"], stages, cells).stdout)
    assert [a.info["MD_source"] for a in staged] == [i // 10 for i in range(60)]
    assert [a.info["MD_source"] for a in shell] == [i // 5 for i in range(60)]
    for a, b in zip(shell, staged):
        del a.info["MD_source"], b.info["MD_source"]
        assert format_config(a) == format_config(b)


def _configs(data: bytes) -> list:
    return list(FrameReader(io.BytesIO(data), "output"))


@pytest.mark.slow
@pytest.mark.parametrize("parallel", [[], ["--parallel", "2"]], ids=["serial", "parallel"])
def test_failed_configs_as_in_the_shell_pipeline(tmp_path, with_failures, refuse_step, parallel):
    stages = [MD, refuse_step, "calc --calc emt --prefix REF_"]
    global_args = ["--no-cache", "--seed", "5", *parallel]
    code, expected, _ = shell_pipeline(global_args, stages, with_failures)
    done = piped(wfl_program, global_args, stages, with_failures)
    assert code == done.returncode == 3
    assert done.stdout == expected
    # 4 Cu trajectories each lose step 2; 2 Fe cells fail at md; 1 failed before
    assert expected.count(b"step 2 refused") == 4 and expected.count(b"wfl_error") == 7
    assert expected.count(b"REF_energy") == 16  # 4 x 4 frames labelled
    assert b"wfl pipe: 7 of 7 configs failed" in done.stderr
    # with --failed: each failed config there, in order, the rest in the output
    code, expected, _ = shell_pipeline(global_args, stages, with_failures,
                                       ["--failed", tmp_path / "shell-failed.xyz"])
    done = piped(wfl_program, global_args, stages, with_failures,
                 "--failed", tmp_path / "failed.xyz")
    assert code == done.returncode == 3
    assert done.stdout == expected and b"wfl_error" not in expected
    assert (tmp_path / "failed.xyz").read_bytes() == (tmp_path / "shell-failed.xyz").read_bytes()


def test_a_rerun_is_served_from_the_cache_and_a_changed_stage_recomputes(wfl, cells, calc_log):
    stages = ["rattle --copies 2", f"calc --calc {COUNTING} --prefix REF_"]
    first = wfl("pipe", " | ".join(stages), cells)
    assert first.code == 0 and calc_log() == 12
    again = wfl("pipe", " | ".join(stages), cells)
    assert again.code == 0 and calc_log() == 0
    assert again.stdout == first.stdout
    for changed in (["rattle --copies 2 --stdev 0.02", stages[1]],
                    [stages[0], f"calc --calc {COUNTING} --prefix OTHER_"]):
        assert wfl("pipe", " | ".join(changed), cells).code == 0
        assert calc_log() == 12, changed


def test_the_cache_keys_on_the_whole_pipeline_not_on_its_stages(wfl, cells, calc_log):
    """A stage run alone first does not answer for the pipeline, nor the other way."""
    assert wfl("calc", "--calc", COUNTING, cells).code == 0 and calc_log() == 6
    assert wfl("pipe", f"calc --calc {COUNTING}", cells).code == 0 and calc_log() == 6
    assert wfl("pipe", f"calc --calc {COUNTING}", cells).code == 0 and calc_log() == 0


@pytest.mark.parametrize("pipeline, message", [
    (f"calc --calc {COUNTING} | select-cur -n 2",
     "stage 2: wfl select-cur is not a verb that takes its configs one at a time"),
    (f"calc --calc {COUNTING} | phonons collect",
     "stage 2: wfl phonons collect is not a verb"),
    (f"calc --calc {COUNTING} | pipe 'calc --calc emt'", "stage 2: wfl pipe is not a verb"),
    (f"calc --calc {COUNTING} | mdd --calc emt", "stage 2: no verb 'mdd' (did you mean 'md'?)"),
    (f"calc --calc {COUNTING} | md --calc emt --steps -1",
     "stage 2 (md): Invalid value for '--steps': -1 is not in the range x>=0."),
    (f"calc --calc {COUNTING} | md --calc emt --bogus", "stage 2 (md): No such option '--bogus'"),
    (f"calc --calc {COUNTING} | calc", "stage 2 (calc): --calc is required"),
    (f"calc --calc {COUNTING} | calc --calc nosuch",
     "stage 2 (calc): --calc: unknown calculator 'nosuch'"),
    (f"calc --calc {COUNTING} | md --parallel 2 --calc emt",
     "stage 2 (md): --parallel is a global option: give it before pipe"),
    (f"calc --calc {COUNTING} | wfl --seed 3 md", "stage 2: --seed is a global option"),
    (f"calc --calc {COUNTING} | calc --calc emt -o x.xyz", "stage 2 (calc): -o: input files, -o"),
    (f"calc --calc {COUNTING} | calc --calc emt in.xyz", "stage 2 (calc): input files: "),
    (f"calc --calc {COUNTING} | | calc --calc emt", "stage 2 is empty"),
    (f"calc --calc {COUNTING} |", "stage 2 is empty"),
    (f"calc --calc '{COUNTING}", "No closing quotation"),
])
def test_a_bad_stage_is_a_usage_error_before_any_work(wfl, cells, calc_log, pipeline, message):
    done = wfl("pipe", pipeline, cells)
    assert done.code == 2, done.stderr
    assert message in done.stderr
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert calc_log() == 0


def test_a_stage_error_is_the_verbs_own(wfl, cells):
    alone = wfl("md", "--calc", "emt", "--timestep", "0", cells)
    staged = wfl("pipe", "rattle | md --calc emt --timestep 0", cells)
    assert alone.code == staged.code == 2
    error = next(line for line in alone.stderr.splitlines() if line.startswith("Error: "))
    assert error.replace("Error: ", "Error: stage 2 (md): ") in staged.stderr.splitlines()
    assert "Usage: wfl md [OPTIONS] [FILE]..." in staged.stderr


def test_remote_needs_the_verb_registered(wfl, cells):
    """--remote takes pipe (a per-config verb there too): a system it does not know is the
    error, not the verb."""
    done = wfl("--remote", "nowhere", "pipe", "calc --calc emt", cells)
    assert done.code == 2 and "nowhere" in done.stderr and "runs here" not in done.stderr


def test_a_leading_wfl_and_pipes_without_spaces_are_read_as_a_shell_would(wfl, cells):
    plain = wfl("pipe", "rattle --copies 2 | calc --calc emt", cells)
    written = wfl("pipe", "wfl rattle --copies 2|wfl calc --calc emt", cells)
    continued = wfl("pipe", "rattle --copies 2 \\\n  | calc \\\n --calc emt", cells)
    assert plain.code == written.code == continued.code == 0
    assert written.stdout == plain.stdout == continued.stdout
    assert plain.stdout.count("Lattice") == 12


def test_hostile_option_values_survive_the_pipeline_a_batch_task_is_given():
    """What ``--remote`` sends on (each stage shell-quoted, joined by |) splits back into
    the same words, whatever the values hold."""
    from test_remote_config import HOSTILE

    from wflcli.cli.pipe import split_pipeline

    stages = [["map", "/it's a/ops.py:f", "--kwargs", value] for value in HOSTILE]
    stages.append(["calc", "--calc", "emt", "--prefix", "a|b c_"])
    text = " | ".join(shlex.join(words) for words in stages)
    assert [[*stage.words, *stage.args] for stage in split_pipeline(text)] == stages
