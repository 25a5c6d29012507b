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
from .evaluate import CONTEXT

_LOCAL = threading.local()


def _context() -> decimal.Context:
    """This thread's copy of the engine's context: set as current for a generated decision
    (cheaper than localcontext, which copies the context each time)."""
    ctx = getattr(_LOCAL, "context", None)
    if ctx is None:
        ctx = _LOCAL.context = CONTEXT.copy()
    return ctx


def decide(rules, policy, all_versions, facts, as_of, known_at, version, deadline, facts_name):
    """(version used, as_of, result, warnings) by generated code, or None."""
    saved = decimal.getcontext()
    decimal.setcontext(_context())
    try:
        if version is not None:
            chosen = versions.pinned(policy, all_versions, version)
        else:
            selected_as_of = as_of if as_of is not None else \
                rules._default_as_of(policy, all_versions, facts, known_at, facts_name)
            chosen = versions.select(policy, all_versions, selected_as_of, known_at)
        if as_of is None:
            if chosen.as_of_default is not None:   # read as the interpreter reads it
                wanted = [r.target for r in chosen.as_of_default.refs if r.kind == "value"]
                as_of = rules.as_of_from(chosen, read_top_inputs(chosen, facts, facts_name, wanted))
            as_of = as_of or known_at.date()
        variant = chosen.for_dates(as_of, known_at)
        code = variant.generated
        run = code.get("run")
        if run is None:
            return None
        state = code["read"](facts)
        result, warnings = run(state, deadline.at_ns)
    except Exception:   # whatever it is, the interpreter says it
        return None
    finally:
        decimal.setcontext(saved)
    return variant, as_of, result, warnings
