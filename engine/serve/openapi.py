"""The service's OpenAPI document: FastAPI's for the paths it routes, and the decision
paths (answered ahead of its router, engine.serve.route) written here: one path a policy,
/v1/decisions/<policy>, with the request body typed by the facts schema of its newest
version (OpenAPI 3.1 takes JSON Schema 2020-12 as it is; $defs go under components, their
references rewritten), the generic /v1/decisions/{policy}, and /v1/batch/{policy}."""
from __future__ import annotations

import copy
from http import HTTPStatus

from fastapi.openapi.utils import get_openapi

ERRORS = {HTTPStatus.BAD_REQUEST: "not a decision request (bad JSON, wrong content type, unknown keys)",
          HTTPStatus.NOT_FOUND: "unknown policy or version",
          HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "the body is over --max-body",
          HTTPStatus.UNPROCESSABLE_ENTITY: "bad facts, or no version in effect",
          HTTPStatus.INTERNAL_SERVER_ERROR: "the rules failed on these facts"}


def document(app, rules) -> dict:
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(_common())
    doc["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer",
                                                       "description": "the token of --admin-token-file"}}
    policy_param = {"name": "policy", "in": "path", "required": True, "schema": {"type": "string"}}
    doc["paths"]["/v1/decisions/{policy}"] = {"post": _decision(
        "decide", "Decide a policy's question", {"$ref": "#/components/schemas/DecisionRequest"}, [policy_param])}
    doc["paths"]["/v1/batch/{policy}"] = {"post": _batch(policy_param)}
    for policy in rules.policies:
        newest = rules.versions(policy)[-1]
        if newest.facts_schema_doc is None:
            continue
        facts = copy.deepcopy(newest.facts_schema_doc)
        defs = facts.pop("$defs", {})
        prefix = f"{policy}.facts"
        for name, node in defs.items():
            schemas[f"{prefix}.{name}"] = _rewritten(node, prefix)
        for key in ("$schema", "$id"):
            facts.pop(key, None)
        schemas[prefix] = _rewritten(facts, prefix)
        request = copy.deepcopy(schemas["DecisionRequest"])
        request["title"] = f"a decision of {policy}"
        request["properties"]["facts"] = {"$ref": f"#/components/schemas/{prefix}"}
        request["properties"]["version"] = {"type": "string", "enum": [v.version for v in rules.versions(policy)]}
        schemas[f"{policy}.request"] = request
        doc["paths"][f"/v1/decisions/{policy}"] = {"post": _decision(
            f"decide_{policy.replace('-', '_')}", f"Decide {policy} ({newest.title})",
            {"$ref": f"#/components/schemas/{policy}.request"}, [])}
    return doc


def _decision(operation_id: str, summary: str, body_schema: dict, parameters: list) -> dict:
    responses = {"200": {"description": "the decision: the `policy eval --format json` object and its decision_id",
                         "headers": {"x-policy-version": {"schema": {"type": "string"},
                                                          "description": "the version that decided"}},
                         "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Decision"}}}}}
    responses.update(_errors())
    return {"operationId": operation_id, "summary": summary, "parameters": parameters,
            "requestBody": {"required": True, "content": {"application/json": {"schema": body_schema}}},
            "responses": responses}


def _batch(policy_param: dict) -> dict:
    query = [{"name": name, "in": "query", "required": False, "schema": schema, "description": text}
             for name, schema, text in (
                 ("version", {"type": "string"}, "pin this version"),
                 ("as_of", {"type": "string", "format": "date"}, "the date every line's decision is for"),
                 ("known_at", {"type": "string"}, "what was published by then counts"),
                 ("trace", {"type": "string", "enum": ["true", "false"]}, "each line carries its trace"))]
    responses = {"200": {"description": "one line out per line in, as `policy eval --batch` writes them; "
                                        "a bad line is its error record in its place",
                         "headers": {"x-batch-id": {"schema": {"type": "string"}},
                                     "x-failed-lines": {"schema": {"type": "integer"}}},
                         "content": {"application/x-ndjson": {"schema": {"type": "string"}}}}}
    responses.update({k: v for k, v in _errors().items()
                      if int(k) not in (HTTPStatus.UNPROCESSABLE_ENTITY, HTTPStatus.INTERNAL_SERVER_ERROR)})
    return {"operationId": "decide_batch", "summary": "Decide one facts object a line (NDJSON)",
            "parameters": [policy_param] + query,
            "requestBody": {"required": True, "content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
            "responses": responses}


def _errors() -> dict:
    return {str(int(code)): {"description": text, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}} for code, text in ERRORS.items()}


def _common() -> dict:
    text = {"type": "string"}
    return {
        "DecisionRequest": {
            "type": "object", "required": ["facts"], "additionalProperties": False,
            "properties": {
                "facts": {"type": "object"},
                "as_of": {"type": "string", "format": "date", "title": "the date the decision is for"},
                "known_at": {"type": "string", "title": "what was published by then counts (a date or a timestamp)"},
                "version": text,
                "explain": {"type": "boolean", "default": False, "title": "include the trace"}}},
        "Decision": {
            "type": "object", "required": ["decision_id", "policy", "version", "digest", "as_of", "known_at", "result",
                                           "warnings"],
            "properties": {"decision_id": text, "policy": text, "version": text, "digest": text, "as_of": text,
                           "known_at": text, "result": {"type": "object"}, "warnings": {"type": "array"},
                           "trace": {"type": "array"}}},
        "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message", "errors"], "properties": {
                "code": text, "message": text,
                "errors": {"type": "array", "items": {"type": "object", "required": ["path", "message"],
                                                      "properties": {"path": text, "message": text}}}}}}},
    }


def _rewritten(node, prefix: str):
    """node with every '#/$defs/x' reference pointing at components/schemas/<prefix>.x."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                out[key] = f"#/components/schemas/{prefix}.{value[len('#/$defs/'):]}"
            else:
                out[key] = _rewritten(value, prefix)
        return out
    if isinstance(node, list):
        return [_rewritten(v, prefix) for v in node]
    return node
