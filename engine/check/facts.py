"""Facts against their JSON Schema: the fast check first, jsonschema to explain a failure."""
from __future__ import annotations

from ..errors import Diagnostic, FactsError
from . import schema as schemacheck


def _at(name: str, path, message: str) -> Diagnostic:
    return Diagnostic(name, message, schemacheck.json_path(path))


def problems(version, facts) -> list[tuple[tuple, str]]:
    """(path, message) of every schema error of facts (a dict), one a place."""
    if version.facts_fast_check is not None and version.facts_fast_check(facts):
        return []   # valid; jsonschema runs only to explain what is wrong
    out, seen = [], set()
    for path, message, _key in schemacheck.explain(version.facts_validator, facts):
        if path in seen and not message.startswith(("unknown key", "missing required key")):
            continue   # one problem a place: a bad date fails its pattern and its format
        seen.add(path)
        out.append((path, message))
    return out


def validate(version, facts, name: str):
    """Schema errors of facts, all of them, as FactsError."""
    if not isinstance(facts, dict):
        raise FactsError(Diagnostic(name, f"expected a JSON object at the top level, found {schemacheck.show(facts)}"))
    errors = [_at(name, path, message) if path else Diagnostic(name, message) for path, message in problems(version, facts)]
    if errors:
        raise FactsError(errors)
