"""`policy eval POLICY --facts FILE`: one decision, as JSON or as text."""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import UsageError
from .common import rules_from

HELP = "evaluate one decision from a facts file ('-' reads standard input)"


def add_arguments(parser) -> None:
    parser.add_argument("policy")
    parser.add_argument("--facts", required=True, metavar="FILE", help="facts JSON file, or - for standard input")
    parser.add_argument("--as-of", metavar="DATE", help="the date the decision is for (default: from the facts)")
    parser.add_argument("--known-at", metavar="TS", help="what was published by then counts (default: now)")
    parser.add_argument("--version", metavar="V", help="pin a version id; skips date selection")
    parser.add_argument("--format", choices=("json", "text"), default="json")


def read_facts(name: str) -> tuple[bytes, str]:
    if name == "-":
        return sys.stdin.buffer.read(), "<stdin>"
    path = Path(name)
    try:
        return path.read_bytes(), name
    except OSError as exc:
        raise UsageError(f"--facts: cannot read {name}: {exc.strerror}") from None


def run(args) -> int:
    rules = rules_from(args)
    rules.versions(args.policy)   # unknown policy: say so before reading facts
    raw, name = read_facts(args.facts)
    decision = rules.evaluate(args.policy, raw, as_of=args.as_of, known_at=args.known_at,
                              version=args.version, facts_name=name)
    # Built completely before anything is written: nothing is half-written on error.
    out = decision.to_json() + "\n" if args.format == "json" else decision.to_text()
    sys.stdout.write(out)
    return 0
