"""`policy test [POLICY[/CASE]...] [--explain] [--coverage]`: run the YAML cases under each
version they name; one case by `policy/case-name`."""
from __future__ import annotations

from ..run.cases import run_all, select
from ..report.coverage import coverage
from .common import rules_from

HELP = "run the YAML cases in rules/<policy>/cases/; one case by POLICY/CASE (exit 1 if any fails)"


def add_arguments(parser) -> None:
    parser.add_argument("targets", nargs="*", metavar="POLICY[/CASE]",
                        help="only these policies, or one case of a policy (policy/case-name)")
    parser.add_argument("--explain", action="store_true",
                        help="print each decision's text explanation under its line")
    parser.add_argument("--coverage", action="store_true",
                        help="also report which formulas, table rows, tier rows and conditions no case reaches")


def run(args) -> int:
    rules = rules_from(args)
    policies, names = select(rules, args.targets)
    outcomes = run_all(rules, policies, names)
    failed = [o for o in outcomes if not o.passed]
    for o in outcomes:
        print(f"{'PASS' if o.passed else 'FAIL'}  {o.case.policy} {o.version}  {o.case.name}")
        for problem in o.problems:
            print(f"      {problem}")
        if args.explain and o.decision is not None:
            print()
            print("".join(f"      {line}".rstrip() + "\n" for line in o.decision.to_text().splitlines()))
    if args.coverage:
        versions = [v for p in (policies or rules.policies) for v in rules.versions(p)]
        print()
        for cov in coverage(outcomes, versions):
            share, missed = cov.report()
            print(f"coverage {cov.version.policy} {cov.version.version}: {share:.0f}% "
                  f"({len(cov.targets()) - len(missed)} of {len(cov.targets())})")
            for m in missed:
                print(f"      not reached: {m}")
    print(f"cases: {len(outcomes) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0
