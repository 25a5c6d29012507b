"""What several subcommands share: loading the rule set named by --rules."""
from __future__ import annotations

from ..run.ruleset import RuleSet, load_rules


def rules_from(args, check_schemas: bool = True) -> RuleSet:
    return load_rules(args.rules, check_schemas=check_schemas)
