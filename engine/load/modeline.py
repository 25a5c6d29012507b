"""The editor modeline of a YAML file under rules/:

    # yaml-language-server: $schema=../../../schemas/case-file.schema.json

the comment by which the YAML language server (VS Code's YAML extension, and the editors
built on it) checks and completes a file as it is typed. `policy validate` checks that each
file has one, before its content, naming the schema of its kind (engine.load.layout)."""
from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import Diagnostic
from .layout import SCHEMAS, kind_of, yaml_files

_LINE = re.compile(rb"^#\s*yaml-language-server:\s*\$schema=(\S+)\s*$")


def find(raw: bytes) -> tuple[int, int, str] | None:
    """(line, col, target) of the modeline among the comments that open the file."""
    for number, line in enumerate(raw.removeprefix(b"\xef\xbb\xbf").splitlines()[:20], 1):
        text = line.strip()
        if not text or text.startswith(b"%") or text == b"---":
            continue
        if not text.startswith(b"#"):
            return None   # content began: a modeline below it is not read by editors
        m = _LINE.match(text)
        if m:
            return number, line.index(b"$schema=") + len("$schema=") + 1, m.group(1).decode("utf-8", "replace")
    return None


def expected_line(root: Path, path: Path, kind: str) -> str:
    """The modeline for a file of this kind, for schemas/ beside the rules folder (as shipped)."""
    name, pointer = SCHEMAS[kind]
    root, path = root.resolve(), path.resolve()   # Path('.').parent is '.' itself
    rel = os.path.relpath(root.parent / "schemas" / name, path.parent).replace(os.sep, "/")
    return f"# yaml-language-server: $schema={rel}{'#' + pointer if pointer else ''}"


def check(root: Path, path: Path, display: str, kind: str) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """(errors, warnings): a modeline that names another schema is an error (the editor
    would check the file against the wrong rules); none at all is a warning."""
    found = find(path.read_bytes())
    want = expected_line(root, path, kind)
    if found is None:
        return [], [Diagnostic(f"{display}:1:1", f"no schema modeline, so an editor cannot check this file as it "
                                                 f"is typed; make this the first line: {want}")]
    line, col, target = found
    name, pointer = SCHEMAS[kind]
    file_part, _, fragment = target.partition("#")
    what = {"rule": "a rule file", "shared": "a shared file", "case": "a case file", "chart": "a chart file"}[kind]
    if file_part.rsplit("/", 1)[-1] != name or fragment.rstrip("/") != pointer:
        return [Diagnostic(f"{display}:{line}:{col}", f"the modeline names {target}, but {what} answers to "
                                                      f"{name}{'#' + pointer if pointer else ''}: {want}")], []
    beside = root.resolve().parent / "schemas" / name
    if "://" not in file_part and beside.is_file() and (path.resolve().parent / file_part).resolve() != beside:
        return [], [Diagnostic(f"{display}:{line}:{col}", f"the modeline's path does not lead to "
                                                          f"{os.path.relpath(beside)}, so an editor will not find it: {want}")]
    return [], []


def check_all(root: Path, display) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """(errors, warnings) of the modelines of every file the engine reads under root."""
    errors, warnings = [], []
    for path in yaml_files(root):
        kind = kind_of(root, path) if path.suffix == ".yaml" else None
        if kind is not None:
            e, w = check(root, path, display(path), kind)
            errors += e
            warnings += w
    return errors, warnings
