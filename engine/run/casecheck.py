"""What can be known of a case before it runs, checked when it loads: each version it names
exists, each expectation checks something, each expected result key is one the version
gives (with the shape it has: a value, an object, a list of objects), each warning code is
one the version can raise, and the facts fit the version's facts schema."""
from __future__ import annotations

from ..check import facts as facts_check
from ..compile.model import ResultField, Version
from ..errors import Diagnostic, did_you_mean
from .. import types as T
from ..kinds import SECTIONS
from ..values import show

_VIOLATION_KEYS = ("code", "message")


def warning_codes(version: Version) -> set:
    """Every warning code a decision of this version can carry."""
    codes = {c.code for c in version.conditions if c.severity == "warning"}
    for section, kind in SECTIONS.items():
        for obj in getattr(version, section).values():
            codes |= kind.warning_codes(obj)
    return codes


def expectation_problems(src, at: tuple, entry: dict, version: Version) -> list[Diagnostic]:
    """The problems of one version's expectation, each at its file:line:col."""
    problems = []
    result = entry.get("result")
    if not result and "warnings" not in entry:
        what = "result: {}" if "result" in entry else "nothing"
        return [src.diag(at, f"this expectation checks nothing ({what}): give the result keys to compare, "
                             f"or warnings: [] to say there are none")]
    if result:
        _result_keys(src, at + ("result",), result, version.result, problems, version.version, version.result_types)
    if entry.get("warnings"):
        known = warning_codes(version)
        for i, code in enumerate(entry["warnings"]):
            if code not in known:
                raisable = ", ".join(sorted(known)) or "none"
                problems.append(src.diag(at + ("warnings", i), f"version {version.version} never raises the warning "
                                         f"'{code}'{did_you_mean(code, known)} (its warnings: {raisable})"))
    return problems


def _result_keys(src, at, expected: dict, fields: tuple[ResultField, ...], problems, version: str, result_types):
    by_key = {f.key: f for f in fields}
    for key, value in expected.items():
        here = at + (key,)
        field = by_key.get(key)
        if field is None:
            problems.append(src.diag(here, f"'{key}' is not a result key of version {version}{did_you_mean(key, by_key)} "
                                           f"(its keys: {', '.join(by_key)})", key=True))
        elif field.kind == "object":
            if value is not None and _shape(src, here, value, dict, "an object (or null)", problems) and not value:
                problems.append(src.diag(here, "an empty mapping checks nothing: give the keys to compare"))
            elif value:
                _result_keys(src, here, value, field.fields, problems, version, result_types)
        elif field.kind in ("each", "violations"):
            if _shape(src, here, value, list, "a list", problems):
                for i, item in enumerate(value):
                    if not _shape(src, here + (i,), item, dict, "an object", problems):
                        continue
                    if field.kind == "each":
                        _result_keys(src, here + (i,), item, field.fields, problems, version, result_types)
                    else:
                        keys = {k: None for k in _VIOLATION_KEYS + (field.item_key_as,)}
                        for k in item:
                            if k not in keys:
                                problems.append(src.diag(here + (i, k), f"a violation has {', '.join(keys)}; "
                                                         f"not '{k}'{did_you_mean(k, keys)}", key=True))
        elif field.kind == "violation_codes":
            _shape(src, here, value, list, "a list of codes", problems)
        elif field.kind == "no_violations":
            _shape(src, here, value, bool, "true or false", problems)
        elif isinstance(value, dict) and field.kind == "value":
            t = result_types.get(id(field))
            if t is not None and t.kind not in ("map", "any"):
                problems.append(src.diag(here, f"'{key}' is a value ({T.show(t)}), not an object: expected a value "
                                               "such as \"12.50\""))


def _shape(src, at, value, kind, what: str, problems) -> bool:
    if isinstance(value, kind):
        return True
    problems.append(src.diag(at, f"expected {what}, found {show(value, 'found')}"))
    return False


def facts_problems(version: Version, facts: dict) -> list[tuple[tuple, str]]:
    """(path, message) of the facts against the version's facts schema."""
    return facts_check.problems(version, facts)


__all__ = ["warning_codes", "expectation_problems", "facts_problems"]
