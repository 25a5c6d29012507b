"""JSON Schema checks (draft 2020-12) with errors a person can act on.

Every error of a document is reported in one pass. Each message says where (a path,
turned into file:line:col for rule files or a JSON path for facts), what was expected
(the schema node's `title`) and what was found.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from ..errors import did_you_mean
from ..values import show as _show

# jsonschema is imported when a validator is first used (to explain an error, or to check
# a schema): a decision on valid facts never needs it, and the import costs ~70 ms.


def _is_date(value) -> bool:
    if not isinstance(value, str):
        return True
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _is_datetime(value) -> bool:
    if not isinstance(value, str):
        return True
    try:
        return parse_timestamp(value) is not None
    except ValueError:
        return False


_FORMAT_CHECKS = {"date": _is_date, "date-time": _is_datetime}


# ECMA-262 (JSON Schema's regex dialect) and Python's re differ where it matters for
# facts: Python's `$` also matches before a trailing newline ("2000000\n" would pass
# ^[0-9]+$), and its \d and \w take every Unicode digit and letter. A pattern is
# translated once: `$` becomes \Z, \d and \w their ASCII classes, \s ECMA's spaces.
_ECMA_SPACES = "\\s\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_ECMA_CLASSES = {"d": "0-9", "w": "A-Za-z0-9_", "s": _ECMA_SPACES}
_ECMA_CACHE: dict = {}


def ecma_regex(pattern: str):
    """A compiled Python regex with the meaning the pattern has in ECMA-262 (unicode mode off,
    no flags), for `search` as JSON Schema's `pattern` uses it."""
    compiled = _ECMA_CACHE.get(pattern)
    if compiled is None:
        import re
        out, i, in_class = [], 0, False
        while i < len(pattern):
            ch = pattern[i]
            if ch == "\\" and i + 1 < len(pattern):
                nxt = pattern[i + 1]
                if nxt.lower() in _ECMA_CLASSES:
                    chars = _ECMA_CLASSES[nxt.lower()]
                    negated = nxt.isupper()
                    if in_class and not negated:
                        out.append(chars)
                    elif in_class:   # a negated class inside a class: keep Python's (ASCII, below)
                        out.append(ch + nxt)
                    else:
                        out.append(f"[{'^' if negated else ''}{chars}]")
                else:
                    out.append(ch + nxt)
                i += 2
                continue
            if in_class:
                in_class = ch != "]"
            elif ch == "[":
                in_class = True
                if pattern[i + 1:i + 2] == "]":   # '[]' matches nothing in ECMA; Python reads ']' as a member
                    out.append("(?!)")
                    i += 2
                    in_class = False
                    continue
            elif ch == "$":
                ch = r"\Z"
            out.append(ch)
            i += 1
        compiled = _ECMA_CACHE[pattern] = re.compile("".join(out), re.ASCII)
    return compiled


def format_ok(value: str, name: str) -> bool:
    """The format checks the validator uses, for the fast check too."""
    return _FORMAT_CHECKS[name](value)


def _format_checker():
    from jsonschema import FormatChecker
    checker = FormatChecker(formats=())
    for name, fn in _FORMAT_CHECKS.items():
        checker.checks(name)(fn)
    return checker


class LazyValidator:
    """A Draft 2020-12 validator built on first use."""

    def __init__(self, schema: dict):
        self.schema = schema
        self._real = None

    @property
    def real(self):
        if self._real is None:
            self._real = _ecma_validator_class()(self.schema, format_checker=_format_checker())
        return self._real

    def iter_errors(self, instance):
        return self.real.iter_errors(instance)

    def is_valid(self, instance) -> bool:
        return self.real.is_valid(instance)

    def check_schema(self, schema: dict) -> None:
        self.real.check_schema(schema)


_VALIDATOR_CLASS = None


def _ecma_validator_class():
    """Draft 2020-12 with `pattern` matched as ECMA-262 matches it (jsonschema's own uses re.search)."""
    global _VALIDATOR_CLASS
    if _VALIDATOR_CLASS is None:
        from jsonschema import Draft202012Validator, ValidationError, validators

        def pattern(validator, patrn, instance, schema):
            if validator.is_type(instance, "string") and not ecma_regex(patrn).search(instance):
                yield ValidationError(f"{instance!r} does not match {patrn!r}")
        _VALIDATOR_CLASS = validators.extend(Draft202012Validator, {"pattern": pattern})
    return _VALIDATOR_CLASS


def parse_timestamp(value: str) -> datetime:
    """An ISO 8601 timestamp with a time zone ('Z' or an offset). Raises ValueError."""
    text = value.strip()
    if "T" not in text and " " not in text:
        raise ValueError("a timestamp needs a time")
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("a timestamp needs a time zone ('Z' or an offset such as +00:00)")
    return parsed


