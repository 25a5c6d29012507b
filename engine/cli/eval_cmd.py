"""`policy eval POLICY --facts FILE`: one decision, as JSON or as text.
`policy eval POLICY --batch FILE.jsonl`: one decision per line, streaming."""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import PolicyError, UsageError
from .common import rules_from

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
    raw, name = read_facts(args.facts)
    decision = rules.evaluate(args.policy, raw, as_of=args.as_of, known_at=args.known_at,
                              version=args.version, facts_name=name)
    # Built completely before anything is written: nothing is half-written on error.
    out = decision.to_json() + "\n" if args.format == "json" else decision.to_text()
    sys.stdout.write(out)
    return 0


def run_batch(rules, args) -> int:
    """Streaming: one line in, one line out; memory does not grow with the number of lines.
    A bad line gives {"line": N, "error": "..."} in its place and the batch goes on."""
    import json

    from ..run.ruleset import _now, _parse_known_at
    if args.format != "json":
        raise UsageError("--batch writes JSON lines; --format text is for one decision")
    known_at = _parse_known_at(args.known_at) if args.known_at else _now()   # one 'now' for the whole batch
    try:
        stream = sys.stdin.buffer if args.batch == "-" else open(args.batch, "rb")
    except OSError as exc:
        raise UsageError(f"--batch: cannot read {args.batch}: {exc.strerror}") from None
    progress = sys.stderr.isatty()
    failed = worst = 0
    out = sys.stdout
    with stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():   # one line out per line in: an empty line is a bad line
                failed += 1
                worst = max(worst, 2)
                out.write(json.dumps({"line": number, "error": "an empty line: expected one facts object",
                                      "errors": [{"path": "", "message": "an empty line: expected one facts object"}]})
                          + "\n")
                continue
            try:
                d = rules.evaluate(args.policy, line, as_of=args.as_of, known_at=known_at, version=args.version,
                                   facts_name=f"line {number}")
                out.write(d.to_json(indent=None) + "\n")
            except PolicyError as exc:
                failed += 1
                worst = max(worst, exc.exit_code)
                out.write(json.dumps(line_error(number, exc), ensure_ascii=False) + "\n")
            if progress and number % 1000 == 0:
                sys.stderr.write(f"\r{number:,} lines, {failed:,} failed")
                sys.stderr.flush()
    if progress:
        sys.stderr.write("\n")
    # Exit 2 when any line was bad input; 4 when every failure was the rules failing on
    # valid facts (an evaluation error); 0 when every line was decided.
    return 0 if not failed else (4 if worst == 4 else 2)


SHOWN_ERRORS = 3     # named in a bad line's "error" text
LISTED_ERRORS = 10   # listed in its "errors"


def line_error(number: int, exc: PolicyError) -> dict:
    """A bad line's record: {"line", "error", "errors": [{"path", "message"}]}. A line with
    many problems names the first few in "error", with how many there are in all."""
    name = f"line {number}"
    errors = []
    for d in exc.diagnostics:
        message = d.message
        if d.where.startswith(name + ":"):   # a JSON syntax error: line:col within this line
            message = f"column {d.where.rsplit(':', 1)[-1]}: {message}"
        elif d.where and d.where != name:    # a rule file's position (the rules failed on these facts)
            message = f"{d.where}: {message}"
        errors.append({"path": d.path or "", "message": message})
    shown = "; ".join(f"{e['path']}: {e['message']}" if e["path"] else e["message"] for e in errors[:SHOWN_ERRORS])
    if len(errors) > SHOWN_ERRORS:
        shown += f"; and {len(errors) - SHOWN_ERRORS} more ({len(errors)} problems)"
    return {"line": number, "error": shown, "errors": errors[:LISTED_ERRORS]}
