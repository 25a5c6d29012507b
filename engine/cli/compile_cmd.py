"""`policy compile POLICY [--version V]`: the Python generated for a version (engine.compile.
generate), as it runs: read(facts), run(state, at_ns), result_json(result)."""
from __future__ import annotations

import sys

from ..errors import UsageError
from ..run.ruleset import _now, _parse_as_of, _parse_known_at
from ..run.versions import pinned
from .common import rules_from

HELP = "print the Python generated for a policy version (what decides it, where it can)"


def add_arguments(parser) -> None:
    parser.add_argument("policy")
    parser.add_argument("--version", metavar="V", help="the version id (default: the newest)")
    parser.add_argument("--as-of", metavar="DATE", help="with shared dated values: those in effect on this date "
                                                        "(default: the version's own effective date)")
    parser.add_argument("--known-at", metavar="TS", help="with --as-of: what was published by then (default: now)")


def run(args) -> int:
    versions = list(rules_from(args).versions(args.policy))
    version = pinned(args.policy, versions, args.version) if args.version else versions[-1]
    if args.known_at and not args.as_of:
        raise UsageError("--known-at goes with --as-of")
    if args.as_of:
        known_at = _parse_known_at(args.known_at) if args.known_at else _now()
        version = version.for_dates(_parse_as_of(args.as_of), known_at)
    code = version.generated
    if "source" not in code:
        print(f"# {version.policy} {version.version}: no generated code; the interpreter decides it "
              f"({code.get('unsupported', 'not generated')})")
        return 0
    sys.stdout.write(code["source"])
    return 0
