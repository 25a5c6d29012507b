"""`policy diff POLICY OLD NEW [--format text|md|html]`: what a revision changes."""
from __future__ import annotations

import sys

from ..report.diff import diff_document
from ..report.document import write
from ..run.versions import pinned
from .common import rules_from

HELP = "what changes between two versions: in the data, and in the outcome of every case"


def add_arguments(parser) -> None:
    parser.add_argument("policy")
    parser.add_argument("old", metavar="OLD", help="the earlier version id")
    parser.add_argument("new", metavar="NEW", help="the later version id")
    parser.add_argument("--format", choices=("text", "md", "html"), default="text",
                        help="plain text, Markdown, or HTML with the chart")


def run(args) -> int:
    rules = rules_from(args)
    versions = list(rules.versions(args.policy))
    old, new = pinned(args.policy, versions, args.old), pinned(args.policy, versions, args.new)
    doc = diff_document(rules, args.policy, old, new, with_chart=args.format == "html")
    sys.stdout.write(write(doc, args.format))
    return 0
