"""POST /v1/batch/<policy>: NDJSON facts in, NDJSON out, each line as `policy eval --batch`
writes it (engine.run.batch.decide_line), so a bad line is its error record in its place
and the others are decided. The options are the query's: version, as_of, known_at, trace.

With a decision log, each decided line is logged as a decision of its own, with the
decision_id `<batch_id>.<line>`; the answer's `x-batch-id` header names the batch.
"""
from __future__ import annotations

import json
import uuid
from decimal import Decimal
from http import HTTPStatus
from urllib.parse import parse_qsl

from ..errors import PolicyError
from ..load import jsonfacts
from ..run import batch as run_batch
from ..run.ruleset import _now, _parse_as_of, _parse_known_at
from .decide import Answer, failure, problems, timestamp

OPTIONS = ("version", "as_of", "known_at", "trace")
KINDS = ("application/x-ndjson", "application/jsonl", "application/json", "text/plain", "")


def options(rules, policy: str, query: bytes) -> dict | Answer:
    """The batch's options from the query string, or the error to answer."""
    if policy not in rules.policies:
        return failure(HTTPStatus.NOT_FOUND, "unknown_policy", f"unknown policy '{policy}'")
    try:
        given = dict(parse_qsl(query.decode("latin-1"), strict_parsing=bool(query)))
    except ValueError:
        return failure(HTTPStatus.BAD_REQUEST, "bad_request", "the query is version=, as_of=, known_at= and trace=")
    unknown = given.keys() - set(OPTIONS)
    if unknown:
        return failure(HTTPStatus.BAD_REQUEST, "bad_request",
                       f"unknown query key(s): {', '.join(sorted(unknown))} (expected {', '.join(OPTIONS)})")
    version = given.get("version")
    if version is not None and version not in {v.version for v in rules.versions(policy)}:
        return failure(HTTPStatus.NOT_FOUND, "unknown_version", f"policy '{policy}' has no version '{version}'")
    trace = given.get("trace", "false")
    if trace not in ("true", "false"):
        return failure(HTTPStatus.BAD_REQUEST, "bad_request", f"trace is true or false, not '{trace}'")
    try:   # one 'now' for the whole batch, as the CLI's
        known_at = _parse_known_at(given["known_at"]) if "known_at" in given else _now()
        if "as_of" in given:
            _parse_as_of(given["as_of"])
    except PolicyError as exc:
        return failure(HTTPStatus.BAD_REQUEST, "bad_request", problems(exc)[0])
    return {"version": version, "as_of": given.get("as_of"), "known_at": known_at, "trace": trace == "true"}


def answer(rules, policy: str, body: bytes, opts: dict, log=None) -> tuple[Answer, str, int, int]:
    """(the NDJSON answer, the batch id, lines decided, lines failed). Each decided line goes
    to log(record) first."""
    batch_id = uuid.uuid4().hex
    out, failed = [], 0
    for number, line in enumerate(body.splitlines(), start=1):
        text, code = run_batch.decide_line(rules, policy, number, line, opts)
        out.append(text)
        failed += code != 0
        if code == 0 and log is not None:
            decided = json.loads(text, parse_float=Decimal)   # the answer's own exact text
            log({"decision_id": f"{batch_id}.{number}", "timestamp": timestamp(), "policy": decided["policy"],
                 "version": decided["version"], "digest": decided["digest"], "as_of": decided["as_of"],
                 "known_at": decided["known_at"], "facts": jsonfacts.parse_json(line, f"line {number}"),
                 "result": decided["result"]})
    text = "".join(line + "\n" for line in out)
    return Answer(HTTPStatus.OK, text.encode("utf-8"), "ok"), batch_id, len(out) - failed, failed
