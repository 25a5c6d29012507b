"""`policy versions POLICY`: the versions with their dates."""
from __future__ import annotations

from ..run.versions import fmt_ts
from .common import rules_from

HELP = "list a policy's versions with their effective and published dates"


def add_arguments(parser) -> None:
    parser.add_argument("policy")


def run(args) -> int:
    versions = rules_from(args).versions(args.policy)
    rows = [("version", "effective_from", "published", "title")]
    rows += [(v.version, str(v.effective_from), fmt_ts(v.published), v.title) for v in versions]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[3])
    return 0
