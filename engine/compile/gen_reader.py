"""The generated facts reader: `read(facts)` walks the facts once, checking them against
their schema (engine.compile.gen_schema writes the checks) and reading each input as its
type where the walk passes it, into columns: one list per input of each collection, each
item's parent (p), its place in the facts (q), and where each parent's children start (o).

Inputs are read as engine.run.items reads them (defaults, the common conversions inline,
the rest by the same `convert`); anything it refuses, the interpreter explains.
"""
from __future__ import annotations

import re

from .gen_expr import Unsupported
from .gen_schema import Hooks, SchemaCode


_PLAIN_NONNEGATIVE = r"^(0|[1-9][0-9]*)(\.[0-9]+)?\Z"
_PLAIN_FORMS = {_PLAIN_NONNEGATIVE, r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?\Z"}   # within jsonfacts._PLAIN


def _decimal_map(t) -> bool:
    return t.kind == "map" and not t.optional and t.args[1].kind == "decimal" and not t.args[1].optional


class Reader(Hooks):
    def __init__(self, gen, used: set):
        self.gen, self.src, self.used = gen, gen.src, used
        self.arrays, self.maps = {}, {}
        for scope in gen.version.scopes.values():
            if scope.qualified:
                (self.maps if scope.entries else self.arrays)[tuple(scope.facts_base)] = scope
        self.seen: set = set()
        self.position: dict = {}
        self.objects: dict = {}   # path -> the locals of its properties, for objects always present
        self.locations: dict = {}  # facts-schema path of an input's value -> (scope, input, its local)
        for scope in gen.version.scopes.values():
            if scope.entries:   # an entry's value: where the walk passes the object's values
                inp = scope.inputs[scope.entries[1]]
                self.locations[tuple(scope.facts_base)] = (scope, inp, self.src.fresh("w"))
                continue
            for inp in scope.inputs.values():
                where = tuple(scope.facts_base) + tuple(inp.path)
                self.locations[where] = (scope, inp, self.src.fresh("w"))
        self.reached: set = set()   # the locations the walk reads

    def k(self, scope) -> int:
        return self.gen.sid[scope.qualified]

    def items(self, path) -> bool:
        return tuple(path) in self.arrays

    def entries(self, path) -> bool:
        return tuple(path) in self.maps

    def before_items(self, path):
        scope = self.arrays[tuple(path)]
        if scope.key:
            self.src.line(f"seen{self.k(scope)} = set()")

    def remembers(self, path) -> bool:
        found = self.locations.get(tuple(path))
        return found is not None and self._remembered(found[1].type)

    @staticmethod
    def _remembered(t) -> bool:
        """Values read from text worth remembering: dates, months, text of known values."""
        return t.kind in ("date", "month") or (t.kind == "text" and t.values is not None)

    def leaf(self, path, var, kind, checks=(), clean=None, node=None):
        """Reads an input where the check passes its value: converted as items.convert does
        (a date, a month, one of known values: remembered, so a known one needs no check again)."""
        found = self.locations.get(tuple(path))
        if found is None:
            return super().leaf(path, var, kind, checks, clean)
        scope, inp, local = found
        self.reached.add(tuple(path))
        src, t = self.src, inp.type
        if kind == "str" and self._remembered(t):
            memo = src.const({}, "MEMO")
            src.line(f"{local} = {memo}.get({var})")
            with src.block(f"if {local} is None:"):
                super().leaf(path, var, kind, checks, clean)
                src.line(f"{local} = REMEMBER({memo}, CONVERT({src.const(t, 'TY')}, {var}), {var})")
            return
        strict = scope.entries is not None   # an entry's value is read by convert, which wants plain text
        if kind == "str" and t.kind == "decimal" and not t.optional and self._plain_only(checks, var):
            # the schema's plain-decimal pattern alone: its text is what str() writes of its
            # Decimal, digits first and no exponent, or else the pattern decides
            src.line(f"{local} = Decimal({var})")
            src.line(f"if {var}[0] not in DIGITS or 'E' in {var} or str({local}) != {var}:")
            src.line(f"    {checks[0].replace('if not', 'if not', 1)}")
            if clean is not None:
                clean()
            return
        super().leaf(path, var, kind, checks, clean)
        if kind == "str" and t.kind == "decimal" and not t.optional:
            implied = not strict or self._plain_implied(node)
            src.line(f"{local} = Decimal({var})" if implied else f"{local} = {self._convert(t, var, strict_decimal=True)}")
        elif kind == "str" and t.kind == "text" and t.values is None:
            src.line(f"{local} = {var}")
        else:
            src.line(f"{local} = {self._convert(t, var, strict_decimal=strict)}")

    def _plain_only(self, checks, var) -> bool:
        """Is the one check left on this text the schema's non-negative plain-decimal pattern?"""
        if len(checks) != 1:
            return False
        found = re.findall(r"RXS\d+(?=\(" + re.escape(var) + r"\) is not None)", checks[0])
        rest = re.sub(r"RXS\d+\(" + re.escape(var) + r"\) is not None", "", checks[0])
        if len(found) != 1 or rest.replace("(", "").replace(")", "").replace("if not", "").replace(": raise BAIL",
                                                                                                "").strip():
            return False
        return self.src.constants[found[0]].__self__.pattern == _PLAIN_NONNEGATIVE

    def _plain_implied(self, node) -> bool:
        """Does every valid text here match jsonfacts' plain decimal (the schema's own pattern says so)?"""
        return node is not None and any(rx.pattern in _PLAIN_FORMS for rx in self.code._patterns(node))

    def map_start(self, path):
        found = self.locations.get(tuple(path))
        if found is not None and _decimal_map(found[1].type):
            self.src.line(f"{found[2]} = {{}}")

    def map_value(self, path, key, value):
        """A map of decimals, read value by value as the walk passes them (convert's answer)."""
        found = self.locations.get(tuple(path))
        if found is None or not _decimal_map(found[1].type):
            return
        self.reached.add(tuple(path))
        item = f"(Decimal({value}) if type({value}) is str and PLAIN({value}) else " \
               f"CONVERT({self.src.const(found[1].type.args[1], 'TY')}, {value}))"
        self.src.line(f"{found[2]}[{key}] = {item}")

    def reads_under(self, path) -> bool:
        n = len(path)
        return any(where[:n] == tuple(path) for where in self.locations)

    def absent(self, path) -> None:
        """A key that is not there: each input read at or under it takes its default."""
        n = len(path)
        for where, (_scope, inp, local) in self.locations.items():
            if where[:n] == tuple(path):
                self.src.line(f"{local} = {self.src.const(inp.default)}")

    def item_start(self, path, position):
        scope = self.arrays[tuple(path)]
        k = self.k(scope)
        self.position[k] = position
        if scope.children:   # the index its children name as their parent
            self.src.line(f"h{k} = n{k}")
        self.src.line(f"n{k} += 1")
        if scope.children:   # the time limit, now and then (as the interpreter, reading is not timed item by item)
            self.src.line(f"if not n{k} & 1023 and monotonic_ns() > at_ns: raise BAIL")

    def after_items(self, path, var):
        scope = self.arrays[tuple(path)]
        if scope.key:   # a key twice: fewer keys than items
            self.src.line(f"if len(seen{self.k(scope)}) != len({var}): raise BAIL")

    def _parent(self, scope) -> str:
        return "0" if scope.parent.qualified == "" else f"h{self.k(scope.parent)}"

    def _append(self, name: str, value: str) -> None:
        if name in self.used:
            self.src.line(f"{name}.append({value})")

    def item_end(self, path, var, fields):
        path = tuple(path)
        if path and "[]" not in path and "{}" not in path and self._always(path):
            self.objects[path] = fields
        if path == ():
            scope = self.gen.version.root
            for inp in scope.inputs.values():
                self.src.line(f"v_{inp.name} = {self._input(inp, var, fields)}")
        elif path in self.arrays:
            scope = self.arrays[path]
            k = self.k(scope)
            values = {}
            for inp in scope.inputs.values():
                code = self._input(inp, var, fields)
                if code.isidentifier():   # read where the walk passed it: its local already
                    values[inp.name] = code
                    continue
                local = self.src.fresh("w")
                self.src.line(f"{local} = {code}")
                values[inp.name] = local
            if scope.key:
                key = values.get(scope.key, "None")
                self.src.line(f"seen{k}.add({key})")
            for name, local in values.items():
                self._append(self.gen.col(scope, name), local)
            self._append(f"p{k}", self._parent(scope))
            self._append(f"q{k}", self.position[k])
        else:
            return
        self.seen.add(scope.qualified)
        for child in scope.children.values():
            if child.entries and child.children:
                raise Unsupported("collections under an object's entries")
            self.src.line(f"o{self.k(child)}.append(n{self.k(child)})")

    def entry(self, path, key, value):
        scope = self.maps[tuple(path)]
        k = self.k(scope)
        key_name, value_name = scope.entries
        self._append(self.gen.col(scope, key_name), key)   # text: the check says so
        local = self.locations[tuple(path)][2]
        if tuple(path) not in self.reached:   # the walk did not convert it (not a leaf it writes)
            self.src.line(f"{local} = {self._convert(scope.inputs[value_name].type, value, strict_decimal=True)}")
        self._append(self.gen.col(scope, value_name), local)
        self._append(f"p{k}", self._parent(scope))
        self._append(f"q{k}", key)
        self.src.line(f"n{k} += 1")
        self.seen.add(scope.qualified)

    def _always(self, path) -> bool:
        """Is the object at path (from the top) in all valid facts: every step a required key of
        an object?"""
        schema = self.gen.version.facts_schema_doc
        node = schema
        for key in path:
            while isinstance(node, dict) and set(node) - {"title", "description"} == {"$ref"}:
                node = self.code.resolve(node["$ref"])
            if not isinstance(node, dict) or node.get("type") != "object" or key not in node.get("required", ()):
                return False
            node = node.get("properties", {}).get(key)
        while isinstance(node, dict) and "$ref" in node and len(node) == 1:
            node = self.code.resolve(node["$ref"])
        return isinstance(node, dict) and node.get("type") == "object"

    def _input(self, inp, obj: str, fields: dict) -> str:
        src = self.src
        scope = next((sc for sc, i, _l in self.locations.values() if i is inp), None)
        if scope is not None:
            where = tuple(scope.facts_base) + tuple(inp.path)
            if where in self.reached:   # read where the walk passed it
                return self.locations[where][2]
        nested = self.objects.get(inp.path[:-1]) if obj == "facts" and len(inp.path) > 1 else None
        if nested is not None and inp.path[-1] in nested:   # read where the check read it
            raw = nested[inp.path[-1]]
        elif len(inp.path) == 1 and inp.path[0] in fields:
            raw = fields[inp.path[0]]
        else:
            raw = src.fresh("r")
            if len(inp.path) == 1:
                src.line(f"{raw} = {obj}.get({inp.path[0]!r}, MISSING)")
            else:
                src.line(f"{raw} = dig({obj}, {src.const(inp.path)})")
        return f"({src.const(inp.default)} if {raw} is MISSING else {self._convert(inp.type, raw)})"

    def _convert(self, t, raw: str, strict_decimal: bool = False) -> str:
        """raw as engine.run.items reads an input of type t (entries: as `convert` does)."""
        src = self.src
        conv = f"CONVERT({src.const(t, 'TY')}, {raw})"
        if t.kind == "decimal":
            test = f"type({raw}) is str" + (f" and PLAIN({raw})" if strict_decimal else "")
            return f"(Decimal({raw}) if {test} else {conv})"
        if t.kind in ("integer", "boolean"):
            return f"({raw} if type({raw}) is {'int' if t.kind == 'integer' else 'bool'} else {conv})"
        if t.kind == "text" and t.values is None:
            return f"({raw} if type({raw}) is str else {conv})"
        if t.kind == "map" and t.args[1].kind == "decimal" and not t.args[1].optional:
            k, x = src.fresh("k"), src.fresh("x")
            item = f"(Decimal({x}) if type({x}) is str and PLAIN({x}) else CONVERT({src.const(t.args[1], 'TY')}, {x}))"
            return f"({{str({k}): {item} for {k}, {x} in {raw}.items()}} if type({raw}) is dict else {conv})"
        if t.kind in ("date", "month", "text"):   # pure functions of short text: remembered
            memo = src.const({}, "MEMO")
            return f"({memo}[{raw}] if type({raw}) is str and {raw} in {memo} else REMEMBER({memo}, {conv}, {raw}))"
        return conv


def reader(gen, used: set) -> list[str]:
    """Writes `def read(facts)` to gen.src; returns the names of the state it returns."""
    v, src = gen.version, gen.src
    state = [f"v_{name}" for name in v.root.inputs]
    hooks = Reader(gen, used)
    with src.block("def read(facts, consume=False, at_ns=1 << 63):"):
        src.line("nk = 0")
        for scope in v.scopes.values():
            if scope.qualified:
                k = gen.sid[scope.qualified]
                names = [gen.col(scope, i) for i in scope.inputs] + [f"p{k}", f"q{k}"]
                src.line(f"{', '.join(names)} = " + ", ".join("[]" for _ in names))
                src.line(f"o{k} = [0]")
                src.line(f"n{k} = 0")
                state += names + [f"o{k}", f"n{k}"]
        hooks.code = SchemaCode(src, v.facts_schema_doc, hooks)
        hooks.code.check(v.facts_schema_doc, "facts", 1)
        missing = [s.qualified for s in v.scopes.values() if s.qualified and s.qualified not in hooks.seen]
        if "" not in hooks.seen or missing:
            raise Unsupported(f"collections the facts schema does not describe as objects: {', '.join(missing)}")
        day = "None"
        if v.as_of_default is not None:   # the date the decision is for, when the caller gives none
            from .gen_expr import Context
            src.line(f"day = AS_OF({gen.expression(v.as_of_default.part('expr'), v.as_of_default.refs, Context(v.root))})")
            day = "day"
        src.line(f"return ({', '.join(state)},), nk, {day}")
    return state

