"""The facts check of generated code: Python statements, written from a facts JSON Schema,
that pass valid facts (with jsonfacts.clean's limits: short plain text, bounded numbers,
no floats, no other kinds of value) and raise Bail for anything else.

It has to be sound, not complete: what it passes must be valid, and the interpreter
decides (and explains) whatever it refuses. So it is strict where strictness is cheap
(exact types: a dict, a list, str, int, Decimal), and a part of a schema it does not
write as statements is checked by the compiled predicate of engine.check.fast.
"""
from __future__ import annotations


from ..check import fast, schema as schemacheck
from ..load.jsonfacts import MAX_DEPTH, MAX_DIGITS
from .gen_text import _IGNORED, _TYPES, TextChecks
from .source import Source





class Unsupported(Exception):
    pass


class Hooks:
    """What the reader does at the places the check walks through (engine.compile.gen_reader
    reads the inputs there, in the same pass): nothing, by default."""

    def items(self, path) -> bool:          # an array whose items are a collection's?
        return False

    def before_items(self, path) -> None: ...

    def item_start(self, path, position) -> None: ...

    def after_items(self, path, var) -> None: ...

    def item_end(self, path, var, fields) -> None: ...

    def entries(self, path) -> bool:        # an object whose entries are a collection's?
        return False

    def entry(self, path, key, value) -> None: ...

    def remembers(self, path) -> bool:      # does the reader remember what it read here (so checked)?
        return False

    def map_start(self, path) -> None: ...

    def reads_under(self, path) -> bool:    # is an input read at or under path?
        return False

    def absent(self, path) -> None: ...

    def map_value(self, path, key, value) -> None: ...

    def leaf(self, path, var, kind, checks=(), clean=None, node=None) -> None:
        """A value the check passes (kind 'str': known to be text). checks and clean, when
        given, are the checks still to make: written here, or by the reader, which may
        remember what it read (and so that it was checked)."""
        for line in checks:
            self.src.line(line)
        if clean is not None:
            clean()


