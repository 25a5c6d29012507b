"""The item tree of a decision: one item for the top level and one for each element (or
entry) of every collection, each with its inputs read from the facts as their types."""
from __future__ import annotations

import weakref
from decimal import Decimal

from .. import types
from ..check import schema as schemacheck
from ..compile.model import Input, Scope, Version
from ..errors import Diagnostic, FactsError
from ..load.jsonfacts import _PLAIN, _at

class Item:
    """One evaluation context: the top level, or one element of a collection."""

    __slots__ = ("values", "parent", "children", "label", "path", "__weakref__")

    def __init__(self, values, parent, label, path=()):
        self.values = values
        # a child names its parent weakly: no cycle per decision for the garbage collector
        # (the decision keeps every item: engine.report.decision.Decision._keep)
        self.parent = weakref.proxy(parent) if parent is not None else None
        self.children: dict[str, list[Item]] = {}
        self.label = label
        self.path = path            # JSON path in the facts

    def up(self, levels: int) -> "Item":
        item = self
        for _ in range(levels):
            item = item.parent
        return item

    def lookup(self, name):
        item = self
        while item is not None:
            if name in item.values:
                return item.values[name]
            item = item.parent
        raise KeyError(name)


def _get(obj, path):
    for part in path:
        if not isinstance(obj, dict) or part not in obj:
            return False, None
        obj = obj[part]
    return True, obj


def _convert(inp: Input, value, where, errors):
    """A facts value as its input's type (the schema has checked its shape already)."""
    try:
        return convert(inp.type, value)
    except (ValueError, ArithmeticError) as exc:
        wanted = exc.args[0] if exc.args and isinstance(exc.args[0], str) else types.show(inp.type)
        errors.append((where, f"expected {wanted}, found {schemacheck.show(value)}"))
        return None


def convert(t, value):
    """value (JSON data) as a value of type t. ValueError(what was expected) if it is not one."""
    if value is None:
        if t.optional or t.kind in ("any", "null"):
            return None
        raise ValueError(f"{_A.get(t.kind, types.show(t))}")
    kind = t.kind
    if kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise ValueError("a decimal number")
        if isinstance(value, str) and not _PLAIN.match(value):
            raise ValueError("a decimal number")
        return Decimal(value) if not isinstance(value, Decimal) else value
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("a whole number")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError("true or false")
        return value
    if kind in ("text", "month", "date"):
        if not isinstance(value, str):
            raise ValueError(_A[kind])
        if kind == "text":
            if t.values is not None and value not in t.values:
                raise ValueError(f"one of {', '.join(sorted(t.values))}")
            return value
        try:
            return types.key_value(t, value)
        except ValueError:
            raise ValueError(_A[kind]) from None
    if kind == "list":
        if not isinstance(value, (list, tuple)):
            raise ValueError("a list")
        return tuple(convert(t.args[0], v) for v in value)
    if kind == "map":
        if not isinstance(value, dict):
            raise ValueError("an object")
        return {str(k): convert(t.args[1], v) for k, v in value.items()}
    return value


_A = {"decimal": "a decimal number", "integer": "a whole number", "boolean": "true or false", "text": "text",
      "date": 'a date "YYYY-MM-DD"', "month": 'a month "YYYY-MM"', "list": "a list", "map": "an object",
      "null": "null"}


def _read_inputs(scope: Scope, obj, path, errors):
    values = {}
    for inp in scope.inputs.values():
        ipath = inp.path
        if len(ipath) == 1:   # the common case: a field of this object
            if type(obj) is not dict or ipath[0] not in obj:
                values[inp.name] = inp.default
                continue
            raw = obj[ipath[0]]
        else:
            found, raw = _get(obj, ipath)
            if not found:
                values[inp.name] = inp.default
                continue
        if type(raw) is str and inp.type.kind == "decimal":   # the common case, already checked by the schema
            try:
                values[inp.name] = Decimal(raw)
                continue
            except ArithmeticError:
                pass
        values[inp.name] = _convert(inp, raw, path + ipath, errors)
    return values


def read_top_inputs(version: Version, facts, name: str, wanted) -> dict:
    """Some top-level inputs, read and checked on their own (FactsError naming the path)."""
    if not isinstance(facts, dict):
        raise FactsError(Diagnostic(name, f"expected a JSON object at the top level, found {schemacheck.show(facts)}"))
    errors: list[str] = []
    values = {}
    for key in wanted:
        inp = version.root.inputs[key]
        found, raw = _get(facts, inp.path)
        where = schemacheck.json_path(inp.path)
        if not found:
            if not inp.has_default:
                errors.append(((), f"missing required key '{where}'"))
            values[key] = inp.default
        else:
            values[key] = _convert(inp, raw, where, errors)
    if errors:
        raise FactsError([_at(name, path, message) if path else Diagnostic(name, message) for path, message in errors])
    return values


def build_items(version: Version, facts: dict, name: str):
    """The item tree for a version's scopes, with warnings. Raises FactsError."""
    errors: list[str] = []
    warnings: list[dict] = []
    root = Item(_read_inputs(version.root, facts, (), errors), None, "")
    items_by_scope: dict[str, list[Item]] = {"": [root]}

    _expand(version.root, root, facts, (), errors, items_by_scope)   # a module function: no closure cycle
    if errors:
        raise FactsError([_at(name, path, message) if path else Diagnostic(name, message) for path, message in errors])
    return root, items_by_scope, warnings


def _expand(scope: Scope, item: Item, obj, path, errors, items_by_scope):
    """The items of scope's collections under item (and theirs), into items_by_scope."""
    for cname, child in scope.children.items():
        found, elements = _get(obj, child.path)
        base = path + child.path
        if child.entries:   # an object: one item per entry, its key and value as two inputs
            key_name, value_name = child.entries
            entries = elements.items() if found and isinstance(elements, dict) else ()
            out = []
            for k, v in entries:
                value = _convert(child.inputs[value_name], v, base + (k,), errors)
                label = f"{item.label}.{child.name}[{k}]" if item.label else f"{child.name}[{k}]"
                new = Item({key_name: str(k), value_name: value}, item, label, base + (k,))
                out.append((new, {}, base + (k,)))
            item.children[cname] = [o[0] for o in out]
            items_by_scope.setdefault(child.qualified, []).extend(o[0] for o in out)
            continue
        elements = elements if found and isinstance(elements, list) else []
        out: list[Item] = []
        seen: dict = {}
        by_key: dict = {}
        for i, element in enumerate(elements):
            epath = base + (i,)
            values = _read_inputs(child, element, epath, errors)
            if child.key:
                key = values.get(child.key)
                if key in seen:
                    kpath = schemacheck.json_path(epath + (child.key,))
                    errors.append((kpath, f"{schemacheck.show(str(key))} appears twice "
                                  f"(first at {schemacheck.json_path(base + (seen[key],))})"))
                    continue
                seen[key] = i
                by_key[key] = (values, epath)
            label = f"{child.name}[{values.get(child.key) if child.key else i}]"
            new = Item(values, item, f"{item.label}.{label}" if item.label else label, epath)
            out.append((new, element, epath))
        item.children[cname] = [o[0] for o in out]
        items_by_scope.setdefault(child.qualified, []).extend(o[0] for o in out)
        for new, element, epath in out:
            _expand(child, new, element if isinstance(element, dict) else {}, epath, errors, items_by_scope)
