"""The ``wfl error`` table: rich on a terminal, aligned plain text otherwise, or JSON."""

from __future__ import annotations

import json

from wflcli.verbs.error_metrics import ALL

# shown in milli-units, which is how people quote MLIP errors
_SCALE = {"eV/atom": ("meV/atom", 1e3), "eV/A": ("meV/A", 1e3), "eV/A^3": ("meV/A^3", 1e3)}


def rows(properties) -> list[list[str]]:
    header = ["property", "group", "RMSE", "MAE", "max", "N", "missing", "unit"]
    table = [header]
    for prop in properties:
        unit, scale = _SCALE.get(prop.unit, (prop.unit, 1.0))
        for group in prop.groups():
            stats = prop.stats(group)
            cells = ([f"{stats.rmse * scale:.3f}", f"{stats.mae * scale:.3f}",
                      f"{stats.max * scale:.3f}", str(stats.count)] if stats
                     else ["-", "-", "-", "0"])
            table.append([prop.name, str(group), *cells, str(prop.missing.get(group, 0)),
                          unit])
    return table


def plain(properties) -> str:
    table = rows(properties)
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return "\n".join("  ".join(cell.rjust(w) if 2 <= i <= 6 else cell.ljust(w)
                               for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
                     for row in table) + "\n"


def rich_table(properties):
    from rich.table import Table

    table_rows = rows(properties)
    table = Table(title="prediction errors")
    for i, name in enumerate(table_rows[0]):
        table.add_column(name, justify="right" if 2 <= i <= 6 else "left")
    for row in table_rows[1:]:
        table.add_row(*row)
    return table


def as_json(properties, ref: str, pred: str) -> str:
    data = {"reference": ref, "prediction": pred, "properties": {}}
    for prop in properties:
        groups = {}
        for group in prop.groups():
            stats = prop.stats(group)
            groups[group] = {"count": stats.count if stats else 0,
                             "rmse": stats.rmse if stats else None,
                             "mae": stats.mae if stats else None,
                             "max": stats.max if stats else None,
                             "missing": prop.missing.get(group, 0)}
        data["properties"][prop.name] = {"unit": prop.unit, "overall": groups.get(ALL),
                                         "groups": groups}
    return json.dumps(data, indent=2) + "\n"
