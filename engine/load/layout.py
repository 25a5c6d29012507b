"""Where each kind of file lives in a rules folder, and the schema each answers to.

    <policy>/<version>.yaml          a rule file             rule-file.schema.json
    _shared/<name>.yaml              dated shared data       rule-file.schema.json#/$defs/shared_file
    <policy>/cases/<name>.yaml       a case                  case-file.schema.json
    <policy>/charts/<name>.yaml      a chart                 chart-file.schema.json

Facts files (*.json) may sit beside cases. Any other YAML file is never read, which is an
error: a case saved in `case/` would otherwise pass by not running."""
from __future__ import annotations

import difflib
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


def _files(folder: Path) -> list[Path]:
    """The YAML files of a folder, hidden ones (.draft.yaml, macOS's ._x.yaml) aside."""
    return sorted(p for p in folder.glob("*.yaml") if p.is_file() and not p.name.startswith("."))


def rule_files(root: Path) -> list[Path]:
    return [p for folder in _policy_folders(root) for p in _files(folder)]


def shared_files(root: Path) -> list[Path]:
    return _files(root / "_shared")


def case_files(root: Path, policy: str) -> list[Path]:
    return _files(root / policy / "cases")


def chart_files(root: Path, policy: str) -> list[Path]:
    return _files(root / policy / "charts")


def _policy_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))) \
        if root.is_dir() else []


def yaml_files(root: Path) -> list[Path]:
    """Every YAML file under root (either spelling), following links as the loaders do
    (each folder once), hidden files and folders aside."""
    out, seen = [], set()

    def walk(folder: Path, depth: int):
        real = folder.resolve()
        if real in seen or depth > 8:
            return
        seen.add(real)
        for p in sorted(folder.iterdir()):
            if p.name.startswith("."):
                continue
            if p.is_dir():
                walk(p, depth + 1)
            elif p.suffix in (".yaml", ".yml") and p.is_file():
                out.append(p)
    if root.is_dir():
        walk(root, 1)
    return out


def stray(root: Path) -> list[tuple[Path, str]]:
    """(path, why) for each YAML file that would never be read."""
    out = []
    for p in yaml_files(root):
        if p.suffix == ".yml":
            out.append((p, "rule and case files end in .yaml; rename this .yml file or it is never read"))
        elif kind_of(root, p) is None:
            out.append((p, f"this file is never read: {WHERE}"))
    for p in sorted(root.glob("*/*.yaml")):
        if p.is_symlink() and not p.exists():
            out.append((p, "a broken link: it leads to no file"))
        elif not p.is_file():
            out.append((p, "a folder where a rule file is expected: a version must be a file (<policy>/<version>.yaml)"))
    with_rules = {p.parent.name for p in rule_files(root)}
    for folder in _policy_folders(root):
        if folder.name not in with_rules and (_files(folder / "cases") or _files(folder / "charts")):
            known = sorted(with_rules)
            hint = difflib.get_close_matches(folder.name, known, n=1, cutoff=0.6)
            out.append((folder, "cases or charts of no policy: this folder has no rule file (<policy>/<version>.yaml), "
                                "so they never run" + (f"; did you mean '{hint[0]}'?" if hint else "")))
    return out
