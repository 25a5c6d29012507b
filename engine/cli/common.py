"""What several subcommands share: loading the rule set named by --rules."""
from __future__ import annotations

import gc

from ..run.ruleset import RuleSet, load_rules


def rules_from(args, check_schemas: bool = True) -> RuleSet:
    rules = load_rules(args.rules, check_schemas=check_schemas)
    frozen()
    return rules


def frozen() -> None:
    """The loaded rules are for the life of the process: out of the garbage collector's sight
    (gc.freeze), so that its collections during decisions do not walk them again and again."""
    gc.collect()
    gc.freeze()
