"""Where each kind of file lives in a rules folder, and the schema each answers to.

    <policy>/<version>.yaml          a rule file             rule-file.schema.json
    _shared/<name>.yaml              dated shared data       rule-file.schema.json#/$defs/shared_file
    <policy>/cases/<name>.yaml       a case                  case-file.schema.json
    <policy>/charts/<name>.yaml      a chart                 chart-file.schema.json

Facts files (*.json) may sit beside cases. Any other YAML file is never read, which is an
error: a case saved in `case/` would otherwise pass by not running."""
from __future__ import annotations

import os
from pathlib import Path

SCHEMAS = {   # kind -> (schema file, JSON pointer within it)
    "rule": ("rule-file.schema.json", ""),
    "shared": ("rule-file.schema.json", "/$defs/shared_file"),
    "case": ("case-file.schema.json", ""),
    "chart": ("chart-file.schema.json", ""),
}

WHERE = ("rule files are <policy>/<version>.yaml, shared data _shared/<name>.yaml, cases "
         "<policy>/cases/<name>.yaml, charts <policy>/charts/<name>.yaml")


def display(path: Path) -> str:
    """A path in messages: relative to the working directory when below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel


def kind_of(root: Path, path: Path) -> str | None:
    """rule | shared | case | chart, or None for a YAML file the engine never reads."""
    parts = path.relative_to(root).parts
    if len(parts) == 2:
        return "shared" if parts[0] == "_shared" else None if parts[0].startswith((".", "_")) else "rule"
    if len(parts) == 3 and not parts[0].startswith(("_", ".")) and parts[1] in ("cases", "charts"):
        return "case" if parts[1] == "cases" else "chart"
    return None


def rule_files(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*/*.yaml") if p.is_file() and kind_of(root, p) == "rule")


def shared_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "_shared").glob("*.yaml") if p.is_file())


def case_files(root: Path, policy: str) -> list[Path]:
    return sorted(p for p in (root / policy / "cases").glob("*.yaml") if p.is_file())


def chart_files(root: Path, policy: str) -> list[Path]:
    return sorted(p for p in (root / policy / "charts").glob("*.yaml") if p.is_file())


def yaml_files(root: Path) -> list[Path]:
    """Every YAML file under root (either spelling), hidden folders aside."""
    return sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


def stray(root: Path) -> list[tuple[Path, str]]:
    """(path, why) for each YAML file that would never be read."""
    out = []
    for p in yaml_files(root):
        if p.suffix == ".yml":
            out.append((p, "rule and case files end in .yaml; rename this .yml file or it is never read"))
        elif kind_of(root, p) is None:
            out.append((p, f"this file is never read: {WHERE}"))
    for p in sorted(root.glob("*/*.yaml")):
        if not p.is_file():
            out.append((p, "a folder where a rule file is expected: a version must be a file (<policy>/<version>.yaml)"))
    return out
