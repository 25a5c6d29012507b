"""A decision by the version's generated code (engine.compile.generate), when it can make
it: the facts pass its checks and nothing raises. Otherwise None, and the interpreter
decides from the start, so every error, warning and explanation is the interpreter's own.
The trace, the conditions raised and the rows reached (for coverage) are the
interpreter's too, worked out when first read."""
from __future__ import annotations

import decimal
import threading

from . import versions
from .items import read_top_inputs
from ..report.decision import one_line
from .evaluate import CONTEXT, Deadline
from .support import parse_line

_LOCAL = threading.local()


def _context() -> decimal.Context:
    """This thread's copy of the engine's context: set as current for a generated decision
    (cheaper than localcontext, which copies the context each time)."""
    ctx = getattr(_LOCAL, "context", None)
    if ctx is None:
        ctx = _LOCAL.context = CONTEXT.copy()
    return ctx


def parse(text):
    """(JSON facts as plain data, the most keys the text can hold) for generated code, or None."""
    try:
        data, keys = parse_line(text.decode("utf-8") if isinstance(text, bytes) else text)
    except Exception:
        return None
    return (data, keys) if type(data) is dict else None


def decide(rules, policy, all_versions, facts, as_of, known_at, version, deadline, facts_name, owned=False,
           keys=None):
    """(version used, as_of, result, warnings) by generated code, or None. owned: the facts
    were parsed for this decision alone, and reading may empty their lists as it goes; keys:
    how many keys their text can hold (parse_line), which reading must find, else a key
    was there twice."""
    saved = decimal.getcontext()
    decimal.setcontext(_context())
    try:
        if version is not None:
            chosen = versions.pinned(policy, all_versions, version)
        else:
            selected_as_of = as_of if as_of is not None else \
                rules._default_as_of(policy, all_versions, facts, known_at, facts_name)
            chosen = versions.select(policy, all_versions, selected_as_of, known_at)
        day = as_of
        if day is None and chosen.dated:   # the shared values in effect depend on it: read it first
            if chosen.as_of_default is not None:   # as the interpreter reads it
                wanted = [r.target for r in chosen.as_of_default.refs if r.kind == "value"]
                day = rules.as_of_from(chosen, read_top_inputs(chosen, facts, facts_name, wanted))
            day = day or known_at.date()
        variant = chosen.for_dates(day, known_at) if day is not None else chosen
        code = variant.generated
        run = code.get("run")
        if run is None:
            return None
        stray = rules.as_of_warning(chosen, facts, as_of, facts_name) if as_of is not None else None
        read = code["read"] if keys is not None else code["read_uncounted"]
        state, found, read_day = read(facts, owned, deadline.at_ns)
        if keys is not None and found != keys:
            return None
        as_of = day or read_day or known_at.date()
        result, warnings = run(state, deadline.at_ns)
        if stray is not None:
            warnings = [*warnings, stray]
    except Exception:   # whatever it is, the interpreter says it
        return None
    finally:
        decimal.setcontext(saved)
    return variant, as_of, result, warnings


# -- a batch line, as `policy eval --batch` writes it ----------------------------------------------

def line(rules, policy: str, raw: bytes, options: dict, facts_name: str) -> str | None:
    """The output line (no trace) for a facts line, or None: the interpreter decides it."""
    parsed = parse(raw)
    if parsed is None:
        return None
    facts, keys = parsed
    from .ruleset import _now, _parse_as_of, _parse_known_at
    try:   # the same for every line: read once
        key = (options["known_at"], options["as_of"])
        if key not in _OPTIONS:
            if len(_OPTIONS) > 16:
                _OPTIONS.clear()
            _OPTIONS[key] = (_parse_known_at(key[0]) if key[0] is not None else None,
                             _parse_as_of(key[1]) if key[1] is not None else None)
        known_at, as_of = _OPTIONS[key]
        known_at = known_at or _now()
        all_versions = rules.versions(policy)
    except Exception:
        return None
    fast = decide(rules, policy, all_versions, facts, as_of, known_at, options["version"], Deadline(), facts_name,
                  owned=True, keys=keys)
    del facts
    if fast is None:
        return None
    variant, as_of, result, warnings = fast
    return one_line(variant, as_of, known_at, result, warnings)


_OPTIONS: dict = {}   # (known_at, as_of) as given -> as read
