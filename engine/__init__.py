"""A rules-as-data policy engine: versioned YAML rules, JSON Schema, a generic interpreter.

    from engine import load_rules
    rules = load_rules()
    decision = rules.evaluate("some-policy", facts, as_of=date(2024, 7, 31))
    decision.result["total"], decision.to_json()
"""
from .report.decision import Decision
from .errors import (Diagnostic, EvaluationError, FactsError, NoVersionError, PolicyError, RuleError,
                     UsageError)
from .run.ruleset import RuleSet, RuleStore, load_rules

__version__ = "0.8.0"

__all__ = ["load_rules", "RuleSet", "RuleStore", "Decision", "Diagnostic", "PolicyError", "RuleError", "FactsError",
           "UsageError", "NoVersionError", "EvaluationError", "__version__"]
