"""POST /v1/decisions/<policy> and /v1/batch/<policy> as plain ASGI, ahead of FastAPI's router.

A decision is the service's hot path, and FastAPI's per-request machinery (the Request
object, routing, dependency resolution, the Response class) cost about 80 us a request
here, a third of a whole decision of the shipped rules (measured with bench/serve.py). This middleware
answers decisions itself: the body read under the size limit, the answer made by
engine.serve.decide (or engine.serve.batch), the decision log written before the answer
is sent, the metrics counted. Every other request goes on to FastAPI. The OpenAPI
document describes these paths all the same (engine.serve.openapi).
"""
from __future__ import annotations

import asyncio
import time
from http import HTTPStatus

from . import batch
from .decide import Answer, answer, failure

DECISIONS, BATCH = "/v1/decisions/", "/v1/batch/"
_JSON = (b"content-type", b"application/json")
_NDJSON = (b"content-type", b"application/x-ndjson")


def _target(scope):
    """(the path's prefix, the policy) when this route answers the request, else None."""
    if scope["type"] != "http":
        return None
    path = scope["path"]
    for prefix in (DECISIONS, BATCH):
        if path.startswith(prefix) and "/" not in path[len(prefix):]:
            return prefix, path[len(prefix):]
    return None


class DecisionRoute:
    def __init__(self, app, *, store, max_body: int, decision_log, metrics):
        self.app, self.store, self.max_body = app, store, max_body
        self.decision_log, self.metrics = decision_log, metrics

    async def __call__(self, scope, receive, send):
        target = _target(scope)
        if target is None:
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        prefix, policy = target
        rules = self.store.current   # one rule set for the whole request, whatever a reload does meanwhile
        headers = []
        try:
            if scope["method"] != "POST":
                headers.append((b"allow", b"POST"))
                result = failure(HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed",
                                 f"{scope['method']} {prefix}<policy>: decisions are asked for with POST")
            elif prefix == DECISIONS:
                body = await self._body(scope, receive, ("application/json", ""))
                result = body if isinstance(body, Answer) else answer(rules, policy, body,
                                                                           self.decision_log is not None)
                if result.record is not None and self.decision_log is not None:   # written before the answer leaves
                    self.decision_log.write(result.record)
                if result.version:
                    headers.append((b"x-policy-version", result.version.encode()))
            else:
                result = await self._batch(scope, receive, rules, policy, headers)
        except Exception as exc:   # a bug: one line for a person, never a trace
            result = failure(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error",
                             f"internal error ({type(exc).__name__}); this is a bug in the engine")
        kind = _NDJSON if prefix == BATCH and result.status == HTTPStatus.OK else _JSON
        headers += [kind, (b"content-length", b"%d" % len(result.body))]
        await send({"type": "http.response.start", "status": result.status, "headers": headers})
        await send({"type": "http.response.body", "body": result.body})
        if prefix == DECISIONS and scope["method"] == "POST":
            known = policy in rules.policies
            self.metrics.decided(policy if known else "_unknown_", result.version, result.outcome,
                                 time.perf_counter() - start)

    async def _batch(self, scope, receive, rules, policy, headers) -> Answer:
        opts = batch.options(rules, policy, scope.get("query_string", b""))
        if isinstance(opts, Answer):
            return opts
        body = await self._body(scope, receive, batch.KINDS)
        if isinstance(body, Answer):
            return body
        log = self.decision_log.write if self.decision_log is not None else None
        # in a thread: a large batch must not hold up health checks and other requests
        result, batch_id, decided, failed = await asyncio.to_thread(batch.answer, rules, policy, body, opts, log)
        headers += [(b"x-batch-id", batch_id.encode()), (b"x-failed-lines", b"%d" % failed)]
        self.metrics.batched(policy, decided, failed)
        return result

    async def _body(self, scope, receive, kinds):
        """The body's bytes, or the answer to give: not the kind expected (400), too large (413)."""
        kind, declared = "", None
        for name, value in scope["headers"]:
            if name == b"content-type":
                kind = value.decode("latin-1").split(";")[0].strip().lower()
            elif name == b"content-length":
                declared = value
        if kind not in kinds and not kind.endswith("+json"):
            return failure(HTTPStatus.BAD_REQUEST, "bad_request",
                           f"expected Content-Type {' or '.join(k for k in kinds if k)}, found {kind}")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            return self._too_large()
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return failure(HTTPStatus.BAD_REQUEST, "bad_request", "the client went away before the body was sent")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return self._too_large()
            chunks.append(chunk)
            if not message.get("more_body"):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _too_large(self) -> Answer:
        return failure(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body_too_large", f"the body is over {self.max_body:,} bytes")