class SchemaCode(TextChecks):
    def __init__(self, src: Source, root: dict, hooks: Hooks | None = None):
        self.src, self.root = src, root
        self.hooks = hooks or Hooks()
        self.hooks.src = src

    # -- what a node says, in one expression (validity only) --------------------------------------
    def resolve(self, pointer: str) -> dict:
        if not pointer.startswith("#/"):
            raise Unsupported(pointer)
        node = self.root
        for part in pointer[2:].split("/"):
            node = node[part]
        return node

    def expr(self, node, v: str, seen=()) -> str | None:
        """A boolean expression true only if v is valid against node, or None."""
        if node is True or node == {}:
            return "True"
        if node is False:
            return "False"
        parts = []
        for key, arg in node.items():
            if key in _IGNORED or key in ("then", "else"):
                continue
            if key in ("pattern", "minLength") and node.get("type") == "string":
                part = self._string(key, arg, v)   # the type is tested beside it
            else:
                part = self._keyword(key, arg, node, v, seen)
            if part is None:
                return None
            parts.append(part)
        return " and ".join(f"({p})" for p in parts) if parts else "True"

    def _string(self, key, arg, v):
        if key == "pattern":
            return f"{self.src.const(schemacheck.ecma_regex(arg).search, 'RXS')}({v}) is not None"
        return f"len({v}) >= {int(arg)}"

    def _keyword(self, key, arg, node, v, seen):
        if key == "type":
            names = arg if isinstance(arg, list) else [arg]
            tests = []
            for n in names:
                if n in _TYPES:
                    tests.append(f"type({v}) is {_TYPES[n]}")
                elif n == "number":
                    tests.append(f"type({v}) in NUMBERS")
                elif n == "null":
                    tests.append(f"{v} is None")
                else:
                    raise Unsupported(n)
            return " or ".join(tests)
        if key == "$ref":
            if arg in seen:
                return None
            return self.expr(self.resolve(arg), v, seen + (arg,))
        if key == "enum":
            if all(isinstance(x, str) for x in arg):
                return f"type({v}) is str and {v} in {self.src.const(frozenset(arg))}"
            return f"enum_ok({v}, {self.src.const(tuple(arg))})"
        if key == "const":
            return f"enum_ok({v}, {self.src.const((arg,))})"
        if key == "pattern":
            rx = self.src.const(schemacheck.ecma_regex(arg).search, "RXS")
            return f"type({v}) is not str or {rx}({v}) is not None"
        if key == "minLength":
            return f"type({v}) is not str or len({v}) >= {int(arg)}"
        if key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            op = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[key]
            return f"type({v}) not in NUMBERS or {v} {op} {self.src.const(arg)}"
        if key == "format":
            if arg not in ("date", "date-time"):
                raise Unsupported(arg)
            return f"type({v}) is not str or format_ok({v}, {arg!r})"
        if key in ("anyOf", "allOf"):
            subs = [self.expr(s, v, seen) for s in arg]
            if any(s is None for s in subs):
                return None
            return (" or " if key == "anyOf" else " and ").join(f"({s})" for s in subs)
        if key == "not":
            sub = self.expr(arg, v, seen)
            return None if sub is None else f"not ({sub})"
        if key == "if":
            cond, then = self.expr(arg, v, seen), self.expr(node.get("then", True), v, seen)
            other = self.expr(node.get("else", True), v, seen)
            if None in (cond, then, other):
                return None
            return f"({then}) if ({cond}) else ({other})"
        if key == "properties":
            subs = []
            for k, s in arg.items():
                sub = self.expr(s, f"{v}[{k!r}]", seen)
                if sub is None:
                    return None
                if sub != "True":
                    subs.append(f"({k!r} not in {v} or ({sub}))")
            return f"type({v}) is not dict or ({' and '.join(subs) or 'True'})"
        if key == "required":
            return f"type({v}) is not dict or ({' and '.join(f'{k!r} in {v}' for k in arg) or 'True'})"
        if key in ("minItems", "maxItems"):
            return f"type({v}) is not list or len({v}) {'>=' if key == 'minItems' else '<='} {int(arg)}"
        if key == "minProperties":
            return f"type({v}) is not dict or len({v}) >= {int(arg)}"
        if key == "uniqueItems":
            return "True" if not arg else \
                f"type({v}) is not list or len({{(type(u), repr(u)) for u in {v}}}) == len({v})"
        return None

    def predicate(self, node, v: str) -> str:
        """node checked by engine.check.fast's compiled predicate (what expr cannot write)."""
        fn = fast.compile_schema({**node, "$defs": self.root.get("$defs", {})} if isinstance(node, dict) else node)
        if fn is None:
            raise Unsupported("a schema part the fast check does not compile")
        return f"{self.src.const(fn, 'FP')}({v})"

    def valid(self, node, v: str) -> str:
        e = self.expr(node, v)
        return e if e is not None else self.predicate(node, v)

    # -- statements: validity and jsonfacts.clean's limits, every value visited once --------------
    def check(self, node, v: str, depth: int, seen=(), path=()) -> None:
        """Statements that raise Bail unless v is valid and clean; every value under v is
        visited (the structure by the statements, the rest by support.plain)."""
        src = self.src
        if depth > MAX_DEPTH:
            src.line("raise BAIL")
            return
        if node is False:
            src.line("raise BAIL")
            return
        if node is True or node == {}:
            src.line(f"nk += plain({v}, {depth})")
            return
        if set(node) - _IGNORED == {"$ref"}:
            ref = node["$ref"]
            if ref in seen:
                src.line(f"if not {self.predicate(node, v)}: raise BAIL")
                src.line(f"nk += plain({v}, {depth})")
                return
            self.check(self.resolve(ref), v, depth, seen + (ref,), path)
            return
        kind = node.get("type")
        structural = {"properties", "additionalProperties", "propertyNames", "required", "minProperties",
                      "items", "minItems", "maxItems", "uniqueItems"}
        if kind in ("object", "array") or (kind is None and structural & set(node)):
            self._container(node, v, depth, seen, path)
            return
        if self._collection_at(path, None):
            raise Unsupported(f"a collection at {'.'.join(path)} that is not an array or object in the schema")
        kinds = self._kinds(node)
        as_text = self.text_expr(node, v) if kinds is None or "str" in kinds else None
        if as_text is None:
            src.line(f"if not ({self.valid(node, v)}): raise BAIL")
            self._leaf(node, v, depth)
            self.hooks.leaf(path, v, None, node=node)
            return
        with src.block(f"if type({v}) is str:"):   # the common case first, tested as text only
            if as_text != "True" and self._short(node) and not self.hooks.remembers(path):
                known = src.const(set(), "OK")   # a symbol, a code: the same few again and again
                with src.block(f"if {v} not in {known}:"):
                    src.line(f"if not ({as_text}): raise BAIL")
                    self._text_clean(node, v)
                    src.line(f"if len({known}) < 4096: {known}.add({v})")
                self.hooks.leaf(path, v, "str", node=node)
            else:
                checks = [f"if not ({as_text}): raise BAIL"] if as_text != "True" else []
                self.hooks.leaf(path, v, "str", checks, lambda: self._text_clean(node, v), node)
            src.line("pass")
        with src.block("else:"):
            if kinds == {"str"}:
                src.line("raise BAIL")
            else:
                src.line(f"if not ({self.valid(node, v)}): raise BAIL")
                src.line(f"nk += plain({v}, {depth})")
                self.hooks.leaf(path, v, None, node=node)

    def _collection_at(self, path, kind) -> bool:
        """Is a collection read here from a node that does not say it is what it must be (its
        items objects, its list an array, its entries an object)?"""
        hooks = self.hooks
        return hooks.items(path) and kind != "object" or hooks.items(path + ("[]",)) and kind != "array" \
            or hooks.entries(path + ("{}",)) and kind != "object"

    def _leaf(self, node, v, depth):
        kinds = self._kinds(node)
        src = self.src
        strings = f"if (len({v}) > {MAX_DIGITS} or not {v}.isascii()) and not str_ok({v}): raise BAIL"
        if kinds == {"str"}:
            src.line(strings)
        elif kinds == {"int"}:
            src.line(f"if not -INT_BOUND < {v} < INT_BOUND: raise BAIL")
        elif kinds is not None and kinds <= {"int", "Decimal", "bool", "None"}:
            src.line(f"if type({v}) is not bool and {v} is not None: nk += plain({v}, {depth})")
        else:
            with src.block(f"if type({v}) is str:"):
                src.line(strings)
            with src.block("else:"):
                src.line(f"nk += plain({v}, {depth})")

    def _container(self, node, v, depth, seen, path):
        src = self.src
        kind = node.get("type")
        if self._collection_at(path, kind):
            raise Unsupported(f"a collection at {'.'.join(path)} whose items are not always objects")
        if kind not in (None, "object", "array"):   # several types: checked whole, visited by plain
            src.line(f"if not ({self.valid(node, v)}): raise BAIL")
            src.line(f"nk += plain({v}, {depth})")
            return
        fetched = set(node.get("properties", {})) if kind == "object" else set()
        rest = {k: a for k, a in node.items() if k not in ("properties", "additionalProperties", "propertyNames",
                                                           "items", "type")}
        if set(rest.get("required", ())) <= fetched:   # v[k] raises where a key is missing
            rest.pop("required", None)
        whole = self.expr(rest, v, seen)
        if whole is None:
            whole = self.predicate(node, v)
        if whole != "True":
            src.line(f"if not ({whole}): raise BAIL")
        if kind == "object" or (kind is None and {"properties", "additionalProperties", "propertyNames",
                                                   "required", "minProperties"} & set(node)):
            if kind == "object":
                src.line(f"if type({v}) is not dict: raise BAIL")
                self._object(node, v, depth, seen, path)
            else:
                with src.block(f"if type({v}) is dict:"):
                    self._object(node, v, depth, seen, path)
                if "items" in node:
                    with src.block(f"elif type({v}) is list:"):
                        self._array(node, v, depth, seen, path)
                with src.block("else:"):
                    src.line(f"nk += plain({v}, {depth})")
            return
        if kind == "array":
            src.line(f"if type({v}) is not list: raise BAIL")
            self._array(node, v, depth, seen, path)
        else:
            with src.block(f"if type({v}) is list:"):
                self._array(node, v, depth, seen, path)
            with src.block("else:"):
                src.line(f"nk += plain({v}, {depth})")

    def _object(self, node, v, depth, seen, path):
        src, hooks = self.src, self.hooks
        src.line(f"nk += len({v})")   # keys read: a batch line's count of keys in its text must agree
        props = node.get("properties", {})
        required = set(node.get("required", ()))
        extra = node.get("additionalProperties", True)
        names = node.get("propertyNames")
        fields = {}
        for k, sub in props.items():
            x = src.fresh("x")
            fields[k] = x
            if k in required:
                src.line(f"{x} = {v}[{k!r}]")
                self.check(sub, x, depth + 1, seen, path + (k,))
            else:
                src.line(f"{x} = {v}.get({k!r}, MISSING)")
                with src.block(f"if {x} is not MISSING:"):
                    self.check(sub, x, depth + 1, seen, path + (k,))
                    src.line("pass")
                if hooks.reads_under(path + (k,)):   # absent: what is read there takes its default
                    with src.block("else:"):
                        hooks.absent(path + (k,))
        entries = hooks.entries(path + ("{}",))
        if entries and props:
            raise Unsupported("a collection of an object's entries where the object also has properties")
        known = src.const(frozenset(props), "KEYS")
        if extra is False and names is None and not entries:
            src.line(f"if not {known}.issuperset({v}): raise BAIL")
        else:
            k, x = src.fresh("k"), src.fresh("x")
            if not props:
                hooks.map_start(path)
            with src.block(f"for {k}, {x} in {v}.items():"):
                src.line(f"if type({k}) is not str: raise BAIL")
                if names is not None and self._short(names):   # keys such as symbols: remembered as checked
                    checked = src.const(set(), "OK")
                    with src.block(f"if {k} not in {checked}:"):
                        src.line(f"if not ({self.valid(names, k)}): raise BAIL")
                        src.line(f"if (len({k}) > {MAX_DIGITS} or not {k}.isascii()) and not str_ok({k}): raise BAIL")
                        src.line(f"if len({checked}) < 4096: {checked}.add({k})")
                elif names is not None:
                    src.line(f"if not ({self.valid(names, k)}): raise BAIL")
                    src.line(f"if (len({k}) > {MAX_DIGITS} or not {k}.isascii()) and not str_ok({k}): raise BAIL")
                with src.block(f"if {k} not in {known}:"):
                    if extra is False:
                        src.line("raise BAIL")
                    else:
                        self.check(extra, x, depth + 1, seen, path + ("{}",))
                        if entries:
                            hooks.entry(path + ("{}",), k, x)
                        elif not props:
                            hooks.map_value(path, k, x)
                        src.line("pass")
        hooks.item_end(path, v, fields)

    def _array(self, node, v, depth, seen, path):
        src, hooks = self.src, self.hooks
        x = src.fresh("x")
        item = path + ("[]",)
        if hooks.items(item):
            position = src.fresh("i")
            hooks.before_items(item)
            with src.block(f"for {position}, {x} in enumerate({v}):"):
                hooks.item_start(item, position)
                self.check(node.get("items", True), x, depth + 1, seen, item)
                src.line("pass")
            hooks.after_items(item, v)
            src.line(f"if consume: {v}.clear()")   # read: what it held is in the columns now
            return
        with src.block(f"for {x} in {v}:"):
            self.check(node.get("items", True), x, depth + 1, seen, item)
            src.line("pass")


def facts_check(src: Source, schema: dict, v: str = "facts") -> None:
    """Statements checking v (the facts) against schema; Unsupported if a keyword is not known."""
    SchemaCode(src, schema).check(schema, v, 1)
