"""What rule callables (decision tables, tiers) did during one evaluation: the rows they
matched, for the trace, the explanation and coverage, and the warnings they raised.
Recorded per thread, so that one loaded rule set serves many threads."""
from __future__ import annotations

import threading

_LOCAL = threading.local()


def record(entry: dict) -> None:
    calls = getattr(_LOCAL, "calls", None)
    if calls is not None:
        calls.append(entry)


def warn(code: str, message: str) -> None:
    warnings = getattr(_LOCAL, "warnings", None)
    if warnings is not None:
        warnings.append((code, message))


class Recording:
    """with Recording() as r: ...; then r.calls and r.warnings."""

    def __enter__(self):
        self.saved = (getattr(_LOCAL, "calls", None), getattr(_LOCAL, "warnings", None))
        _LOCAL.calls, _LOCAL.warnings = [], []
        return self

    def __exit__(self, *exc):
        self.calls, self.warnings = _LOCAL.calls, _LOCAL.warnings
        _LOCAL.calls, _LOCAL.warnings = self.saved
        return False
