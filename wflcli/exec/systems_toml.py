"""The merged systems config written back as TOML, each value with the file it came from
(what ``wfl remote config`` shows)."""

from __future__ import annotations

import json

from wflcli.exec.systems import Config, project_config_path, user_config_path


def annotated_toml(config: Config) -> str:
    """The config files looked at, then every system's settings as TOML lines; a value's
    comment names its file (a partition's, on the partition's header)."""
    user = user_config_path()
    lines = [f"# user config:    {user}" + ("" if user.is_file() else " (none)"),
             f"# project config: {project_config_path() or '(none)'}"]
    for name, settings in sorted(config.systems.items()):
        lines += ["", f"[systems.{name}]"]
        for key, value in settings.items():
            if key not in ("partitions", "env"):
                lines.append(f"{key} = {json.dumps(value)}  # {config.sources[(name, key)]}")
        if settings.get("env"):
            lines.append(f"[systems.{name}.env]")
        for variable, value in settings.get("env", {}).items():
            lines.append(f"{variable} = {json.dumps(value)}  # "
                         f"{config.sources[(name, f'env.{variable}')]}")
        for part, values in settings.get("partitions", {}).items():
            lines.append(f"[systems.{name}.partitions.{part}]  # "
                         f"{config.sources[(name, f'partitions.{part}')]}")
            lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    return "\n".join(lines)
