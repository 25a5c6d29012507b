"""Facts: strict JSON in, a tree of items out (one item per element of each collection).

Numbers are read from their text as Decimal; NaN, Infinity, exponents and duplicate
object keys are refused. Every error names its JSON path.
"""
from __future__ import annotations

import calendar
import json
import math
import re
from datetime import date
from decimal import Decimal

from . import schemacheck, types
from .errors import Diagnostic, FactsError
from .model import Input, Scope, Version

_PLAIN = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?\Z")
MAX_INT_DIGITS = 40
MAX_DIGITS = 40       # significant digits of a number in the facts, and of its integer part
MAX_DEPTH = 64


def decimal_problem(value: Decimal) -> str | None:
    """Why a facts number cannot be used (too large or too precise), or None."""
    if not value.is_finite():
        return f"expected a finite decimal, found {value}"
    if value.adjusted() >= MAX_DIGITS:
        return f"{format(value, 'f')[:20]}... is too large: at most {MAX_DIGITS} digits before the decimal point"
    if len(value.as_tuple().digits) > MAX_DIGITS + 20:
        return f"too many digits: at most {MAX_DIGITS + 20} significant digits"
    return None


def _at(name: str, path, message: str) -> Diagnostic:
    """A facts problem at a JSON path (a tuple of keys and indexes, or the path's text)."""
    return Diagnostic(name, message, path if isinstance(path, str) else schemacheck.json_path(path))


class _BadNumber:
    def __init__(self, text):
        self.text = text


class _Object(dict):
    """A JSON object that remembers keys it saw twice."""

    duplicates: tuple = ()


def _pairs(pairs):
    obj = _Object()
    dups = []
    for k, v in pairs:
        if k in obj:
            dups.append(k)
        obj[k] = v
    obj.duplicates = tuple(dups)
    return obj


def _bad_constant(text):
    return _BadNumber(text)


def _float(text):
    return Decimal(text) if _PLAIN.match(text) else _BadNumber(text)


def _int(text):
    return int(text) if len(text) <= MAX_INT_DIGITS else _BadNumber(text)


