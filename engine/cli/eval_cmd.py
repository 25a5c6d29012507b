"""`policy eval POLICY --facts FILE`: one decision, as JSON or as text.
`policy eval POLICY --batch FILE.jsonl`: one decision per line, streaming."""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import UsageError
from .common import progress, rules_from

HELP = "evaluate one decision from a facts file ('-' reads standard input), or a batch of JSON lines"


def add_arguments(parser) -> None:
    parser.add_argument("policy")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--facts", metavar="FILE", help="facts JSON file, or - for standard input")
    source.add_argument("--batch", metavar="FILE", help="JSON lines, one facts object a line (or - for standard "
                                                        "input); one decision a line out, in order")
    parser.add_argument("--as-of", metavar="DATE", help="the date the decision is for (default: from the facts)")
    parser.add_argument("--known-at", metavar="TS", help="what was published by then counts (default: now)")
    parser.add_argument("--version", metavar="V", help="pin a version id; skips date selection")
    parser.add_argument("--format", choices=("json", "text"), default="json")
    parser.add_argument("--trace", action="store_true",
                        help="with --batch: each line carries its trace (left out by default)")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="with --batch: decide in N processes; the output is the same bytes")


def read_facts(name: str) -> tuple[bytes, str]:
    if name == "-":
        return sys.stdin.buffer.read(), "<stdin>"
    path = Path(name)
    try:
        return path.read_bytes(), name
    except OSError as exc:
        raise UsageError(f"--facts: cannot read {name}: {exc.strerror}") from None


def run(args) -> int:
    rules = rules_from(args, check_schemas=False)   # `policy validate` checks the schemas themselves
    rules.versions(args.policy)   # unknown policy: say so before reading facts
    if args.batch is not None:
        return run_batch(rules, args)
    if args.trace or args.workers != 1:
        raise UsageError("--trace and --workers go with --batch (a single decision always carries its trace)")
    raw, name = read_facts(args.facts)
    decision = rules.evaluate(args.policy, raw, as_of=args.as_of, known_at=args.known_at,
                              version=args.version, facts_name=name)
    # Built completely before anything is written: nothing is half-written on error.
    out = decision.to_json() + "\n" if args.format == "json" else decision.to_text()
    sys.stdout.write(out)
    return 0


def run_batch(rules, args) -> int:
    """Streaming, in order (engine.run.batch); exit 2 when any line was bad input, 4 when
    every failure was the rules failing on valid facts, 0 when every line was decided."""
    from ..run import batch
    from ..run.ruleset import _now, _parse_known_at
    if args.format != "json":
        raise UsageError("--batch writes JSON lines; --format text is for one decision")
    if args.workers < 1:
        raise UsageError(f"--workers: expected a number of processes, 1 or more, found {args.workers}")
    known_at = _parse_known_at(args.known_at) if args.known_at else _now()   # one 'now' for the whole batch
    try:
        stream = sys.stdin.buffer if args.batch == "-" else open(args.batch, "rb")
    except OSError as exc:
        raise UsageError(f"--batch: cannot read {args.batch}: {exc.strerror}") from None
    shown = progress(stream)   # on a terminal: lines done, the rate, the time left
    options = {"as_of": args.as_of, "known_at": known_at, "version": args.version, "trace": args.trace}
    with stream:
        failed, worst = batch.run(rules, args.policy, stream, sys.stdout.write, options, args.workers, shown)
    if shown:
        shown.done()
    return 0 if not failed else (4 if worst == 4 else 2)
