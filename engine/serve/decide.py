"""A decision request's body to its answer, apart from HTTP: the status, the JSON bytes, and
the record for the decision log (None when nothing was decided).

The body is first read by the generated code's reader (engine.run.support.parse_line:
Decimals from their text, duplicate keys found by counting) and decided by generated code;
anything that does not go through, from bad JSON to facts the schema refuses, is read
again strictly and decided by `RuleSet.evaluate`, so every error is the interpreter's
own, with its JSON path.
"""
from __future__ import annotations

import itertools
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from http import HTTPStatus

from ..errors import EvaluationError, FactsError, NoVersionError, PolicyError
from ..load import jsonfacts
from ..report.decision import _json_default
from ..run import compiled

SHOWN = 3   # problems named in an error's message
KEYS = frozenset({"facts", "as_of", "known_at", "version", "explain"})
SHAPE = 'the body is {"facts": {...}, "as_of"?, "known_at"?, "version"?, "explain"?}'


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    outcome: str              # "ok" or the error's code
    version: str = ""         # the version that decided
    record: dict | None = None   # for the decision log (when asked for)


def failure(status: int, code: str, message: str, errors=()) -> Answer:
    return Answer(int(status), ENCODE({"error": {"code": code, "message": message, "errors": list(errors)}})
                  .encode("utf-8"), code)


def problems(exc: PolicyError, within: str = "") -> tuple[str, list]:
    """(a message naming the first few problems, every problem as {"path", "message"}), in
    the words of the HTTP API: a path relative to `within` (the facts in a body), a JSON
    syntax error with its line and column, the body's keys rather than the CLI's options."""
    errors = [{"path": _relative(d.path or "", within), "message": _http(d)} for d in exc.diagnostics]
    shown = "; ".join(f"{e['path']}: {e['message']}" if e["path"] else e["message"] for e in errors[:SHOWN])
    if len(errors) > SHOWN:
        shown += f"; and {len(errors) - SHOWN} more ({len(errors)} problems)"
    return shown, errors


_OPTIONS = {"--as-of": "as_of", "--known-at": "known_at", "--version": "version"}


def _http(d) -> str:
    message = d.message
    for option, key in _OPTIONS.items():
        if message.startswith(option + ":"):
            message = key + message[len(option):]
    where = d.where.rsplit(":", 2) if d.where and d.where.startswith("body:") else None
    if where and len(where) == 3 and message.startswith("not valid JSON"):
        message = f"{message} (line {where[1]}, column {where[2]})"
    return message


def _relative(path: str, within: str) -> str:
    if not within or not path:
        return path
    if path == within:
        return ""
    return path[len(within) + 1:] if path.startswith(within + ".") else path


def answer(rules, policy: str, body: bytes, logged: bool = True) -> Answer:
    """The answer to POST /v1/decisions/<policy> with this body, by this rule set; with the
    record for the decision log when `logged`."""
    if policy not in rules.policies:
        return failure(HTTPStatus.NOT_FOUND, "unknown_policy", f"unknown policy '{policy}'")
    data, keys = compiled.parse(body) or (None, None)   # the quick reader, as for a batch line
    if data is None:
        data = _strict(body)
        if isinstance(data, Answer):
            return data
    refused = _envelope(rules, policy, data)
    if refused is not None:
        return refused
    explain = data.get("explain", False)
    options = {"as_of": data.get("as_of"), "known_at": data.get("known_at"), "version": data.get("version"),
               "facts_name": "facts"}
    d = None
    if keys is not None and not explain:   # the envelope's own keys are in the count too
        d = rules.evaluate_read(policy, data["facts"], keys - len(data), **options)
    if d is None and keys is not None:   # read again strictly: what was wrong is said with its path
        data = _strict(body)
        if isinstance(data, Answer):
            return data
    try:
        if d is None:
            d = rules.evaluate(policy, data["facts"], **options)
        text = d.to_json(indent=None, trace=explain)
    except FactsError as exc:
        return failure(HTTPStatus.UNPROCESSABLE_ENTITY, "bad_facts", *problems(exc))
    except NoVersionError as exc:
        return failure(HTTPStatus.UNPROCESSABLE_ENTITY, "no_version_in_effect", problems(exc)[0])
    except EvaluationError as exc:
        return failure(HTTPStatus.INTERNAL_SERVER_ERROR, "evaluation_error", *problems(exc))
    except PolicyError as exc:   # a bad as_of or known_at
        return failure(HTTPStatus.BAD_REQUEST, "bad_request", *problems(exc))
    decision_id = new_id()
    record = {"decision_id": decision_id, "timestamp": timestamp(), "policy": d.policy,
              "version": d.version.version, "digest": d.version.digest, "as_of": d.as_of, "known_at": d.known_at,
              "facts": data["facts"], "result": d.result} if logged else None
    return Answer(HTTPStatus.OK, f'{{"decision_id": "{decision_id}", {text[1:]}'.encode("utf-8"), "ok",
                  d.version.version, record)


def _strict(body: bytes):
    """The body read by the strict reader, or the error: 422 for bad facts (a key twice, a
    number out of range), 400 for a body that is not a request at all."""
    try:
        return jsonfacts.parse_json(body, "body")
    except FactsError as exc:
        if all(_in_facts(d.path) for d in exc.diagnostics):   # paths as the schema's errors give them
            return failure(HTTPStatus.UNPROCESSABLE_ENTITY, "bad_facts", *problems(exc, "facts"))
        return failure(HTTPStatus.BAD_REQUEST, "bad_request", problems(exc)[0])


def _in_facts(path) -> bool:
    return bool(path) and (path == "facts" or path.startswith(("facts.", "facts[")))


def _envelope(rules, policy: str, data) -> Answer | None:
    """The error of a body that is not a decision request, or None."""
    if not isinstance(data, dict) or not isinstance(data.get("facts"), dict):
        return failure(HTTPStatus.BAD_REQUEST, "bad_request", SHAPE)
    unknown = data.keys() - KEYS
    if unknown:
        return failure(HTTPStatus.BAD_REQUEST, "bad_request", f"unknown key(s) in the body: {', '.join(sorted(unknown))}")
    for key in ("as_of", "known_at", "version"):
        if data.get(key) is not None and not isinstance(data[key], str):
            return failure(HTTPStatus.BAD_REQUEST, "bad_request", f"'{key}' is text")
    version = data.get("version")
    if version is not None and version not in {v.version for v in rules.versions(policy)}:
        return failure(HTTPStatus.NOT_FOUND, "unknown_version", f"policy '{policy}' has no version '{version}'")
    if not isinstance(data.get("explain", False), bool):
        return failure(HTTPStatus.BAD_REQUEST, "bad_request", "'explain' is true or false")
    return None


def new_id() -> str:
    """A decision id: 32 hex digits, unique across processes and restarts (16 random ones a
    process, then a count), at a tenth of uuid4's cost (no system call a decision)."""
    global _ID
    if _ID[0] != os.getpid():   # a new process (a worker forked after import): a prefix of its own
        _ID = (os.getpid(), secrets.token_hex(8), itertools.count())
    return f"{_ID[1]}{next(_ID[2]):016x}"


_ID = (None, "", None)


def timestamp() -> str:
    """Now, UTC, to the microsecond."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _encode():
    import json
    return json.JSONEncoder(ensure_ascii=False, default=_json_default).encode


ENCODE = _encode()
