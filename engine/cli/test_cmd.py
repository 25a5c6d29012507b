"""`policy test`: run every YAML case under each version it names."""
from __future__ import annotations

from ..run.cases import run_all
from ..report.coverage import coverage
from .common import rules_from

HELP = "run the YAML cases in rules/<policy>/cases/ (exit 1 if any fails)"


def add_arguments(parser) -> None:
    parser.add_argument("policies", nargs="*", metavar="POLICY", help="only these policies")
    parser.add_argument("--coverage", action="store_true",
                        help="also report which formulas, tier rows, bands, switch cases and conditions no case reaches")


def run(args) -> int:
    rules = rules_from(args)
    outcomes = run_all(rules, args.policies or None)
    failed = [o for o in outcomes if not o.passed]
    for o in outcomes:
        print(f"{'PASS' if o.passed else 'FAIL'}  {o.case.policy} {o.version}  {o.case.name}")
        for problem in o.problems:
            print(f"      {problem}")
    if args.coverage:
        versions = [v for p in (args.policies or rules.policies) for v in rules.versions(p)]
        print()
        for cov in coverage(outcomes, versions):
            share, missed = cov.report()
            print(f"coverage {cov.version.policy} {cov.version.version}: {share:.0f}% "
                  f"({len(cov.targets()) - len(missed)} of {len(cov.targets())})")
            for m in missed:
                print(f"      not reached: {m}")
    print(f"cases: {len(outcomes) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0