def parse_json(text: str | bytes, name: str):
    """JSON text -> plain data with Decimals. Raises FactsError naming the JSON path."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FactsError(Diagnostic(name, f"not valid UTF-8 (byte {exc.start})")) from None
    text = text.removeprefix("\ufeff")   # a byte-order mark some editors write
    try:
        data = json.loads(text, parse_float=_float, parse_int=_int, parse_constant=_bad_constant,
                          object_pairs_hook=_pairs)
    except json.JSONDecodeError as exc:
        raise FactsError(_json_error(text, exc, name)) from None
    except RecursionError:
        raise FactsError(_too_deep(text, name)) from None
    return clean(data, name)


def _where(text: str, pos: int, name: str) -> str:
    line = text.count("\n", 0, pos) + 1
    return f"{name}:{line}:{pos - (text.rfind(chr(10), 0, pos) + 1) + 1}"


def _json_error(text: str, exc: json.JSONDecodeError, name: str) -> Diagnostic:
    """json's message, or a plainer one where json's points past the real mistake."""
    before = text[: exc.pos].rstrip()
    if before.endswith(",") and text[exc.pos: exc.pos + 1] in ("}", "]"):
        return Diagnostic(_where(text, len(before) - 1, name), "not valid JSON: a trailing comma before "
                                                                f"'{text[exc.pos]}'")
    return Diagnostic(_where(text, exc.pos, name), f"not valid JSON: {exc.msg}")


def _too_deep(text: str, name: str) -> Diagnostic:
    """Where nesting first goes past MAX_DEPTH (only run after json gave up)."""
    depth, in_string, escaped = 0, False, False
    for pos, ch in enumerate(text):
        if in_string:
            escaped = not escaped and ch == "\\"
            if ch == '"' and not escaped:
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return Diagnostic(_where(text, pos, name), f"nested deeper than {MAX_DEPTH} levels")
        elif ch in "]}":
            depth -= 1
    return Diagnostic(name, f"nested deeper than {MAX_DEPTH} levels")  # pragma: no cover


def clean(data, name: str):
    """Check and normalise facts given as Python data (from JSON, YAML or a caller):
    floats become Decimal from their shortest text, bad numbers and duplicate keys are
    refused, nesting is bounded."""
    errors: list[Diagnostic] = []

    def walk(value, path, depth):
        kind = type(value)
        if kind is str and len(value) <= MAX_DIGITS and value.isascii():
            return value            # the common case: short plain text, nothing to check
        if kind is int and -10 ** MAX_DIGITS < value < 10 ** MAX_DIGITS or kind is bool or value is None:
            return value
        if depth > MAX_DEPTH:
            errors.append(_at(name, path, f"nested deeper than {MAX_DEPTH} levels"))
            return None
        if isinstance(value, _BadNumber):
            if _PLAIN.match(value.text):   # plain, only too long
                problem = decimal_problem(Decimal(value.text)) or f"more than {MAX_INT_DIGITS} digits"
                errors.append(_at(name, path, f"{problem}"))
            else:
                shown = value.text if len(value.text) <= 30 else value.text[:27] + "..."
                errors.append(_at(name, path, f"expected a decimal number in plain "
                                               f"notation (digits, optional '-' and '.'), found {shown}"))
            return None
        if isinstance(value, float):
            if not math.isfinite(value):
                errors.append(_at(name, path, f"expected a finite decimal, found {value}"))
                return None
            value = Decimal(repr(value))
            problem = decimal_problem(value)
            if problem:
                errors.append(_at(name, path, f"{problem}"))
                return None
            return value
        if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
            problem = decimal_problem(Decimal(value))
            if problem:
                errors.append(_at(name, path, f"{problem}"))
                return None
            return value
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                errors.append(_at(name, path, f"text that is not valid Unicode "
                                               "(a lone surrogate such as \\ud800)"))
                return None
            if _PLAIN.match(value):   # a decimal written as a string: the same limits
                problem = decimal_problem(Decimal(value))
                if problem:
                    errors.append(_at(name, path, f"{problem}"))
                    return None
        if isinstance(value, dict):
            for dup in getattr(value, "duplicates", ()):
                errors.append(_at(name, path + (dup,), "key appears twice in one object"))
            return {str(k): walk(v, path + (k,), depth + 1) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v, path + (i,), depth + 1) for i, v in enumerate(value)]
        return value

    try:
        out = walk(data, (), 0)
    except RecursionError:  # pragma: no cover - bounded by MAX_DEPTH
        raise FactsError(Diagnostic(name, "facts nested too deeply")) from None
    if errors:
        raise FactsError(errors)
    return out


def validate(version: Version, facts, name: str):
    """Schema errors of facts, all of them, as FactsError."""
    if not isinstance(facts, dict):
        raise FactsError(Diagnostic(name, f"expected a JSON object at the top level, found {schemacheck.show(facts)}"))
    if version.facts_fast_check is not None and version.facts_fast_check(facts):
        return   # valid; jsonschema runs only to explain what is wrong
    errors, seen = [], set()
    for path, message, _key in schemacheck.explain(version.facts_validator, facts):
        if path in seen and not message.startswith(("unknown key", "missing required key")):
            continue   # one problem a place: a bad date fails its pattern and its format
        seen.add(path)
        errors.append(_at(name, path, message) if path else Diagnostic(name, message))
    if errors:
        raise FactsError(errors)


class Item:
    """One evaluation context: the top level, or one element of a collection."""

    __slots__ = ("values", "parent", "children", "label", "path")

    def __init__(self, values, parent, label, path=()):
        self.values = values
        self.parent = parent
        self.children: dict[str, list[Item]] = {}
        self.label = label
        self.path = path            # JSON path in the facts (None for a day filled in by a calendar)

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


def _ranges(days: list[date]) -> str:
    """'2024-07-04 to 2024-07-06, 2024-07-09' for a sorted list of days."""
    parts, start, prev = [], None, None
    for d in days + [None]:
        if start is not None and (d is None or (d - prev).days != 1):
            parts.append(str(start) if start == prev else f"{start} to {prev}")
            start = None
        if d is not None and start is None:
            start = d
        prev = d
    return ", ".join(parts)


def build_items(version: Version, facts: dict, name: str):
    """The item tree for a version's scopes, with warnings. Raises FactsError."""
    errors: list[str] = []
    warnings: list[dict] = []
    root = Item(_read_inputs(version.root, facts, (), errors), None, "")
    items_by_scope: dict[str, list[Item]] = {"": [root]}

    def expand(scope: Scope, item: Item, obj, path):
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
            if child.calendar:
                out = _calendar(child, item, out, by_key, base, errors, warnings)
            item.children[cname] = [o[0] for o in out]
            items_by_scope.setdefault(child.qualified, []).extend(o[0] for o in out)
            for new, element, epath in out:
                expand(child, new, element if isinstance(element, dict) else {}, epath)

    expand(version.root, root, facts, ())
    if errors:
        raise FactsError([_at(name, path, message) if path else Diagnostic(name, message) for path, message in errors])
    return root, items_by_scope, warnings


def _calendar(child: Scope, parent: Item, given, by_key, base, errors, warnings):
    """One item per calendar day of the month; days not given take the inputs' defaults."""
    month = parent.lookup(child.calendar)
    if month is None:
        return given
    year, mon = (int(x) for x in month.split("-"))
    days = [date(year, mon, d) for d in range(1, calendar.monthrange(year, mon)[1] + 1)]
    for new, _element, epath in given:
        day = new.values.get(child.key)
        if isinstance(day, date) and (day.year, day.month) != (year, mon):
            errors.append((epath + (child.key,), f"{day} is outside the month {month}"))
    out, missing = [], []
    given_by_day = {g[0].values.get(child.key): g for g in given}
    for day in days:
        if day in given_by_day:
            out.append(given_by_day[day])
            continue
        missing.append(day)
        values = {inp.name: inp.default for inp in child.inputs.values()}
        values[child.key] = day
        label = f"{child.name}[{day}]"
        out.append((Item(values, parent, f"{parent.label}.{label}" if parent.label else label, None), {}, None))
    if missing:
        defaults = ", ".join(f"{i.name} {i.default}" for i in child.inputs.values() if i.name != child.key)
        warnings.append({"code": "MISSING_DAYS", "path": schemacheck.json_path(base),
                         "message": f"{len(missing)} of {len(days)} days of {month} have no entry "
                                    f"({_ranges(missing)}); they count as {defaults}"})
    return out
