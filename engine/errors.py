"""Typed errors. Each carries diagnostics meant for a person, never a traceback."""
from __future__ import annotations

from dataclasses import dataclass
import difflib


@dataclass(frozen=True)
class Diagnostic:
    """One problem: where it is (file:line:col or a facts JSON path) and what is wrong."""

    where: str
    message: str
    path: str | None = None    # facts: the JSON path of the value at fault ('' or None: the top level)

    def __str__(self) -> str:
        return ": ".join(part for part in (self.where, self.path, self.message) if part)


class PolicyError(Exception):
    """Base of every error the engine raises on purpose. `exit_code` follows the CLI contract.
    The same problem found twice (by two checks, or two passes) is reported once."""

    exit_code = 2

    def __init__(self, diagnostics):
        if isinstance(diagnostics, (str, Diagnostic)):
            diagnostics = [diagnostics]
        diagnostics = [d if isinstance(d, Diagnostic) else Diagnostic("", d) for d in diagnostics]
        self.diagnostics = list(dict.fromkeys(diagnostics))
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class RuleError(PolicyError):
    """A rule file (or the rule set) is malformed. Exit 1."""

    exit_code = 1


class FactsError(PolicyError):
    """The facts are malformed: messages name the JSON path. Exit 2."""


class UsageError(PolicyError):
    """Bad arguments: unknown policy or version, bad date. Exit 2."""


class NoVersionError(UsageError):
    """No version of the policy is in effect for the as_of / known_at given. Exit 2."""


class RunError(PolicyError):
    """A run over many lines could not be completed (a worker process died, the cluster went
    away): there is no report, rather than a partial one presented as whole."""
    exit_code = 2


class EvaluationError(PolicyError):
    """The rules could not decide for these (valid) facts: a division by zero the rule does
    not guard, a number out of range, an empty list where one value is needed, the time
    limit. Exit 4. `reason` says which: arithmetic, data, time_limit, or type (a kind of
    value the rule did not expect: load-time checks exist so that this never happens)."""

    exit_code = 4

    def __init__(self, diagnostics, reason: str = "data"):
        super().__init__(diagnostics)
        self.reason = reason


class MissingKey(EvaluationError):
    """A key looked up in a facts map is not there: the facts are incomplete. Reported as
    a FactsError (exit 2) naming where the lookup was made."""


def did_you_mean(name: str, candidates) -> str:
    """'; did you mean 'x'?' when a candidate is close, else ''."""
    candidates = [str(c) for c in candidates]
    close = difflib.get_close_matches(str(name), candidates, n=1, cutoff=0.6)
    if not close:   # HALF_UP for half_up: the same word in another case
        lower = {c.lower(): c for c in candidates}
        close = [lower[m] for m in difflib.get_close_matches(str(name).lower(), list(lower), n=1, cutoff=0.6)]
    return f"; did you mean '{close[0]}'?" if close and close[0] != str(name) else ""
