"""Typed errors. Each carries diagnostics meant for a person, never a traceback."""
from __future__ import annotations

from dataclasses import dataclass
import difflib


@dataclass(frozen=True)
class Diagnostic:
    """One problem: where it is (file:line:col or a facts JSON path) and what is wrong."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class PolicyError(Exception):
    """Base of every error the engine raises on purpose. `exit_code` follows the CLI contract."""

    exit_code = 2

    def __init__(self, diagnostics):
        if isinstance(diagnostics, (str, Diagnostic)):
            diagnostics = [diagnostics]
        self.diagnostics = [d if isinstance(d, Diagnostic) else Diagnostic("", d) for d in diagnostics]
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


class EvaluationError(PolicyError):
    """The rules could not be evaluated on these facts (e.g. division by zero). Exit 2."""


class MissingKey(EvaluationError):
    """A key looked up in a facts map is not there: the facts are incomplete (exit 2)."""


def did_you_mean(name: str, candidates) -> str:
    """'; did you mean 'x'?' when a candidate is close, else ''."""
    close = difflib.get_close_matches(str(name), [str(c) for c in candidates], n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
