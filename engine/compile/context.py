"""What one rule file's compilation shares: its source, the errors found (each with
file:line:col, in the order of the file), and positions inside expression scalars."""
from __future__ import annotations

import re

from ..errors import Diagnostic
from ..load.yamlfile import Source


class Ctx:
    """What one file's compilation accumulates."""

    def __init__(self, src: Source):
        self.src = src
        self.errors: list[Diagnostic] = []

    def error(self, path, message, key=False):
        self.errors.append(self.src.diag(path, message, key))

    def diag_at(self, path, col: int, message: str) -> Diagnostic:
        """A problem at a character of an expression scalar (0-based col in its raw text)."""
        text = self.src.data_at(path)
        token = re.match(r"[A-Za-z_][A-Za-z0-9_.]*|[0-9][0-9.]*|[<>=!]=|\*\*|\S", str(text)[col:]) if text else None
        return Diagnostic(self.expr_where(path, col, token.group(0) if token else None, str(text or "")), message)

    def expr_where(self, path, col: int, name: str | None = None, text: str = "") -> str:
        """file:line:col of a character inside an expression scalar. On one line the column
        is exact; in a scalar spread over lines (folded, block, or a long plain one) the
        name is found in the source itself, its n-th whole-word use as in the expression."""
        path = tuple(path)
        where = self.src.where(path)
        span = self.src.spans.get(path)
        source = self.src.text[span[0]:span[1]] if span else ""
        if "\n" not in source:
            line, _, c = where.rpartition(":")
            quoted = 1 if self.src.styles.get(path) in ("'", '"') else 0
            return f"{line}:{int(c) + quoted + col}"
        if name:
            word = re.compile((r"(?<![A-Za-z0-9_.])" if name[0].isalnum() or name[0] == "_" else "") + re.escape(name)
                              + (r"(?![A-Za-z0-9_])" if name[-1].isalnum() or name[-1] == "_" else ""))
            nth = len(word.findall(text[:col]))
            found = list(word.finditer(source))
            if found:
                offset = span[0] + found[min(nth, len(found) - 1)].start()
                line = self.src.text.count("\n", 0, offset) + 1
                column = offset - (self.src.text.rfind("\n", 0, offset) + 1) + 1
                return f"{self.src.path}:{line}:{column}"
        return where


def meta(spec) -> tuple:
    """What a node says about itself (kept for render and diff): description, unit, source, assumed."""
    if not isinstance(spec, dict):
        return ()
    return tuple((k, spec[k]) for k in ("description", "unit", "source", "assumed") if isinstance(spec.get(k), str))


def or_none(fn):
    try:
        return fn()
    except (KeyError, TypeError, ValueError):
        return None


def one_per_place(errors: list[Diagnostic]) -> list[Diagnostic]:
    """The first error at each file:line:col (a later one there is a knock-on of it), in
    the order of the file."""
    seen, out = set(), []
    for e in errors:
        if e.where not in seen:
            seen.add(e.where)
            out.append(e)
    return sorted(out, key=position)


def position(d: Diagnostic):
    parts = d.where.rsplit(":", 2)
    try:
        return (parts[0], int(parts[1]), int(parts[2]))
    except (IndexError, ValueError):
        return (d.where, 0, 0)