def load_schema(path: Path) -> dict:
    """A JSON schema file, numbers as Decimal so that no float creeps in."""
    return json.loads(Path(path).read_text(encoding="utf-8"), parse_float=Decimal)


def validator_for(schema: dict) -> LazyValidator:
    return LazyValidator(schema)


def show(value) -> str:
    """A found value as a person reads it: JSON, Decimals in plain text (engine.values)."""
    return _show(value, "found")


def _expected(error) -> str:
    title = error.schema.get("title") if isinstance(error.schema, dict) else None
    if title:
        return title
    v = error.validator
    if v == "type":
        return f"a value of type {error.validator_value}"
    if v == "enum":
        return "one of " + ", ".join(str(x) for x in error.validator_value)
    if v == "const":
        return show(error.validator_value)
    if v == "pattern":
        return f"text matching {error.validator_value}"
    if v == "format":
        return f"a valid {error.validator_value}"
    if v == "minLength":
        return "a non-empty string"
    if v in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        return f"a number with {v} {error.validator_value}"
    return error.message


def _pick_branch(error):
    """For a failed anyOf/oneOf, the errors of the branch the author most likely meant."""
    branches: dict = {}
    for sub in error.context or ():
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    plausible = [errs for errs in branches.values()
                 if not any(e.validator == "type" and not e.relative_path for e in errs)]
    if not plausible:
        return None
    return min(plausible, key=len)


def explain(validator, instance):
    """Yield (path tuple, message, points_at_key) for every schema error in instance."""
    for error in validator.iter_errors(instance):   # in the schema's order: as a person reads the file
        yield from _explain(error)


def _explain(error):
    path = tuple(error.absolute_path)
    v = error.validator
    if v in ("anyOf", "oneOf") and (isinstance(error.instance, dict) or not (error.schema or {}).get("title")):
        branch = _pick_branch(error)
        if branch:
            for sub in branch:
                yield from _explain(sub)
            return
    if v == "additionalProperties":
        known = list(error.schema.get("properties", {}))
        extras = [k for k in error.instance if k not in error.schema.get("properties", {})]
        for key in extras:
            hint = did_you_mean(key, known)
            allowed = "" if hint else (f"; expected one of: {', '.join(known)}" if known else "")
            yield path + (key,), f"unknown key '{key}'{hint}{allowed}", True
        return
    if v == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        unknown = [k for k in error.instance if k not in (error.schema.get("properties") or {})]
        for key in missing:
            if did_you_mean(key, unknown):   # reported as a misspelt key instead
                continue
            yield path, f"missing required key '{key}'", False
        return
    if v == "propertyNames":
        yield path + (error.instance,), f"'{error.instance}' is not a valid name: expected {_expected(error)}", True
        return
    if v == "minItems":
        yield path, f"expected at least {error.validator_value} item(s), found {len(error.instance)}", False
        return
    hint = ""
    if v == "enum" and isinstance(error.instance, str):
        hint = did_you_mean(error.instance, [str(x) for x in error.validator_value])
    yield path, f"expected {_expected(error)}, found {show(error.instance)}{hint}", False


