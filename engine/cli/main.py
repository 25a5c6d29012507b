"""Entry point: parse arguments, dispatch to a subcommand, turn errors into exit codes.

Exit codes (DESIGN section 4): 0 ok, 1 rule errors (or failing cases), 2 bad facts or
arguments, no version in effect.
"""
from __future__ import annotations

import argparse
import sys

from ..errors import PolicyError
from . import diff_cmd, eval_cmd, render_cmd, test_cmd, validate_cmd, versions_cmd

COMMANDS = {"validate": validate_cmd, "versions": versions_cmd, "eval": eval_cmd, "test": test_cmd,
            "render": render_cmd, "diff": diff_cmd}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own errors: one line, exit 2
        self.print_usage(sys.stderr)
        sys.stderr.write(f"policy: error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="policy", description="Rules-as-data policy engine.")
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
        for diag in exc.diagnostics:
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
