"""A decision: the result with everything needed to trust it, as JSON or as text."""
from __future__ import annotations

import json
from functools import cached_property
from datetime import date, datetime

from ..compile.model import Version
from ..values import json_scalar
from ..run.versions import fmt_ts


def to_plain(value):
    """JSON-ready data, as to_json writes it."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return json_scalar(value)


_ENCODERS: dict = {}


def _json_default(value):
    """The JSON encoder's hook for what it cannot write itself."""
    plain = json_scalar(value)
    if plain is value:
        raise TypeError(f"{type(value).__name__} is not JSON")
    return plain


def one_line(version: Version, as_of: date, known_at: datetime, result: dict, warnings: list) -> str | None:
    """A decision of generated code as to_json(indent=None, trace=False) writes it, by the
    version's result template (the same bytes, about twice as fast); None if the template
    cannot write it."""
    key = (id(version), as_of, known_at)
    head = _HEADS.get(key)
    if head is None:
        head = _ONE_LINE({"policy": version.policy, "version": version.version, "digest": version.digest,
                          "as_of": as_of.isoformat(), "known_at": fmt_ts(known_at)})
        head = head[:-1] + ', "result": '
        if len(_HEADS) > 256:
            _HEADS.clear()
        _HEADS[key] = (head, version)   # the version kept alive: its id is not reused meanwhile
    else:
        head = head[0]
    try:
        body = version.generated["result_json"](result)
        tail = _ONE_LINE(warnings)
    except Exception:
        return None
    return f"{head}{body}, \"warnings\": {tail}}}"


_HEADS: dict = {}   # (version, as_of, known_at) -> the line's head


class Decision:
    """version, as_of, known_at, result, warnings; raw_trace, raised (indexes of the
    version's conditions raised) and reached ((table or tiers, row) used), for the trace
    and coverage. A decision made by generated code has a `replay` instead: the
    interpreter's run of the same facts, made the first time one of those three is read."""

    def __init__(self, version: Version, as_of: date, known_at: datetime, result: dict, raw_trace, warnings: list,
                 raised: tuple = (), reached: frozenset = frozenset(), replay=None, keep=None):
        self.version, self.as_of, self.known_at = version, as_of, known_at
        self.result, self.warnings = result, warnings
        self._replay = replay
        self._keep = keep   # the items the trace reads (they name their parents weakly)
        if replay is None:
            self.__dict__.update(raw_trace=raw_trace, raised=raised, reached=reached)

    def _replayed(self):
        rules, *how = self._replay   # (the rule set, then how it was asked): see RuleSet.replayed
        raw_trace, raised, reached, self._keep = rules.replayed(*how)
        self.__dict__.update(raw_trace=raw_trace, raised=raised, reached=reached)

    @cached_property
    def raw_trace(self) -> list:
        self._replayed()
        return self.__dict__["raw_trace"]

    @cached_property
    def raised(self) -> tuple:
        self._replayed()
        return self.__dict__["raised"]

    @cached_property
    def reached(self) -> frozenset:
        self._replayed()
        return self.__dict__["reached"]

    @cached_property
    def trace(self) -> list[dict]:
        """Every named value with the inputs behind it: built when first read, so that a
        caller who wants only the result does not pay for it."""
        from ..run.evaluate import trace_entries
        return trace_entries(self.raw_trace, self.version.plan_order)

    @property
    def policy(self) -> str:
        return self.version.policy

    def _raw(self, trace: bool = True) -> dict:
        head = {"policy": self.version.policy, "version": self.version.version, "digest": self.version.digest,
                "as_of": self.as_of.isoformat(), "known_at": fmt_ts(self.known_at), "result": self.result}
        return {**head, "trace": self.trace, "warnings": self.warnings} if trace else {**head, "warnings": self.warnings}

    def to_dict(self) -> dict:
        """JSON-ready data: Decimals as strings, dates as ISO text."""
        return to_plain(self._raw())

    def to_json(self, indent: int | None = 2, trace: bool = True) -> str:
        """Byte-identical for identical inputs: key order is the rule file's, never a set's.
        Decimals and dates are written by the encoder's hook (no copy of the trace first).
        trace=False leaves the trace out (and it is never built)."""
        if indent is None and not trace and self._replay is not None:   # made by generated code: its template
            text = one_line(self.version, self.as_of, self.known_at, self.result, self.warnings)
            if text is not None:
                return text
        encoder = _ENCODERS.get(indent)
        if encoder is None:   # json.dumps builds one a call: these are built once
            encoder = _ENCODERS[indent] = json.JSONEncoder(indent=indent, ensure_ascii=False,
                                                           default=_json_default).encode
        return encoder(self._raw(trace))

    def to_text(self) -> str:
        from .explain import render_text
        return render_text(self)


_ONE_LINE = json.JSONEncoder(ensure_ascii=False, default=_json_default).encode   # json.dumps, built once
