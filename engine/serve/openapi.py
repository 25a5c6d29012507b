"""The service's OpenAPI document, with each policy's request body typed by its facts schema
(OpenAPI 3.1 takes JSON Schema 2020-12 as it is): one path a policy,
/v1/decisions/<policy>, its facts schema under components (its $defs beside it, references
rewritten to point there)."""
from __future__ import annotations

import copy

from fastapi.openapi.utils import get_openapi


def document(app, rules) -> dict:
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    generic = doc["paths"].get("/v1/decisions/{policy}", {}).get("post", {})
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
        schemas[f"{policy}.request"] = {
            "type": "object", "required": ["facts"], "additionalProperties": False,
            "title": f"a decision of {policy}",
            "properties": {
                "facts": {"$ref": f"#/components/schemas/{prefix}"},
                "as_of": {"type": "string", "format": "date", "title": "the date the decision is for"},
                "known_at": {"type": "string", "title": "what was published by then counts (a date or a timestamp)"},
                "version": {"type": "string", "enum": [v.version for v in rules.versions(policy)]},
                "explain": {"type": "boolean", "default": False, "title": "include the trace"},
            }}
        operation = copy.deepcopy(generic)
        operation.pop("parameters", None)
        operation["operationId"] = f"decide_{policy.replace('-', '_')}"
        operation["summary"] = f"Decide {policy} ({newest.title})"
        operation["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{policy}.request"}}}}
        doc["paths"][f"/v1/decisions/{policy}"] = {"post": operation}
    return doc


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
