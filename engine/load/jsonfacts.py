"""Facts as JSON: strict parsing to plain data with Decimals. Numbers are read from their
text; NaN, Infinity, exponents and duplicate object keys are refused; nesting is bounded.
Every error names its JSON path."""
from __future__ import annotations

import json
import math
import re
from decimal import Decimal

from ..check import schema as schemacheck
from ..errors import Diagnostic, FactsError

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

    try:
        out = _walk(data, (), 0, errors, name)   # a module function: no closure cycle
    except RecursionError:  # pragma: no cover - bounded by MAX_DEPTH
        raise FactsError(Diagnostic(name, "facts nested too deeply")) from None
    if errors:
        raise FactsError(errors)
    return out


def _walk(value, path, depth, errors, name):
    """clean's walk: the value checked and normalised, problems into errors."""
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
            errors.append(_at(name, path, "text that is not valid Unicode "
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
        return {str(k): _walk(v, path + (k,), depth + 1, errors, name) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_walk(v, path + (i,), depth + 1, errors, name) for i, v in enumerate(value)]
    return value
