"""The HTTP API of the decision service (DESIGN section 7), on FastAPI.

Decisions are answered by engine.serve.route ahead of FastAPI's router (the hot path);
FastAPI serves the rest: health, status, policies, metrics, reloads and the OpenAPI
document. Bodies are read by the engine's own JSON readers (Decimals from their text,
duplicate keys refused, nesting bounded), and answers are written by the engine's own
JSON writer: no float anywhere, the same bytes as `policy eval`. Every error is data,
`{"error": {"code", "message", "errors"}}`, never a stack trace.
"""
from __future__ import annotations

import asyncio
import contextlib
import hmac
import threading
from http import HTTPStatus
from datetime import datetime, timezone

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from fastapi.responses import JSONResponse, Response

from ..run.ruleset import RuleStore
from ..run.versions import fmt_ts
from .metrics import CONTENT_TYPE, Metrics
from .openapi import document
from .route import DecisionRoute

MAX_BODY = 10 * 1024 * 1024   # bytes a request body may have (--max-body)
ERROR = "#/components/schemas/Error"


def error(status: int, code: str, message: str, errors=()) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "errors": list(errors)}},
                        status_code=int(status))


class Service(FastAPI):
    """FastAPI, with decisions answered ahead of it (engine.serve.route): outside even
    Starlette's own middleware, which costs a few microseconds a request for nothing the
    route needs (it turns its own failures into JSON errors)."""
    decisions = None

    async def __call__(self, scope, receive, send):
        await (self.decisions or self.routed)(scope, receive, send)

    async def routed(self, scope, receive, send):
        await super().__call__(scope, receive, send)


def create_app(store: RuleStore, *, max_body: int = MAX_BODY, decision_log=None, admin_token: str | None = None,
               activated_at: datetime | None = None, supervisor=None, on_stop=None):
    """decision_log: an engine.serve.decision_log.DecisionLog, written before each answer;
    admin_token: the bearer token of POST /v1/admin/reload (None: the endpoint is off);
    supervisor: in a worker of `policy serve --workers N`, what asks the supervising process
    to reload every worker (engine.serve.workers), instead of reloading this one alone;
    on_stop: called once the server has shut down."""
    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        if on_stop is not None:
            on_stop()

    app = Service(title="policy-engine decision service", version="1", lifespan=lifespan,
                  description="Decisions by versioned rules: single decisions, batches, the rule set in use.")
    activated = {"at": activated_at or now()}
    reloading = threading.Lock()

    def reload() -> dict:
        """RuleStore.reload, one at a time: {"digest", "activated_at"} when the new set is in
        use, else {"errors": [{"path", "message"}]} and the old one still answers."""
        with reloading:
            errors = store.reload()
            metrics.reloads.labels(outcome="refused" if errors else "activated").inc()
            if errors:
                return {"errors": problems(errors)}
            activated["at"] = now()
            metrics.active(store.current.digest)
            return {"digest": store.current.digest, "activated_at": fmt_ts(activated["at"])}

    app.state.reload = supervisor or reload   # for SIGHUP (engine.cli.serve_cmd) and the endpoint

    def openapi():   # each policy's request body typed by its facts schema; rebuilt after a reload
        if app.openapi_schema is None or app.openapi_schema.get("x-rules") != store.current.digest:
            app.openapi_schema = {**document(app, store.current), "x-rules": store.current.digest}
        return app.openapi_schema
    app.openapi = openapi
    metrics = Metrics()
    metrics.active(store.current.digest)
    app.decisions = DecisionRoute(app.routed, store=store, max_body=max_body, decision_log=decision_log,
                                  metrics=metrics)

    @app.get("/metrics", response_class=Response, responses={200: {"description": "Prometheus text",
                                                                     "content": {"text/plain": {}}}})
    def prometheus():
        return Response(metrics.text(), media_type=CONTENT_TYPE)

    @app.post("/v1/admin/reload", openapi_extra={"security": [{"bearer": []}]}, responses={
        int(code): {"description": text, "content": {"application/json": {"schema": {"$ref": ERROR}}}}
        for code, text in ((HTTPStatus.UNAUTHORIZED, "no bearer token, or the wrong one"),
                           (HTTPStatus.NOT_FOUND, "reloads over HTTP are off (no --admin-token-file)"),
                           (HTTPStatus.UNPROCESSABLE_ENTITY, "the new rule set was refused: the old one answers"))})
    async def admin_reload(request: Request):
        if admin_token is None:
            return error(HTTPStatus.NOT_FOUND, "not_found", "reloads over HTTP are off (no --admin-token-file)")
        given = request.headers.get("authorization", "")
        if not given:
            return error(HTTPStatus.UNAUTHORIZED, "unauthorized",
                         "no token: send Authorization: Bearer <the token of --admin-token-file>")
        if not hmac.compare_digest(given.encode(), f"Bearer {admin_token}".encode()):
            return error(HTTPStatus.UNAUTHORIZED, "unauthorized", "the bearer token is not the one of --admin-token-file")
        outcome = await asyncio.to_thread(app.state.reload)   # the old set answers meanwhile
        if "errors" in outcome:
            errors = outcome["errors"]
            return error(HTTPStatus.UNPROCESSABLE_ENTITY, "reload_refused",
                         f"the new rule set was refused ({len(errors)} problem(s)); the old one is still in use",
                         errors)
        return {"status": "reloaded", **outcome}

    @app.get("/health/live")
    def live():
        return {"status": "live"}

    @app.get("/health/ready")
    def ready():
        return {"status": "ready", "digest": store.current.digest}

    @app.get("/v1/status")
    def status():
        return {"digest": store.current.digest, "activated_at": fmt_ts(activated["at"]),
                "policies": len(store.current.policies)}

    @app.get("/v1/policies")
    def policies():
        rules = store.current
        return {"policies": [{"policy": p, "versions": [
            {"version": v.version, "effective_from": v.effective_from.isoformat(), "published": fmt_ts(v.published),
             "title": v.title, "digest": v.digest} for v in rules.versions(p)]} for p in rules.policies]}

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, exc):   # FastAPI's own 404 and 405, in the API's error shape
        if exc.status_code == HTTPStatus.NOT_FOUND:
            code, message = "not_found", f"no such path: {request.url.path} (the paths are in /openapi.json)"
        elif exc.status_code == HTTPStatus.METHOD_NOT_ALLOWED:
            code, message = "method_not_allowed", f"{request.method} is not answered on {request.url.path}"
        else:
            code, message = "bad_request", str(exc.detail)
        answer = error(exc.status_code, code, message)
        answer.headers.update(exc.headers or {})
        return answer

    @app.exception_handler(Exception)
    async def internal(_request, exc):   # a bug: one line for a person, never a trace
        return error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", f"internal error ({type(exc).__name__}); this is a bug in the engine")

    return app


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def problems(diagnostics) -> list[dict]:
    """A refused reload's problems as data: {"path", "message"}, the file's place first."""
    return [{"path": d.path or "", "message": f"{d.where}: {d.message}" if d.where else d.message}
            for d in diagnostics]
