"""The systems config (files, precedence, errors that name file and key), how a verb's
command line travels to a batch task, and quoting of everything sent to a shell."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest

from wflcli.cli.remote_run import portable_args
from wflcli.errors import UsageError
from wflcli.exec.systems import ConfigError, load_config
from wflcli.exec.transport import shell_line
from wflcli.exec.transport.local import LocalTransport
from helpers_wfl import wfl_program

USER = """
[systems.cluster]
host = "me@login.example.org"
scheduler = "slurm"
rundir = "~/runs"
commands = ["module load python"]
[systems.cluster.partitions.standard]
cores = 64
time = "2-00:00:00"
default = true
[systems.cluster.partitions.gpu]
cores = 16
gpus = 4
"""


@pytest.fixture
def user_config():
    path = Path(os.environ["WFLCLI_HOME"]) / "config.toml"
    path.write_text(USER)
    return path


def test_user_config_is_read(user_config):
    system = load_config(Path("/")).system("cluster")
    assert (system.host, system.user, system.scheduler) == ("login.example.org", "me", "slurm")
    assert system.commands == ("module load python",)
    assert system.partition(None).name == "standard" and system.partition("gpu").gpus == 4
    assert system.partition("nope") is None


def test_project_config_overrides_user_config_key_by_key(user_config, tmp_path):
    project = tmp_path / "project" / ".wflcli"
    project.mkdir(parents=True)
    (project / "config.toml").write_text('[systems.cluster]\nrundir = "/scratch/project"\n'
                                         "[systems.cluster.partitions.debug]\ncores = 2\n")
    deep = tmp_path / "project" / "a" / "b"
    deep.mkdir(parents=True)
    config = load_config(deep)
    system = config.system("cluster")
    assert system.rundir == "/scratch/project" and system.host == "login.example.org"
    assert [p.name for p in system.partitions] == ["standard", "gpu", "debug"]
    assert config.sources[("cluster", "rundir")] == project / "config.toml"
    assert config.sources[("cluster", "host")] == user_config


def test_remote_config_shows_where_each_value_came_from(user_config, tmp_path):
    project = tmp_path / ".wflcli"
    project.mkdir()
    (project / "config.toml").write_text('[systems.cluster]\nscheduler = "sge"\n')
    shown = wfl_program("remote", "config", text=True,
                           cwd=tmp_path)
    assert shown.returncode == 0
    assert f'scheduler = "sge"  # {project / "config.toml"}' in shown.stdout
    assert f'host = "me@login.example.org"  # {user_config}' in shown.stdout


@pytest.mark.parametrize("text, message", [
    ("[systems.c]\nscheduler = 'slurm'\nrundir = 1\n", "systems.c.rundir: must be a string"),
    ("[systems.c]\nscheduler = 'lsf'\nrundir = 'x'\n", "systems.c.scheduler: must be one of "
                                                       "slurm, sge, pbs, local, not 'lsf'"),
    ("[systems.c]\nscheduler = 'slurm'\n", "systems.c.rundir: missing"),
    ("[systems.c]\nscheduler = 'slurm'\nrundir = 'x'\nhots = 'a'\n", "systems.c.hots: unknown "
                                                                     "key (did you mean 'host'?"),
    ("[systems.c]\nscheduler = 'slurm'\nrundir = 'x'\n[systems.c.partitions.p]\nmax_time = '1:00'"
     "\n", "systems.c.partitions.p.max_time: unknown key (did you mean 'time'?"),
    ("[systems.c]\nscheduler = 'slurm'\nrundir = 'x'\n[systems.c.partitions.p]\nncores = 4\n",
     "systems.c.partitions.p.ncores: unknown key (did you mean 'cores'?"),
    ("[systems.c]\nscheduler = 'slurm'\nrundir = 'x'\n[systems.c.partitions.p]\ncores = 'many'"
     "\n", "systems.c.partitions.p.cores: must be an integer"),
    ("[systems.c]\nscheduler = 'slurm'\nrundir = 'x'\nport = true\n", "systems.c.port: must "
                                                                      "be an integer"),
    ("[systems.c]\nscheduler = 'slurm'\nrundir = 'x'\n[systems.c.env]\nN = 3\n",
     "systems.c.env.N: must be a string, not 3"),
    ("[systems.c]\nscheduler = 'slurm'\nrundir = 'x'\n[systems.c.env]\n'A B' = 'x'\n",
     "systems.c.env.A B: not a name for an environment variable"),
    ("[systems.c\n", "not valid TOML"),
    ("[other]\n", "other: unknown key"),
])
def test_bad_config_names_file_key_and_problem(user_config, text, message):
    user_config.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(Path("/"))
    assert str(caught.value).startswith(str(user_config)) and message in str(caught.value)
    done = wfl_program("remote", "config", text=True, cwd="/")
    assert done.returncode == 1 and message in done.stderr and "Traceback" not in done.stderr


def test_env_merges_by_variable_and_is_exported_first_in_jobs(user_config, tmp_path):
    """Where codes and their data are on a system: exported (quoted) before ``commands``."""
    user_config.write_text(USER + "[systems.cluster.env]\nWFL_VASP_COMMAND = 'srun vasp_std'\n"
                           "VASP_PP_PATH = '/apps/vasp pots'\n")
    project = tmp_path / ".wflcli"
    project.mkdir()
    (project / "config.toml").write_text("[systems.cluster.env]\nVASP_PP_PATH = '/mine'\n")
    config = load_config(tmp_path)
    system = config.system("cluster")
    assert system.job_setup == ("export VASP_PP_PATH=/mine",
                                "export WFL_VASP_COMMAND='srun vasp_std'", "module load python")
    assert config.sources[("cluster", "env.VASP_PP_PATH")] == project / "config.toml"
    assert config.sources[("cluster", "env.WFL_VASP_COMMAND")] == user_config
    done = subprocess.run(["bash", "-c", "\n".join(system.job_setup[:2]) +
                           '\nprintf "%s|%s" "$VASP_PP_PATH" "$WFL_VASP_COMMAND"'],
                          capture_output=True, text=True)
    assert done.stdout == "/mine|srun vasp_std"
    shown = wfl_program("remote", "config", text=True,
                           cwd=tmp_path)
    assert f'VASP_PP_PATH = "/mine"  # {project / "config.toml"}' in shown.stdout


def test_unknown_system_lists_the_known_ones(user_config):
    with pytest.raises(UsageError, match=r"no such system .* \(known: cluster\)"):
        load_config(Path("/")).system("elsewhere")


def test_verb_arguments_travel_without_inputs_and_outputs():
    from wflcli.cli.md import md

    args = ["--calc", "emt", "in.xyz", "-o", "out.xyz", "--steps=10", "--failed", "bad.xyz",
            "-oother.xyz", "--keep-velocities", "more.xyz", "-", "--", "-weird.xyz"]
    assert portable_args(md, args) == ["--calc", "emt", "--steps=10", "--keep-velocities"]


HOSTILE = ["it's", 'say "hi"', "a; touch x", "$(touch y)", "`touch z`", "line\nbreak", "*",
           "-n", ""]


def test_arguments_reach_the_command_unchanged(tmp_path):
    """Every argument and the working directory stay data, through the shell as well."""
    folder = tmp_path / "it's a ; $(dir)\nnew"
    folder.mkdir()

    async def run(prelude):
        return await LocalTransport().run(["python3", "-c", "import os, sys; "
                                           "print(repr([os.getcwd()] + sys.argv[1:]))",
                                           *HOSTILE], cwd=str(folder), prelude=prelude)

    for prelude in ((), ("true",)):
        done = asyncio.run(run(prelude))
        assert done.code == 0 and done.stdout.strip() == repr([str(folder), *HOSTILE])
    assert not any((tmp_path / name).exists() for name in "xyz")
    line = shell_line(HOSTILE, str(folder), ("module load x",))
    assert line.startswith("module load x && cd ")
