"""`policy validate`: check every file under the rules folder (rule files, shared data,
cases, charts, and each one's editor modeline); list assumed values and warnings."""
from __future__ import annotations

import sys

from ..errors import Diagnostic, RuleError
from ..load import layout, modeline
from ..report.chart import load_charts
from ..run.cases import load_cases
from ..run.ruleset import _display, case_failures
from .common import rules_from

HELP = "check every rule, case and chart file; errors as path:line:col: message (exit 1); " \
       "assumptions and warnings listed (exit 0)"


def add_arguments(parser) -> None:
    parser.add_argument("--quiet", action="store_true", help="print nothing when all is well")
    parser.add_argument("--cases", action="store_true",
                        help="also run every case of every policy: the check a service's reload makes before it "
                             "activates a rule set (exit 1 if any case fails)")


def _versions_without_cases(rules, cases) -> list[Diagnostic]:
    """A version no case runs: nothing checks what it decides (the test suite fails on it)."""
    named = {(c.policy, str(v)) for c in cases for v in c.expect}
    return [Diagnostic(v.path, f"no case runs version {v.version}: add it under `versions:` of a case in "
                               f"{_display(rules.root / v.policy / 'cases')}/")
            for vs in rules.policies.values() for v in vs if (v.policy, v.version) not in named]


def run(args) -> int:
    rules = rules_from(args)
    errors, warnings = modeline.check_all(rules.root, _display)
    for load in (load_cases, load_charts):   # what can be known of them without running them
        try:
            loaded = load(rules)
        except RuleError as exc:
            errors += exc.diagnostics
            continue
        if load is load_cases:
            warnings += _versions_without_cases(rules, loaded)
    if args.cases and not errors:
        errors += case_failures(rules)
    for d in dict.fromkeys(errors):
        print(d, file=sys.stderr)
    if errors:
        return 1
    versions = [v for vs in rules.policies.values() for v in vs]
    if not args.quiet:
        shown = []   # a shared file's assumption is listed once, not once per version using it
        for pairs in [sh.assumptions() for sh in rules.shared.values()] + [v.assumptions() for v in versions]:
            shown += [pair for pair in pairs if pair not in shown]
        for where, what in shown:
            print(f"{where}: assumed: {what}")
        for w in [w for v in versions for w in v.warnings] + warnings:
            print(f"{w.where}: warning: {w.message}")
        for v in versions:   # not a problem: slower (engine.compile.generate says why)
            if "unsupported" in v.generated:
                print(f"{v.path}: note: decided by the interpreter alone, no generated code "
                      f"({v.generated['unsupported']})")
        count = sum(len(v.warnings) for v in versions) + len(warnings)
        cases = sum(len(layout.case_files(rules.root, p)) for p in rules.policies)
        charts = sum(len(layout.chart_files(rules.root, p)) for p in rules.policies)
        print(f"ok: {len(rules.policies)} policies, {len(versions)} versions, {cases} case{'s' * (cases != 1)}, {charts} chart{'s' * (charts != 1)} in "
              f"{rules.root}" + (f"; {count} warning(s)" if count else "") + ("; every case passes" if args.cases else ""))
    return 0
