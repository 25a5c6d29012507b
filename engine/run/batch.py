"""Batch decisions (DESIGN section 4): one facts object a line in, one line out, in order.

A line out is the decision as `--format json` writes it, on one line and without `trace`
unless asked for; a bad line is {"line": N, "error": "...", "errors": [{"path",
"message"}]} in its place. With workers, chunks of lines go to that many processes, each
with its own copy of the rule set, and come back in order: the output is the same bytes as
with one. Memory stays bounded: a few chunks per worker are in flight, whatever the input's
length."""
from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from itertools import islice

from ..errors import PolicyError
from . import compiled

SHOWN_ERRORS = 3     # named in a bad line's "error" text
LISTED_ERRORS = 10   # listed in its "errors"
CHUNK = 256          # lines a worker decides at a time
AHEAD = 3            # chunks in flight per worker
EMPTY = "an empty line: expected one facts object"


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


def decide_line(rules, policy: str, number: int, line: bytes, options: dict) -> tuple[str, int]:
    """(the output line, without its newline; 0 or the exit code of its failure)."""
    if not line or line.isspace():   # one line out per line in: an empty line is a bad line
        return json.dumps({"line": number, "error": EMPTY, "errors": [{"path": "", "message": EMPTY}]}), 2
    if not options["trace"] and options.get("generated", True):   # the generated code, where it decides
        fast = compiled.line(rules, policy, line, options, f"line {number}")
        if fast is not None:
            return fast, 0
    try:
        d = rules.evaluate(policy, line, as_of=options["as_of"], known_at=options["known_at"],
                           version=options["version"], facts_name=f"line {number}")
        return d.to_json(indent=None, trace=options["trace"]), 0
    except PolicyError as exc:
        return json.dumps(line_error(number, exc), ensure_ascii=False), exc.exit_code


def _decide_chunk(rules, policy, start: int, lines: list, options) -> list[tuple[str, int]]:
    return [decide_line(rules, policy, start + i, line, options) for i, line in enumerate(lines)]


# -- workers: each process loads the rule set once -------------------------------------------------

_WORKER: dict = {}


def _init_worker(root: str) -> None:
    from .ruleset import load_rules
    _WORKER["rules"] = load_rules(root, check_schemas=False)
    from ..cli.common import frozen
    frozen()


def _worker_chunk(policy, start, lines, options):
    return _decide_chunk(_WORKER["rules"], policy, start, lines, options)


def chunks(stream, size: int = CHUNK):
    """(first line number, [lines]) of a stream of lines, read as they are needed."""
    number = 1
    while True:
        lines = list(islice(stream, size))
        if not lines:
            return
        yield number, lines
        number += len(lines)


def run(rules, policy: str, stream, write, options: dict, workers: int = 1, progress=None) -> tuple[int, int]:
    """Decide every line of stream (bytes lines), writing each output line with write(text).
    Returns (lines failed, the worst exit code among them). progress(lines, failed), if
    given, is called every 1,000 lines or so."""
    failed = worst = done = 0

    def emit(results):
        nonlocal failed, worst, done
        for text, code in results:
            write(text + "\n")
            if code:
                failed += 1
                worst = max(worst, code)
            done += 1
            if progress and done % 1000 == 0:
                progress(done, failed)

    if workers <= 1:
        for start, lines in chunks(stream):
            emit(_decide_chunk(rules, policy, start, lines, options))
        return failed, worst
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(str(rules.root),)) as pool:
        pending = []
        for start, lines in chunks(stream):
            pending.append(pool.submit(_worker_chunk, policy, start, lines, options))
            while len(pending) >= workers * AHEAD:   # bounded: memory does not grow with the input
                emit(pending.pop(0).result())
        for future in pending:
            emit(future.result())
    return failed, worst


__all__ = ["run", "decide_line", "line_error"]