def json_path(path) -> str:
    """('orders', 0, 'lines', 3, 'qty') -> 'orders[0].lines[3].qty'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def deref(node, root):
    """A schema node with its local $ref (#/...) followed."""
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/") and seen < 32:
        target = root
        for part in node["$ref"][2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node, seen = target, seen + 1
    return node


def value_type(node, root):
    """The static type (engine.types) of the values a facts-schema node admits, or None when
    the schema does not say (no `type`, or an object with named fields)."""
    from .. import types as T
    node = deref(node, root)
    if not isinstance(node, dict):
        return None
    if "const" in node:
        node = {**node, "enum": [node["const"]]}
    if "enum" in node:
        values = node["enum"]
        t = None
        for v in values:
            vt = T.NULL if v is None else (T.INTEGER if isinstance(v, int) and not isinstance(v, bool) else T.of_value(v))
            t = vt if t is None else T.join(t, vt)
            if t is None:
                return None
        return t
    branches = node.get("anyOf") or node.get("oneOf")
    if branches:
        kinds = [value_type(b, root) for b in branches]
        if any(k is None for k in kinds):
            return None
        # our facts convention: a decimal is a JSON number, or the same number as text
        if any(k.kind in ("decimal", "integer") for k in kinds) and \
                all(k.kind in ("decimal", "integer", "text") for k in kinds if k.kind != "null"):
            opt = any(k.kind == "null" or k.optional for k in kinds)
            return T.Type("decimal", optional=opt)
        t = kinds[0]
        for k in kinds[1:]:
            t = T.join(t, k)
            if t is None:
                return None
        return t
    names = node.get("type")
    if names is None:
        for sub in node.get("allOf") or ():
            t = value_type(sub, root)
            if t is not None:
                return t
        return None
    t = None
    for name in names if isinstance(names, list) else [names]:
        if name == "string":
            nt = T.DATE if node.get("format") == "date" else T.TEXT
        elif name == "integer":
            nt = T.bounded(T.INTEGER, *_bounds(node, integer=True))
        elif name == "boolean":
            nt = T.BOOLEAN
        elif name == "number":
            nt = T.bounded(T.DECIMAL, *_bounds(node, integer=False))
        elif name == "null":
            nt = T.NULL
        elif name == "array":
            item = value_type(node.get("items", {}), root) if node.get("items") not in (None, True, {}) else T.ANY
            if item is None:
                return None
            nt = T.list_of(item)
        elif name == "object":
            extra = node.get("additionalProperties")
            if node.get("properties") or not isinstance(extra, dict):
                return None   # an object with named fields: read its fields, not the object
            value = value_type(extra, root)
            key = value_type({"type": "string", **(deref(node.get("propertyNames", {}), root) or {})}, root) \
                if isinstance(node.get("propertyNames"), dict) else T.TEXT
            if value is None or key is None:
                return None
            nt = T.map_of(key, value)
        else:
            return None
        t = nt if t is None else T.join(t, nt)
        if t is None:
            return None
    return t


def _bounds(node, integer: bool):
    """(lowest, highest) a number node admits, inclusive (None: open). An exclusive bound
    is kept for integers only (the next whole number); for a decimal it has no inclusive
    form, so it is left open: the bounds only ever say less than the schema."""
    def number(key):   # beyond what a facts number can be (40 digits), a bound says nothing
        v = node.get(key)
        if not isinstance(v, (int, Decimal)) or isinstance(v, bool):
            return None
        v = Decimal(str(v))
        return v if v.is_finite() and v.adjusted() < 40 else None
    lo, hi = number("minimum"), number("maximum")
    if integer:
        lo = lo.to_integral_value(rounding="ROUND_CEILING") if lo is not None else None
        hi = hi.to_integral_value(rounding="ROUND_FLOOR") if hi is not None else None
        xlo, xhi = number("exclusiveMinimum"), number("exclusiveMaximum")
        if xlo is not None:
            k = xlo.to_integral_value(rounding="ROUND_FLOOR") + 1
            lo = k if lo is None else max(lo, k)
        if xhi is not None:
            k = xhi.to_integral_value(rounding="ROUND_CEILING") - 1
            hi = k if hi is None else min(hi, k)
    return lo, hi


def problem_of(node, root, value) -> str | None:
    """Why value is not valid for a schema node of root (its first error), or None."""
    schema = {**node, "$defs": root.get("$defs", {})} if isinstance(node, dict) else node
    from .fast import compile_schema
    quick = compile_schema(schema)
    if quick is not None and quick(value):   # valid: jsonschema (and its import) only to explain
        return None
    for _path, message, _key in explain(validator_for(schema), value):
        return message
    return None


def can_be_absent(root, base, path) -> bool:
    """Whether the value at path (property names below the node at base) can be left out
    of valid facts: some key on the way is not required."""
    node = node_at(root, base)
    for part in path:
        node = deref(node, root)
        if not isinstance(node, dict) or part not in (node.get("required") or ()):
            return True
        node = (node.get("properties") or {}).get(part)
    return False


def node_at(root, base):
    """The schema node at a path of property names, '[]' (array items) and '{}' (object values)."""
    node = root
    for part in base:
        node = deref(node, root)
        if not isinstance(node, dict):
            return None
        if part == "[]":
            node = node.get("items")
        elif part == "{}":
            node = node.get("additionalProperties")
        else:
            node = (node.get("properties") or {}).get(part)
    return deref(node, root)


def schema_problems(schema) -> list[tuple[tuple, str]]:
    """(path in the schema, message) of every way a schema is not valid JSON Schema (draft
    2020-12), in the words of explain: `"type": "integr"` -> expected one of array, boolean,
    integer, ..., found "integr"; did you mean 'integer'?"""
    meta = _ecma_validator_class()
    return [(path, message) for path, message, _key in explain(LazyValidator(meta.META_SCHEMA), schema)]


def follow(root, node, parts):
    """Walk property names down from a schema node: (the node reached, None) or, where a name
    is not a property, (None, (its index, the property names there))."""
    for i, part in enumerate(parts):
        here = deref(node, root)
        props = (here.get("properties") or {}) if isinstance(here, dict) else {}
        if part not in props:
            return None, (i, list(props))
        node = props[part]
    return deref(node, root), None


__all__ = ["explain", "json_path", "load_schema", "validator_for", "parse_timestamp", "show", "LazyValidator",
           "deref", "value_type", "problem_of", "can_be_absent", "node_at", "follow"]
