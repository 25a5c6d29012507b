"""`policy render POLICY [--version V] [--format text|md|html]`: a version as a document."""
from __future__ import annotations

import sys

from ..report.document import write
from ..report.render import render
from ..run.versions import pinned
from .common import rules_from

HELP = "a policy version as a document for reviewers (plain text, Markdown or HTML)"


def add_arguments(parser) -> None:
    parser.add_argument("policy")
    parser.add_argument("--version", metavar="V", help="a version id (default: the latest)")
    parser.add_argument("--format", choices=("text", "md", "html"), default="md")


def run(args) -> int:
    versions = rules_from(args).versions(args.policy)
    version = pinned(args.policy, list(versions), args.version) if args.version else versions[-1]
    sys.stdout.write(write(render(version), args.format))
    return 0
