"""A fast yes/no check of facts against their JSON Schema, compiled once per schema.

jsonschema stays the judge: when this check says no, jsonschema runs and its errors are
reported; when it says yes, the facts are valid and jsonschema is not run. So this only
has to be right about validity, and a differential property test holds it to
jsonschema's answers. Only the keywords our schemas use are compiled; a schema with any
other keyword gets no fast check (None), and jsonschema runs every time.
"""
from __future__ import annotations

from decimal import Decimal

from . import schema as schemacheck

_IGNORED = {"$schema", "$id", "title", "description", "examples", "$defs", "$comment", "default"}


class Unsupported(Exception):
    pass


def _is_type(value, name: str) -> bool:
    if name == "string":
        return isinstance(value, str)
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, Decimal, float)) and not isinstance(value, bool)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "null":
        return value is None
    raise Unsupported(name)


def _equal(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def compile_schema(root: dict):
    """A predicate instance -> bool, or None when the schema uses a keyword not compiled."""
    cache: dict[str, object] = {}

    def ref(pointer: str):
        if not pointer.startswith("#/"):
            raise Unsupported(pointer)
        if pointer not in cache:
            node = root
            for part in pointer[2:].split("/"):
                node = node[part]
            cache[pointer] = None
            cache[pointer] = build(node)
        compiled = cache[pointer]
        return compiled if compiled is not None else (lambda v: cache[pointer](v))

    def build(schema):
        if schema is True or schema == {}:
            return lambda v: True
        if schema is False:
            return lambda v: False
        checks = []
        for key, arg in schema.items():
            if key in _IGNORED:
                continue
            checks.append(keyword(key, arg, schema))
        if len(checks) == 1:
            return checks[0]
        checks = tuple(checks)

        def every(v):
            for c in checks:
                if not c(v):
                    return False
            return True
        return every

    def keyword(key, arg, schema):
        if key == "type":
            names = arg if isinstance(arg, list) else [arg]
            for n in names:
                _is_type(None, n)   # unsupported names fail here, at compile time
            if len(names) == 1:
                exact = {"string": str, "object": dict, "array": list, "boolean": bool}.get(names[0])
                if exact is not None and exact is not bool:
                    return lambda v: isinstance(v, exact)
                name = names[0]
                return lambda v: _is_type(v, name)
            return lambda v: any(_is_type(v, n) for n in names)
        if key == "$ref":
            return ref(arg)
        if key == "properties":
            props = tuple((k, build(s)) for k, s in arg.items())

            def properties(v):
                if type(v) is not dict:
                    return not isinstance(v, dict) or all(c(v[k]) for k, c in props if k in v)
                for k, c in props:
                    if k in v and not c(v[k]):
                        return False
                return True
            return properties
        if key == "required":
            keys = tuple(arg)

            def required(v):
                if isinstance(v, dict):
                    for k in keys:
                        if k not in v:
                            return False
                return True
            return required
        if key == "additionalProperties":
            known = set(schema.get("properties", {}))
            if schema.get("patternProperties"):
                raise Unsupported("patternProperties")
            extra = build(arg)
            def additional(v):
                if isinstance(v, dict):
                    for k, x in v.items():
                        if k not in known and not extra(x):
                            return False
                return True
            return additional
        if key == "propertyNames":
            names = build(arg)
            return lambda v: not isinstance(v, dict) or all(names(k) for k in v)
        if key == "minProperties":
            return lambda v: not isinstance(v, dict) or len(v) >= arg
        if key == "items":
            item = build(arg)

            def items(v):
                if isinstance(v, list):
                    for x in v:
                        if not item(x):
                            return False
                return True
            return items
        if key == "minItems":
            return lambda v: not isinstance(v, list) or len(v) >= arg
        if key == "maxItems":
            return lambda v: not isinstance(v, list) or len(v) <= arg
        if key == "uniqueItems":
            if not arg:
                return lambda v: True
            return lambda v: not isinstance(v, list) or len({(type(x), repr(x)) for x in v}) == len(v)
        if key == "enum":
            return lambda v: any(_equal(v, x) for x in arg)
        if key == "const":
            return lambda v: _equal(v, arg)
        if key == "pattern":
            rx = schemacheck.ecma_regex(arg)
            return lambda v: not isinstance(v, str) or rx.search(v) is not None
        if key == "minLength":
            return lambda v: not isinstance(v, str) or len(v) >= arg
        if key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            bound = arg
            test = {"minimum": lambda v: v >= bound, "maximum": lambda v: v <= bound,
                    "exclusiveMinimum": lambda v: v > bound, "exclusiveMaximum": lambda v: v < bound}[key]
            return lambda v: not _is_type(v, "number") or test(v)
        if key == "format":
            if arg not in ("date", "date-time"):
                raise Unsupported(arg)
            return lambda v: not isinstance(v, str) or schemacheck.format_ok(v, arg)
        if key == "anyOf":
            subs = tuple(build(s) for s in arg)

            def any_of(v):
                for sub in subs:
                    if sub(v):
                        return True
                return False
            return any_of
        if key == "allOf":
            subs = [build(s) for s in arg]
            return lambda v: all(s(v) for s in subs)
        if key == "not":
            sub = build(arg)
            return lambda v: not sub(v)
        if key == "if":
            cond = build(arg)
            then = build(schema.get("then", True))
            other = build(schema.get("else", True))
            return lambda v: then(v) if cond(v) else other(v)
        if key in ("then", "else"):
            return lambda v: True   # read with "if"
        raise Unsupported(key)

    try:
        return build(root)
    except (Unsupported, KeyError, TypeError):
        return None
