"""`policy impact POLICY OLD NEW --population FILE.jsonl`: what a revision does to a whole
population (DESIGN section 6), streaming, in this process or in N."""
from __future__ import annotations

import sys

from ..errors import UsageError
from .common import progress as progress_of, rules_from

HELP = "what a revision does to a population: every line decided under two versions, totals and moves"


def add_arguments(parser) -> None:
    parser.add_argument("policy")
    parser.add_argument("old", metavar="OLD", help="the version in use")
    parser.add_argument("new", metavar="NEW", help="the revision")
    parser.add_argument("--population", required=True, metavar="FILE.jsonl",
                        help="one facts object a line (or - for standard input)")
    parser.add_argument("--as-of", metavar="DATE", help="the date every decision is for (default: from each line)")
    parser.add_argument("--known-at", metavar="TS", help="what was published by then counts (default: now)")
    parser.add_argument("--format", choices=("json", "text", "md", "html"), default="json")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="decide in N local processes (with --scheduler local: N Dask workers); the report is "
                             "the same bytes")
    parser.add_argument("--scheduler", metavar="local|tcp://HOST:PORT",
                        help="decide on a Dask cluster: a new LocalCluster here, or an existing one "
                             "(pip install -e '.[dask]')")


def run(args) -> int:
    from ..report import impact as report
    from ..report.document import write
    from ..run import impact
    from ..run.ruleset import _now, _parse_as_of, _parse_known_at
    from ..run.versions import pinned
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers: expected a number of processes, 1 or more, found {args.workers}")
    if args.scheduler and args.scheduler != "local" and args.workers is not None:
        raise UsageError("--workers goes with --scheduler local (an existing cluster has the workers it has)")
    rules = rules_from(args, check_schemas=False)
    versions = list(rules.versions(args.policy))
    old, new = pinned(args.policy, versions, args.old), pinned(args.policy, versions, args.new)
    known_at = _parse_known_at(args.known_at) if args.known_at else _now()   # one 'now' for the whole run
    if args.as_of is not None:
        _parse_as_of(args.as_of)   # said now, not once a line
    try:
        stream = sys.stdin.buffer if args.population == "-" else open(args.population, "rb")
    except OSError as exc:
        raise UsageError(f"--population: cannot read {args.population}: {exc.strerror}") from None
    progress = progress_of(stream)   # on a terminal: lines done, the rate, the time left
    with stream:
        if args.scheduler:
            from ..run import impact_dask
            import os
            tally = impact_dask.run(rules, args.policy, old.version, new.version, stream, args.as_of, known_at,
                                    args.scheduler, args.workers or os.cpu_count() or 1, progress)
        else:
            tally = impact.run(rules, args.policy, old.version, new.version, stream, args.as_of, known_at,
                               args.workers or 1, progress)
    if progress:
        progress.done()
    if tally.failed:   # said where a pipeline sees it; the report lists them
        print(f"policy impact: {tally.failed:,} of {tally.population:,} lines failed (listed in the report's "
              "failures); they are not in the totals", file=sys.stderr)
    order = report.order_of(old, new)
    if args.format == "json":
        sys.stdout.write(report.to_json(tally, order))
    else:
        doc = report.document(tally, order, old, new, with_chart=args.format == "html")
        sys.stdout.write(write(doc, args.format))
    return 0
