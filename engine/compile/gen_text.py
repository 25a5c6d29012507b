"""The text side of generated facts checks (engine.compile.gen_schema): what a schema node
says of a value known to be text, written without type tests; the patterns every valid text
matches, and so which of jsonfacts.clean's checks it needs no more; which texts are short
enough (symbols, codes) to remember as checked; the Python types a valid value can have."""
from __future__ import annotations

import re

from ..check import schema as schemacheck
from ..check.patterns import implies
from ..load.jsonfacts import MAX_DIGITS

_IGNORED = {"$schema", "$id", "title", "description", "examples", "$defs", "$comment", "default"}
_TYPES = {"string": "str", "integer": "int", "boolean": "bool", "object": "dict", "array": "list"}
_SHORT_ASCII = re.compile(r"^[\x00-\x7f]{0,%d}\Z" % MAX_DIGITS)   # what a short ASCII enum implies


class TextChecks:
    """Mixed into SchemaCode, which gives src, resolve, _string and _keyword."""

    def text_expr(self, node, v, seen=()) -> str | None:
        """Valid, for v known to be text: an expression (no type tests), or None."""
        if node is True or node == {}:
            return "True"
        if node is False:
            return "False"
        parts = []
        for key, arg in node.items():
            if key in _IGNORED or key in ("then", "else"):
                continue
            if key == "type":
                names = arg if isinstance(arg, list) else [arg]
                part = "True" if "string" in names else "False"
            elif key in ("pattern", "minLength"):
                part = self._string(key, arg, v)
            elif key == "format":
                part = self._keyword(key, arg, node, v, seen).split(" or ", 1)[1]
            elif key == "enum":
                texts = [x for x in arg if isinstance(x, str)]
                part = f"{v} in {self.src.const(frozenset(texts))}" if texts else "False"
            elif key == "$ref":
                if arg in seen:
                    return None
                part = self.text_expr(self.resolve(arg), v, seen + (arg,))
            elif key in ("anyOf", "allOf"):
                subs = [self.text_expr(sub, v, seen) for sub in arg]
                if None in subs:
                    return None
                kept = [x for x in subs if x != ("False" if key == "anyOf" else "True")]
                part = (" or " if key == "anyOf" else " and ").join(f"({x})" for x in kept) or \
                    ("False" if key == "anyOf" else "True")
            elif key == "not":
                sub = self.text_expr(arg, v, seen)
                if sub is None:
                    return None
                part = f"not ({sub})"
            elif key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "properties", "required",
                         "minItems", "maxItems", "minProperties", "uniqueItems", "items", "additionalProperties",
                         "propertyNames"):
                part = "True"   # about numbers, objects or arrays: text passes
            else:
                return None
            if part == "False":
                return "False"
            if part != "True":
                parts.append(part)
        return " and ".join(f"({p})" for p in parts) if parts else "True"

    def _text_clean(self, node, v) -> None:
        """jsonfacts.clean's limits on text, less what the schema's patterns already say."""
        ascii_only, longest = False, None
        for rx in self._patterns(node):
            a, n = implies(rx)
            ascii_only = ascii_only or a
            longest = n if longest is None else (longest if n is None else min(longest, n))
        if ascii_only and longest is not None and longest <= MAX_DIGITS:
            return
        if ascii_only:
            self.src.line(f"if len({v}) > {MAX_DIGITS} and not str_ok({v}): raise BAIL")
            return
        self.src.line(f"if (len({v}) > {MAX_DIGITS} or not {v}.isascii()) and not str_ok({v}): raise BAIL")

    def _short(self, node) -> bool:
        """Text a pattern holds to at most 16 characters: worth remembering as checked."""
        return any(implies(rx)[1] is not None and implies(rx)[1] <= 16 for rx in self._patterns(node)
                   if rx is not _SHORT_ASCII)

    def _patterns(self, node, seen=()):
        """The patterns every valid text must match."""
        if not isinstance(node, dict):
            return []
        out = [schemacheck.ecma_regex(node["pattern"])] if "pattern" in node else []
        if "enum" in node and all(isinstance(x, str) and x.isascii() and len(x) <= MAX_DIGITS for x in node["enum"]):
            out.append(_SHORT_ASCII)
        if "$ref" in node and node["$ref"] not in seen:
            out += self._patterns(self.resolve(node["$ref"]), seen + (node["$ref"],))
        for sub in node.get("allOf", ()):
            out += self._patterns(sub, seen)
        texts = [sub for sub in node.get("anyOf", ()) if self.text_expr(sub, "v") not in ("False", None)]
        if len(texts) == 1:
            out += self._patterns(texts[0], seen)
        return out

    def _kinds(self, node, seen=()):
        """The Python types a value valid against node can have, or None (unknown)."""
        if not isinstance(node, dict):
            return None
        found = None
        if "type" in node:
            names = node["type"] if isinstance(node["type"], list) else [node["type"]]
            found = set()
            for n in names:
                found |= {"number": {"int", "Decimal"}, "null": {"None"}}.get(n, {_TYPES.get(n, "?")})
        if "enum" in node and all(isinstance(x, str) for x in node["enum"]):
            found = {"str"} if found is None else found & {"str"}
        if "$ref" in node and node["$ref"] not in seen:
            sub = self._kinds(self.resolve(node["$ref"]), seen + (node["$ref"],))
            found = sub if found is None else (found if sub is None else found & sub)
        if "anyOf" in node:
            subs = [self._kinds(s, seen) for s in node["anyOf"]]
            if all(s is not None for s in subs):
                union = set().union(*subs)
                found = union if found is None else found & union
        return found
