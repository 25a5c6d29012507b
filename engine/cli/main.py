"""Entry point: parse arguments, dispatch to a subcommand, turn errors into exit codes.

Exit codes (DESIGN section 4): 0 ok, 1 rule errors (or failing cases), 2 bad facts or
arguments, no version in effect, 3 an internal error (a bug), 4 the rules could not decide
for these facts (an evaluation error: a division by zero the rule does not guard, the
time limit).
"""
from __future__ import annotations

import argparse
import sys

from ..errors import Diagnostic, FactsError, PolicyError
from . import bundle_cmd
from . import compile_cmd
from . import diff_cmd
from . import eval_cmd
from . import impact_cmd
from . import render_cmd
from . import serve_cmd
from . import test_cmd
from . import validate_cmd
from . import versions_cmd

COMMANDS = {"validate": validate_cmd, "versions": versions_cmd, "eval": eval_cmd, "test": test_cmd,
            "render": render_cmd, "diff": diff_cmd, "compile": compile_cmd, "serve": serve_cmd,
            "bundle": bundle_cmd, "impact": impact_cmd}


MAX_FACTS_ERRORS = 20   # printed for one decision; a file with thousands says how many


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own errors: one line, exit 2
        self.print_usage(sys.stderr)
        sys.stderr.write(f"policy: error: {message}\n")
        raise SystemExit(2)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("policy-engine")
    except PackageNotFoundError:   # run from a checkout that was never installed
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="policy", description="Rules-as-data policy engine.")
    parser.add_argument("--version", action="version", version=f"policy {_version()}",
                        help="print the engine's version and exit")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--rules", metavar="DIR", help="rules folder (default: the shipped rules, or $POLICY_RULES)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, module in COMMANDS.items():
        p = sub.add_parser(name, parents=[common], help=module.HELP, description=module.HELP)
        module.add_arguments(p)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command].run(args)
    except PolicyError as exc:
        shown = exc.diagnostics
        if isinstance(exc, FactsError) and len(shown) > MAX_FACTS_ERRORS:   # the rest is more of the same
            shown = shown[:MAX_FACTS_ERRORS] + [Diagnostic("", f"... and {len(shown) - MAX_FACTS_ERRORS} more problems "
                                                               f"in the facts ({len(shown)} in all)")]
        for diag in shown:
            print(f"policy: {diag}" if not diag.where else str(diag), file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # e.g. `policy eval ... | head`
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: still one line for a person, never a traceback
        print(f"policy: internal error ({type(exc).__name__}: {exc}); this is a bug in the engine, "
              "please report it with the command that caused it", file=sys.stderr)
        return 3


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry()
