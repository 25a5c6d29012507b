"""The HTTP API of the decision service (DESIGN section 7), on FastAPI.

Bodies are read as bytes and parsed by the engine's own strict JSON reader (Decimals from
their text, duplicate keys refused, nesting bounded), and answers are written by the
engine's own JSON writer: no float anywhere, the same bytes as `policy eval`. Every error
is data, `{"error": {"code", "message", "errors"}}`, never a stack trace.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import time
import threading
import uuid
from http import HTTPStatus
from datetime import datetime, timezone

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from ..errors import EvaluationError, FactsError, NoVersionError, PolicyError
from ..load import jsonfacts
from ..run.ruleset import RuleStore
from ..run.versions import fmt_ts
from .metrics import CONTENT_TYPE, Metrics
from .openapi import document

MAX_BODY = 10 * 1024 * 1024   # bytes a request body may have (--max-body)
SHOWN = 3                     # problems named in an error's message


def error(status: int, code: str, message: str, errors=()) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "errors": list(errors)}},
                        status_code=int(status))


def _problems(exc: PolicyError) -> tuple[str, list]:
    errors = [{"path": d.path or "", "message": d.message} for d in exc.diagnostics]
    shown = "; ".join(f"{e['path']}: {e['message']}" if e["path"] else e["message"] for e in errors[:SHOWN])
    if len(errors) > SHOWN:
        shown += f"; and {len(errors) - SHOWN} more ({len(errors)} problems)"
    return shown, errors


def create_app(store: RuleStore, *, max_body: int = MAX_BODY, decision_log=None, admin_token: str | None = None):
    """decision_log: an engine.serve.decision_log.DecisionLog, written before each answer;
    admin_token: the bearer token of POST /v1/admin/reload (None: the endpoint is off)."""
    app = FastAPI(title="policy-engine decision service", version="1",
                  description="Decisions by versioned rules (DESIGN section 7).")
    activated = {"at": datetime.now(timezone.utc).replace(microsecond=0)}
    reloading = threading.Lock()

    def reload() -> list:
        """RuleStore.reload, one at a time: [] when the new set is in use, else its errors."""
        with reloading:
            errors = store.reload()
            metrics.reloads.labels(outcome="refused" if errors else "activated").inc()
            if not errors:
                activated["at"] = datetime.now(timezone.utc).replace(microsecond=0)
                metrics.active(_digest(store))
            return errors

    app.state.reload = reload   # for SIGHUP (engine.cli.serve_cmd)

    def openapi():   # each policy's request body typed by its facts schema; rebuilt after a reload
        if app.openapi_schema is None or app.openapi_schema.get("x-rules") != _digest(store):
            app.openapi_schema = {**document(app, store.current), "x-rules": _digest(store)}
        return app.openapi_schema
    app.openapi = openapi
    metrics = Metrics()
    metrics.active(_digest(store))

    @app.get("/metrics")
    def prometheus():
        return Response(metrics.text(), media_type=CONTENT_TYPE)

    @app.post("/v1/admin/reload")
    async def admin_reload(request: Request):
        if admin_token is None:
            return error(HTTPStatus.NOT_FOUND, "not_found", "reloads over HTTP are off (no --admin-token-file)")
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {admin_token}".encode()):
            return error(HTTPStatus.UNAUTHORIZED, "unauthorized", "a bearer token is needed: Authorization: Bearer ...")
        errors = await asyncio.to_thread(reload)   # the old set answers meanwhile
        if errors:
            return error(HTTPStatus.UNPROCESSABLE_ENTITY, "reload_refused",
                         f"the new rule set was refused ({len(errors)} problem(s)); the old one is still in use",
                         [{"path": d.path or "", "message": f"{d.where}: {d.message}" if d.where else d.message}
                          for d in errors])
        return {"status": "reloaded", "digest": _digest(store), "activated_at": fmt_ts(activated["at"])}

    @app.get("/health/live")
    def live():
        return {"status": "live"}

    @app.get("/health/ready")
    def ready():
        return {"status": "ready", "digest": _digest(store)}

    @app.get("/v1/status")
    def status():
        return {"digest": _digest(store), "activated_at": fmt_ts(activated["at"]),
                "policies": len(store.current.policies)}

    @app.get("/v1/policies")
    def policies():
        rules = store.current
        return {"policies": [{"policy": p, "versions": [
            {"version": v.version, "effective_from": v.effective_from.isoformat(), "published": fmt_ts(v.published),
             "title": v.title, "digest": v.digest} for v in rules.versions(p)]} for p in rules.policies]}

    @app.post("/v1/decisions/{policy}")
    async def decide(policy: str, request: Request):
        start = time.perf_counter()
        answer = await _decide(policy, request)
        known = policy in store.current.policies
        code = "ok" if answer.status_code == 200 else json.loads(answer.body)["error"]["code"]
        metrics.decided(policy if known else "_unknown_", answer.headers.get("x-policy-version", "") if known else "",
                        code, time.perf_counter() - start)
        return answer

    async def _decide(policy: str, request: Request):
        body = await _body(request, max_body)
        if isinstance(body, Response):
            return body
        rules = store.current   # one rule set for the whole request, whatever a reload does meanwhile
        if policy not in rules.policies:
            return error(HTTPStatus.NOT_FOUND, "unknown_policy", f"unknown policy '{policy}'")
        try:
            data = jsonfacts.parse_json(body, "body")
        except FactsError as exc:
            if any(d.message.startswith(("not valid JSON", "nested deeper")) for d in exc.diagnostics):
                return error(HTTPStatus.BAD_REQUEST, "bad_request", _problems(exc)[0])
            message, errors = _problems(exc)
            return error(HTTPStatus.UNPROCESSABLE_ENTITY, "bad_facts", message, errors)
        if not isinstance(data, dict) or not isinstance(data.get("facts"), dict):
            return error(HTTPStatus.BAD_REQUEST, "bad_request", 'the body is {"facts": {...}, "as_of"?, "known_at"?, "version"?, '
                                             '"explain"?}')
        unknown = set(data) - {"facts", "as_of", "known_at", "version", "explain"}
        if unknown:
            return error(HTTPStatus.BAD_REQUEST, "bad_request", f"unknown key(s) in the body: {', '.join(sorted(unknown))}")
        version = data.get("version")
        if version is not None and version not in {v.version for v in rules.versions(policy)}:
            return error(HTTPStatus.NOT_FOUND, "unknown_version", f"policy '{policy}' has no version '{version}'")
        for key in ("as_of", "known_at", "version"):
            if data.get(key) is not None and not isinstance(data[key], str):
                return error(HTTPStatus.BAD_REQUEST, "bad_request", f"'{key}' is text")
        explain = data.get("explain", False)
        if not isinstance(explain, bool):
            return error(HTTPStatus.BAD_REQUEST, "bad_request", "'explain' is true or false")
        try:
            d = rules.evaluate(policy, data["facts"], as_of=data.get("as_of"), known_at=data.get("known_at"),
                               version=version, facts_name="facts")
            text = d.to_json(indent=None, trace=explain)
        except FactsError as exc:
            return error(HTTPStatus.UNPROCESSABLE_ENTITY, "bad_facts", *_problems(exc))
        except NoVersionError as exc:
            return error(HTTPStatus.UNPROCESSABLE_ENTITY, "no_version_in_effect", _problems(exc)[0])
        except EvaluationError as exc:
            return error(HTTPStatus.INTERNAL_SERVER_ERROR, "evaluation_error", *_problems(exc))
        except PolicyError as exc:   # a bad as_of or known_at
            return error(HTTPStatus.BAD_REQUEST, "bad_request", *_problems(exc))
        decision_id = uuid.uuid4().hex
        if decision_log is not None:   # written and flushed before the answer leaves
            decision_log.write({"decision_id": decision_id, "timestamp": _timestamp(), "policy": d.policy,
                                "version": d.version.version, "digest": d.version.digest, "facts": data["facts"],
                                "result": d.result})
        return Response(f'{{"decision_id": "{decision_id}", {text[1:]}', media_type="application/json",
                        headers={"x-policy-version": d.version.version})

    @app.exception_handler(Exception)
    async def internal(_request, exc):   # a bug: one line for a person, never a trace
        return error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", f"internal error ({type(exc).__name__}); this is a bug in the engine")

    return app


def _timestamp() -> str:
    """Now, UTC, to the microsecond."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _digest(store: RuleStore) -> str:
    """One digest for the rule set in use: of its versions' digests."""
    import hashlib
    rules = store.current
    text = "\n".join(v.digest for p in rules.policies for v in rules.versions(p))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


async def _body(request: Request, max_body: int):
    """The body's bytes, or the error to answer: too large (413), or not JSON (400)."""
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if kind not in ("application/json", "") and not kind.endswith("+json"):
        return error(HTTPStatus.BAD_REQUEST, "bad_request", f"the body is JSON (content-type application/json), not {kind}")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_body:
        return error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body_too_large", f"the body is over {max_body:,} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_body:
            return error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body_too_large", f"the body is over {max_body:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
