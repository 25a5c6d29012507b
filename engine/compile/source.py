"""Python source being generated: lines at an indent, fresh local names, and the
constants the code refers to by name (they become the module's globals)."""
from __future__ import annotations

from contextlib import contextmanager


class Source:
    def __init__(self, constants: dict | None = None):
        self.lines: list[str] = []
        self.depth = 0
        self.constants = constants if constants is not None else {}
        self._keys: dict = {}
        self._count = 0

    def line(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)

    @contextmanager
    def block(self, head: str):
        self.line(head)
        self.depth += 1
        yield
        self.depth -= 1

    RESERVED = frozenset("cpqonh")   # column, parent, place, offsets, count, item: c1_x, p1, q1, o1, n1, h1

    def fresh(self, stem: str = "t") -> str:
        if stem in self.RESERVED:
            raise ValueError(f"'{stem}' names the columns of generated code: take another stem")
        self._count += 1
        return f"{stem}{self._count}"

    def const(self, value, stem: str = "K") -> str:
        """A name for value in the module's globals (one name per distinct value)."""
        if value is None or isinstance(value, bool):
            return repr(value)
        if isinstance(value, str) and len(value) < 60:
            return repr(value)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10 ** 15:
            return repr(value)
        try:
            key = (type(value), value) if not isinstance(value, (list, dict, set)) else None
            hash(key)
        except TypeError:
            key = None
        if key is not None and key in self._keys:
            return self._keys[key]
        name = f"{stem}{len(self.constants)}"
        self.constants[name] = value
        if key is not None:
            self._keys[key] = name
        return name

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"

