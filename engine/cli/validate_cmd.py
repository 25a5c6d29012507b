"""`policy validate`: check every rule file; list assumed values."""
from __future__ import annotations

import sys

from ..run.ruleset import case_failures
from .common import rules_from

HELP = "check every rule file; errors as path:line:col: message (exit 1); assumptions and warnings listed (exit 0)"


def add_arguments(parser) -> None:
    parser.add_argument("--quiet", action="store_true", help="print nothing when all is well")
    parser.add_argument("--cases", action="store_true",
                        help="also run every case of every policy: the check a service's reload makes before it "
                             "activates a rule set (exit 1 if any case fails)")


def run(args) -> int:
    rules = rules_from(args)
    if args.cases:
        failures = case_failures(rules)
        for d in failures:
            print(d, file=sys.stderr)
        if failures:
            return 1
    versions = [v for vs in rules.policies.values() for v in vs]
    if not args.quiet:
        shown = []   # a shared file's assumption is listed once, not once per version using it
        for pairs in [sh.assumptions() for sh in rules.shared.values()] + [v.assumptions() for v in versions]:
            shown += [pair for pair in pairs if pair not in shown]
        for where, what in shown:
            print(f"{where}: assumed: {what}")
        for v in versions:
            for w in v.warnings:
                print(f"{w.where}: warning: {w.message}")
        count = sum(len(v.warnings) for v in versions)
        print(f"ok: {len(rules.policies)} policies, {len(versions)} versions in {rules.root}"
              + (f"; {count} warning(s)" if count else "") + ("; every case passes" if args.cases else ""))
    return 0
