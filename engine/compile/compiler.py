"""Rule file -> Version: schema check, name resolution, dependency order, static checks.

Every problem found in a file is collected and raised together as one RuleError, each
with file:line:col.
"""
from __future__ import annotations

import ast
import hashlib
import re
import string
from dataclasses import dataclass, replace
from datetime import date
from decimal import Context, Decimal, DivisionByZero, InvalidOperation, Overflow, localcontext
from pathlib import Path

from ..check import schema as schemacheck
from . import typer
from ..errors import Diagnostic, PolicyError, RuleError, did_you_mean
from .expressions import ExpressionSyntaxError, parse
from ..check.fast import compile_schema
from .functions import FUNCTIONS
from . import shared as shared_mod
from .shared import Shared, selections
from .model import (Band, Condition, Formula, Input, MapTable, Parameter, Ref, ResultField, Rounding,
                    Row, Scope, Table, Version, _shown)
from ..load.yamlfile import Source, load_yaml

ROUNDING_MODES = {"half_up": "ROUND_HALF_UP", "half_even": "ROUND_HALF_EVEN", "half_down": "ROUND_HALF_DOWN",
                  "down": "ROUND_DOWN", "up": "ROUND_UP", "floor": "ROUND_FLOOR", "ceiling": "ROUND_CEILING"}


MAX_QUANTUM_PLACES = 20   # with up to 40 digits before the point, a result still fits in 60 digits
_LOAD_CONTEXT = Context(prec=60, Emax=999_999, Emin=-999_999, traps=[InvalidOperation, DivisionByZero, Overflow])


class _Ctx:
    """What one file's compilation accumulates."""

    def __init__(self, src: Source):
        self.src = src
        self.errors: list[Diagnostic] = []

    def error(self, path, message, key=False):
        self.errors.append(self.src.diag(path, message, key))

    def diag_at(self, path, col: int, message: str) -> Diagnostic:
        """A problem at a character of an expression scalar (0-based col in its raw text)."""
        text = self.src.data_at(path)
        token = re.match(r"[A-Za-z_][A-Za-z0-9_.]*|[0-9][0-9.]*|[<>=!]=|\*\*|\S", str(text)[col:]) if text else None
        return Diagnostic(self.expr_where(path, col, token.group(0) if token else None, str(text or "")), message)

    def expr_where(self, path, col: int, name: str | None = None, text: str = "") -> str:
        """file:line:col of a character inside an expression scalar. On one line the column
        is exact; in a scalar spread over lines (folded, block, or a long plain one) the
        name is found in the source itself, its n-th whole-word use as in the expression."""
        path = tuple(path)
        where = self.src.where(path)
        span = self.src.spans.get(path)
        source = self.src.text[span[0]:span[1]] if span else ""
        if "\n" not in source:
            line, _, c = where.rpartition(":")
            quoted = 1 if self.src.styles.get(path) in ("'", '"') else 0
            return f"{line}:{int(c) + quoted + col}"
        if name:
            word = re.compile((r"(?<![A-Za-z0-9_.])" if name[0].isalnum() or name[0] == "_" else "") + re.escape(name)
                              + (r"(?![A-Za-z0-9_])" if name[-1].isalnum() or name[-1] == "_" else ""))
            nth = len(word.findall(text[:col]))
            found = list(word.finditer(source))
            if found:
                offset = span[0] + found[min(nth, len(found) - 1)].start()
                line = self.src.text.count("\n", 0, offset) + 1
                column = offset - (self.src.text.rfind("\n", 0, offset) + 1) + 1
                return f"{self.src.path}:{line}:{column}"
        return where


def compile_file(file: Path, display: str, rule_validator, schema_dirs, shared_files=None,
                 check_schemas: bool = True) -> Version:
    """shared_files: name -> Shared, the rules/_shared/ files a version may `use`."""
    raw = Path(file).read_bytes()
    src = load_yaml(raw, display)
    ctx = _Ctx(src)
    doc = src.data
    if not isinstance(doc, dict):
        raise RuleError(src.diag((), "a rule file is a mapping of keys (policy, version, ...)"))
    fast = _rule_fast_check(rule_validator)
    if fast is None or not fast(doc):   # jsonschema explains; valid files skip it
        for path, message, at_key in schemacheck.explain(rule_validator, doc):
            ctx.error(path, message, at_key)
    schema_failed = bool(ctx.errors)
    items = {}
    for i, name in enumerate(doc.get("uses") or ()):
        if name in (shared_files or {}) and shared_files[name] is None:
            raise RuleError([])   # the shared file has errors of its own: this file's would be knock-ons
        if name not in (shared_files or {}):
            ctx.error(("uses", i), f"shared file '{name}' not found in _shared/{did_you_mean(name, shared_files or {})}")
        elif isinstance(name, str):
            for item_name, item in shared_files[name].items.items():
                if item_name in items:
                    ctx.error(("uses", i), f"'{item_name}' is in two shared files: {items[item_name].path} and {item.path}")
                items.setdefault(item_name, item)
    # The shared values in effect on the version's own dates (its base), then a variant of
    # the version for every other combination of the dated values it reads.
    effective = _or_none(lambda: date.fromisoformat(doc["effective_from"]))
    published = _or_none(lambda: schemacheck.parse_timestamp(doc["published"]))
    base = {n: (it.select(effective, published) if effective and published else None) for n, it in items.items()}
    try:
        c = _Compiler(ctx, doc, file, raw, schema_dirs, (items, {n: base[n] or 0 for n in items}), check_schemas)
        version = c.build()
        for n in version.dated_names:
            if base[n] is None and effective and published:
                ctx.errors.append(Diagnostic(ctx.src.where(("effective_from",)),
                                             str(items[n].none_in_effect(effective, published).diagnostics[0])))
        if not ctx.errors and version.dated:
            for sel in selections(version.dated):
                chosen = dict(zip(version.dated_names, sel))
                if all(base[n] == i for n, i in chosen.items()):
                    version.variants[sel] = version
                else:
                    values = {n: chosen.get(n, base[n] or 0) for n in items}
                    version.variants[sel] = _Compiler(ctx, doc, file, raw, schema_dirs, (items, values), False).build()
    except Exception:
        # The schema already failed: go on only as far as the file's shape allows, so that
        # every error found so far is reported in this one pass. Without schema errors an
        # exception here is a bug in the engine and must show.
        if not schema_failed:
            raise
        version = None
    if ctx.errors:
        raise RuleError(_one_per_place(ctx.errors))
    return version


_RULE_FAST: dict = {}


def _rule_fast_check(validator):
    if id(validator) not in _RULE_FAST:
        _RULE_FAST.clear()
        _RULE_FAST[id(validator)] = (validator, compile_schema(validator.schema))
    return _RULE_FAST[id(validator)][1]


def _meta(spec) -> tuple:
    """What a node says about itself (kept for render and diff): description, unit, source, assumed."""
    if not isinstance(spec, dict):
        return ()
    return tuple((k, spec[k]) for k in ("description", "unit", "source", "assumed") if isinstance(spec.get(k), str))


def _or_none(fn):
    try:
        return fn()
    except (KeyError, TypeError, ValueError):
        return None


def _one_per_place(errors: list[Diagnostic]) -> list[Diagnostic]:
    """The first error at each file:line:col (a later one there is a knock-on of it), in
    the order of the file."""
    seen, out = set(), []
    for e in errors:
        if e.where not in seen:
            seen.add(e.where)
            out.append(e)
    return sorted(out, key=_position)


def _position(d: Diagnostic):
    parts = d.where.rsplit(":", 2)
    try:
        return (parts[0], int(parts[1]), int(parts[2]))
    except (IndexError, ValueError):
        return (d.where, 0, 0)


def compile_shared(file: Path, display: str, shared_validator) -> Shared:
    return shared_mod.compile_shared(file, display, shared_validator,
                                     lambda ctx, doc: _Compiler(ctx, doc, file, b"", ()))


_SCHEMA_CACHE: dict = {}


def _facts_schema_file(path: Path, check: bool):
    """(schema, validator, fast check) of a facts schema file, read once per file version
    (its size and modification time): versions that share a schema share the work."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _SCHEMA_CACHE:
        schema = schemacheck.load_schema(path)
        _SCHEMA_CACHE[key] = [schema, schemacheck.validator_for(schema), compile_schema(schema), False]
    entry = _SCHEMA_CACHE[key]
    if check and not entry[3]:   # meta-check against draft 2020-12, once
        entry[1].check_schema(entry[0])
        entry[3] = True
    return entry[0], entry[1], entry[2]


class _Compiler:
    def __init__(self, ctx: _Ctx, doc: dict, file: Path, raw: bytes, schema_dirs, shared=({}, {}), check_schemas=True):
        """shared: (name -> SharedItem of the files the version uses, name -> the index of the
        value to compile with)."""
        self.ctx, self.doc, self.file, self.raw, self.schema_dirs = ctx, doc, Path(file), raw, schema_dirs
        self.check_schemas = check_schemas
        self.shared = shared
        self.used: set = set()          # parameters read by anything
        self.warnings: list[Diagnostic] = []
        self.used_tables: set = set()
        self.used_maps: set = set()
        self.scopes: dict[str, Scope] = {}
        self.formula_defs: dict[tuple[str, str], tuple] = {}   # (scope, name) -> (spec, yaml path)
        self.formulas: dict[tuple[str, str], Formula] = {}
        self.facts_schema: dict | None = None
        self.facts_fast = None
        self.filter_refs: dict = {}   # (id(expression), placeholder) -> the filter's Ref

    # -- top level ---------------------------------------------------------------------
    def build(self) -> Version:
        d, ctx = self.doc, self.ctx
        if d["policy"] != self.file.parent.name:
            ctx.error(("policy",), f"policy '{d['policy']}' must match its folder name '{self.file.parent.name}'")
        if str(d["version"]) != self.file.stem:
            ctx.error(("version",), f"version '{d['version']}' must match the file name '{self.file.stem}'")
        published = _or_none(lambda: schemacheck.parse_timestamp(d["published"]))
        effective = _or_none(lambda: date.fromisoformat(d["effective_from"]))
        validator = self._facts_schema(d["facts_schema"]) if isinstance(d.get("facts_schema"), str) else None

        self._data()
        self._merge_shared()
        self.rounding = {name: Rounding(name, Decimal(str(spec["quantum"])), ROUNDING_MODES[spec["mode"]])
                         for name, spec in (d.get("rounding") or {}).items()}
        for name, spec in self.rounding.items():
            if spec.quantum <= 0:
                ctx.error(("rounding", name, "quantum"), f"quantum must be positive, found {spec.quantum}")
            elif spec.quantum.normalize().as_tuple().digits != (1,) or spec.quantum > 1:
                ctx.error(("rounding", name, "quantum"), f"quantum must be 1 or a power of ten below it (0.1, "
                                                         f"0.01, ...), found {format(spec.quantum, 'f')}: rounding "
                                                         "rounds to decimal places")
            elif spec.quantum.normalize().as_tuple().exponent < -MAX_QUANTUM_PLACES:
                ctx.error(("rounding", name, "quantum"), f"quantum {format(spec.quantum, 'f')} has more than "
                                                         f"{MAX_QUANTUM_PLACES} decimals: numbers keep 60 significant "
                                                         "digits, so rounding to it could not be done")

        root = self._scope(d, (), "", "", None, ())
        plan = self._plan()
        as_of = None
        if d.get("as_of_default"):
            as_of = self._formula(root, "as_of_default", d["as_of_default"], ("as_of_default",))
            for ref in as_of.refs:
                if ref.kind == "value" and ref.target not in root.inputs:
                    ctx.error(("as_of_default",), f"as_of_default may read only top-level inputs; '{ref.name}' is not one")
        conditions = tuple(self._condition(i, c) for i, c in enumerate(d.get("conditions") or ()))
        result = self._result_fields(d["result"], root, ("result",))
        plan = self._types(plan, conditions, result, as_of, root)
        self._violations_shown(conditions, result)
        self._unused(root)
        self._unreached(conditions, result)
        from ..run.evaluate import prepare
        # only a file without errors gets its closures: an unresolved name has nothing to read
        prepared, bound = prepare(plan, conditions, self.params) if not self.ctx.errors else ({}, {})
        from .schedule import needs_of, schedule
        order = schedule(plan, conditions) if not self.ctx.errors else ()
        return Version(readers=prepared, bound=bound, schedule=order, condition_needs=needs_of(conditions, plan),
                       plan_order={id(f): i for i, f in enumerate(plan)},
                       
            policy=d["policy"], version=str(d["version"]), title=d["title"], source=d["source"],
            published=published, effective_from=effective, assumed=tuple(d.get("assumed") or ()),
            notes=tuple(d.get("notes") or ()), facts_schema=d["facts_schema"], facts_validator=validator,
            facts_fast_check=self.facts_fast,
            as_of_default=as_of, parameters=self.params, tables=self.tables, maps=self.maps, root=root, scopes=self.scopes,
            plan=plan, conditions=conditions, result=result,
            digest=self._digest(), dated=tuple(self.shared[0][n] for n in self._dated_names()),
            dated_names=self._dated_names(),
            path=self.ctx.src.path, warnings=tuple(self.warnings),
            where_dates=self.ctx.src.where(("effective_from",)),
            where_assumed=tuple(self.ctx.src.where(("assumed", i)) for i in range(len(d.get("assumed") or ()))))

    def _types(self, plan, conditions, result, as_of, root):
        """Give every value a type (engine.typer); maps and switches get their keys as typed values."""
        types = typer.Types(self)
        specs = typer.type_formulas(self, types, plan)
        plan = tuple(replace(f, spec=specs[id(f)]) if id(f) in specs else f for f in plan)
        for i, (cond, spec) in enumerate(zip(conditions, self.doc.get("conditions") or ())):
            typer.type_condition(self, types, cond, spec, ("conditions", i))
        typer.type_result(self, types, result, self.doc["result"], ("result",), root)
        if as_of is not None:
            typer.type_as_of(self, types, as_of, self.doc["as_of_default"])
        return plan

    def _facts_schema(self, name: str):
        for folder in self.schema_dirs:
            candidate = Path(folder) / name
            if candidate.is_file():
                try:
                    schema, validator, fast = _facts_schema_file(candidate, self.check_schemas)
                except Exception as exc:  # a broken schema file is a rule error, said plainly
                    self.ctx.error(("facts_schema",), f"facts schema {candidate} cannot be used: {str(exc).splitlines()[0]}")
                    return None
                self.facts_schema, self.facts_fast = schema, fast
                return validator
        self.ctx.error(("facts_schema",), f"facts schema '{name}' not found in {', '.join(str(f) for f in self.schema_dirs)}")
        return None

    def _data(self):
        """Parameters, tables and maps: the rule data of a version or a shared file."""
        d = self.doc
        self.params = {name: self._parameter(name, spec, ("parameters", name)) for name, spec in
                       (d.get("parameters") or {}).items()}
        self.tables = {name: self._table(name, spec, ("tables", name)) for name, spec in (d.get("tables") or {}).items()}
        self.maps = {name: self._map(name, spec, ("maps", name)) for name, spec in (d.get("maps") or {}).items()}

    def _parameter(self, name, spec, at, value_at=None) -> Parameter:
        value = spec["value"]
        value_at = value_at or at + ("value",)
        if isinstance(value, int) and not isinstance(value, bool):
            value = Decimal(value)   # numbers from rule data are Decimal, whole or not
        elif isinstance(value, list):
            value = tuple(value)
        elif isinstance(value, str) and re.fullmatch(r"-?[0-9][0-9.,_ ]*%?|[-+]?(nan|inf|infinity)", value.strip(),
                                                     re.IGNORECASE):
            self.warnings.append(self.ctx.src.diag(value_at,
                f"parameter '{name}' is the text {value!r}; for a number write it without quotes"
                + (" and as a fraction (0.002% is 0.00002)" if value.strip().endswith("%") else "")))
        return Parameter(name, value, spec.get("unit"), spec.get("source"), spec.get("assumed"),
                         self.ctx.src.where(at, key=True), spec.get("description"))

    def _merge_shared(self):
        """The shared items of the files the version uses join its names, each with the value
        chosen for this compilation."""
        items, chosen = self.shared
        own = {"parameters": self.params, "tables": self.tables, "maps": self.maps}
        self.shared_names = set()
        for name, item in items.items():
            if name in self.params or name in self.tables or name in self.maps:
                kind = next(k for k, d in own.items() if name in d)
                self.ctx.error((kind, name), f"'{name}' is also defined in the shared file {item.path}", key=True)
                continue
            own[item.kind][name] = item.values[chosen[name]].obj
            self.shared_names.add(name)

    def _dated_names(self) -> tuple:
        """The shared items this version reads: their values are chosen per decision."""
        used = self.used | self.used_tables | self.used_maps
        return tuple(sorted(n for n in getattr(self, "shared_names", ()) if n in used))

    def _digest(self) -> str:
        """sha256 of the rule file and of the shared values this compilation reads."""
        items, chosen = self.shared
        parts = [items[n].values[chosen[n]].canonical for n in self._dated_names()]
        return "sha256:" + hashlib.sha256(self.raw + b"".join(parts)).hexdigest()

    def _map(self, name, spec, at) -> MapTable:
        depth = len(spec["keys"])

        def convert(node, level, path):
            if level == depth:
                if isinstance(node, dict):
                    self.ctx.error(path, f"map '{name}' has {depth} key(s); this entry goes deeper")
                if isinstance(node, int) and not isinstance(node, bool):
                    return Decimal(node)
                return tuple(node) if isinstance(node, list) else node
            if not isinstance(node, dict):
                self.ctx.error(path, f"map '{name}' has {depth} key(s) ({', '.join(spec['keys'])}); "
                                     f"expected a mapping for '{spec['keys'][level]}' here")
                return {}
            return {str(k): convert(v, level + 1, path + (k,)) for k, v in node.items()}

        missing = spec.get("missing")
        if isinstance(missing, int) and not isinstance(missing, bool):
            missing = Decimal(missing)
        return MapTable(name, tuple(spec["keys"]), convert(spec["entries"], 0, at + ("entries",)), "missing" in spec,
                        missing, bool(spec.get("warn_missing")), spec.get("description"), spec.get("assumed"),
                        self.ctx.src.where(at, key=True), at=at, source=self.ctx.src, unit=spec.get("unit"),
                        origin=spec.get("source"))

    # -- tables ------------------------------------------------------------------------
    def _table(self, name, spec, at) -> Table:
        rows = []
        for i, row in enumerate(spec["rows"]):
            low = Decimal(str(row["from"]))
            high = Decimal(str(row["to"])) if "to" in row else None
            rows.append(Row(low, high, Decimal(str(row["value"]))))
            row_at = at + ("rows", i)
            if high is not None and high <= low:
                self.ctx.error(row_at + ("to",), f"tier row 'to: {high}' must be above its 'from: {low}'")
            if i and rows[i - 1].high is None:
                self.ctx.error(row_at, "only the last tier row may leave out 'to'")
            elif i and low < rows[i - 1].high:
                self.ctx.error(row_at + ("from",), f"tier rows must ascend: 'from: {low}' follows 'to: {rows[i - 1].high}'")
            elif i and low != rows[i - 1].high:
                self.ctx.error(row_at + ("from",), f"tier rows must be contiguous: 'from: {low}' leaves a gap after "
                                                   f"'to: {rows[i - 1].high}'")
        return Table(name, tuple(rows), spec.get("description"), spec.get("assumed"), self.ctx.src.where(at, key=True),
                     unit=spec.get("unit"), source=spec.get("source"))

    # -- scopes ------------------------------------------------------------------------
    def _scope(self, spec, path, name, qualified, parent, facts_base) -> Scope:
        """facts_base: the facts-schema path of the items of this scope (for checking inputs)."""
        entries = (spec["entries"]["key"], spec["entries"]["value"]) if name and "entries" in spec else None
        scope = Scope(name=name, qualified=qualified, path=tuple(str(spec.get("path", "")).split(".")) if name else (),
                      key=spec.get("key") or (entries[0] if entries else None), calendar=spec.get("calendar"),
                      entries=entries, parent=parent,
                      where=self.ctx.src.where(path, key=True) if path else self.ctx.src.path)
        if entries:
            here = self.ctx.src.where(path + ("entries",))
            key_t, value_t = typer.entries_types(self, facts_base[:-1])
            scope.inputs[entries[0]] = Input(entries[0], (), key_t, None, False, here)
            scope.inputs[entries[1]] = Input(entries[1], (), value_t, None, False, here)
        self.scopes[qualified] = scope
        item_schema = schemacheck.node_at(self.facts_schema, facts_base) if self.facts_schema else None
        for iname, ispec in (spec.get("inputs") or {}).items():
            at = path + ("inputs", iname)
            ipath = tuple(ispec["path"].split("."))
            self._check_fact_path(item_schema, ipath, at + ("path",), facts_base)
            if iname in self.params:
                self.ctx.error(at, f"input '{iname}' has the name of a parameter", key=True)
            itype, default = typer.input_type(self, iname, ispec, at, facts_base, ipath)
            scope.inputs[iname] = Input(iname, ipath, itype, default, "default" in ispec,
                                        self.ctx.src.where(at, key=True))
        if scope.key and scope.key not in scope.inputs and not entries:
            key_type = typer.key_type(self, facts_base, scope.key, bool(scope.calendar))
            self._check_fact_path(item_schema, (scope.key,), path + ("key",), facts_base)
            scope.inputs[scope.key] = Input(scope.key, (scope.key,), key_type, None, False, scope.where)
        if scope.key and scope.key in scope.inputs:
            kt = scope.inputs[scope.key].type
            if scope.calendar and kt.kind not in ("date", "any"):
                self.ctx.error(path + ("key",), f"a calendar collection's key must be its date field; "
                                                f"'{scope.key}' is {kt}")
            elif kt.kind in ("list", "map"):
                self.ctx.error(path + ("key",), f"a collection's key must be one value per item (an id, a date); "
                                                f"'{scope.key}' is {kt}")
        if scope.calendar:
            if not scope.key:
                self.ctx.error(path + ("calendar",), "a calendar collection needs 'key' (the date field)")
            month = self._lookup_up(parent, scope.calendar)
            if month is None or month[1].type.kind not in ("month", "any"):
                self.ctx.error(path + ("calendar",), f"calendar '{scope.calendar}' must name a month input of an "
                                                     "enclosing scope")
            for inp in scope.inputs.values():
                if inp.name != scope.key and not inp.has_default:
                    self.ctx.error(path + ("inputs", inp.name), f"input '{inp.name}' of a calendar collection needs a "
                                                                "'default' for days with no entry", key=True)
        for cname, cspec in (spec.get("collections") or {}).items():
            cpath = tuple(cspec["path"].split("."))
            at = path + ("collections", cname)
            is_map = "entries" in cspec
            child_base = facts_base + cpath + ("{}" if is_map else "[]",)
            if self._check_fact_path(item_schema, cpath, at + ("path",), facts_base,
                                     want="object" if is_map else "array"):
                scope.children[cname] = self._scope(cspec, at, cname, f"{qualified}.{cname}" if qualified else cname,
                                                    scope, child_base)
        names = []
        for fname, fspec in (spec.get("formulas") or {}).items():
            at = path + ("formulas", fname)
            if fname in scope.inputs or (not name and fname in self.params):
                self.ctx.error(at, f"formula '{fname}' has the name of an input or parameter", key=True)
            self.formula_defs[(qualified, fname)] = (fspec, at)
            names.append(fname)
        scope.formula_names = tuple(names)
        return scope

    def _deref(self, node):
        return schemacheck.deref(node, self.facts_schema)

    def _check_fact_path(self, item_schema, fpath, at, base, want=None) -> bool:
        if self.facts_schema is None:
            return True
        node = item_schema
        for i, part in enumerate(fpath):
            props = (self._deref(node) or {}).get("properties") or {}
            if part not in props:
                shown = ".".join(fpath[: i + 1])
                prefix = ".".join(fpath[:i] + ("",))
                hint = did_you_mean(shown, [prefix + p for p in props])
                self.ctx.error(at, f"the facts schema has no '{shown}'{hint}")
                return False
            node = self._deref(props[part])
        if want and (node or {}).get("type") != want:
            kind = "a list" if want == "array" else "an object"
            self.ctx.error(at, f"'{'.'.join(fpath)}' is not {kind} in the facts schema")
            return False
        return True

    # -- names ---------------------------------------------------------------------------
    def _lookup_up(self, scope, name):
        """(levels up, Input) of an input visible from scope, or None."""
        up = 0
        while scope is not None:
            if name in scope.inputs:
                return up, scope.inputs[name]
            scope, up = scope.parent, up + 1
        return None

    def _resolve(self, scope: Scope, name: str):
        if "." in name:   # a field of the items of a child collection, at any depth
            *path, field_name = name.split(".")
            child = scope
            for cname in path:
                child = child.children.get(cname)
                if child is None:
                    return None
            if field_name in child.inputs or field_name in child.formula_names:
                return Ref(name, "child", field_name, 0, child.qualified, via=tuple(path))
            return None
        up, s = 0, scope
        while s is not None:
            if name in s.inputs or name in s.formula_names:
                return Ref(name, "value", name, up, s.qualified)
            s, up = s.parent, up + 1
        if name in self.params:
            self.used.add(name)
            return Ref(name, "param", name)
        return None

    def _visible(self, scope: Scope) -> list[str]:
        out, s = [], scope
        while s is not None:
            out += list(s.inputs) + list(s.formula_names)
            s = s.parent
        out += list(self.params)
        for cname, child in scope.children.items():
            out += [f"{cname}.{f}" for f in list(child.inputs) + list(child.formula_names)]
        return out

    def _expression(self, scope: Scope, text, at, owner: str, offset: int = 0):
        """Parse and resolve an expression; errors are recorded. Returns (Expression, refs) or (None, ()).
        `owner` names what the expression belongs to in messages ("formula 'total'"); `offset`
        is where text starts inside the scalar at `at` (a filter's condition)."""
        try:
            expr = parse(text, frozenset(scope.children))
        except ExpressionSyntaxError as exc:
            self.ctx.errors.append(Diagnostic(self.ctx.expr_where(at, exc.col + offset), exc.message))
            return None, ()
        refs = []
        lead = len(str(text)) - len(str(text).lstrip()) + offset
        filters = {f.placeholder: f for f in expr.filters}
        for name, col in zip(expr.names, expr.columns):
            if name in filters:
                ref = self._filter(scope, filters[name], at, owner, lead)
                if ref is not None:
                    self.filter_refs[(id(expr), name)] = ref
                    refs.append(ref)
                continue
            ref = self._resolve(scope, name)
            if ref is None:
                where = self.ctx.expr_where(at, col + lead, name, str(text))
                if name in FUNCTIONS:
                    message = f"{owner} uses the function '{name}' as a value; call it as {name}(...)"
                else:
                    message = (f"{owner} uses '{name}', which is not defined; in an expression true, false and "
                               "null are written True, False and None" if name in ("true", "false", "null", "none")
                               else f"{owner} uses '{name}', which is not defined"
                               f"{did_you_mean(name, self._visible(scope))}")
                self.ctx.errors.append(Diagnostic(where, message))
                continue
            refs.append(ref)
        self._check_arithmetic(expr, {r.name: r for r in refs}, at, owner, str(text))
        return expr, tuple(refs)

    def _filter(self, scope: Scope, f, at, owner: str, lead: int):
        """`path where condition`: the path's field over the items of a (nested) child
        collection, and the condition resolved in those items' scope."""
        ref = self._resolve(scope, f.path)
        if ref is None or ref.kind != "child":
            self.ctx.errors.append(Diagnostic(self.ctx.expr_where(at, f.path_col + lead, f.path.split(".")[0]),
                                              f"{owner}: 'where' filters the items of a child collection "
                                              f"(collection.field where ...); '{f.path}' is not one"
                                              + (did_you_mean(f.path, self._visible(scope)) if "." in f.path else "")))
            return None
        leaf = self.scopes[ref.child]
        condition, refs = self._expression(leaf, f.condition, at, owner, offset=f.condition_col + lead)
        if condition is None:
            return None
        return Ref(f.shown, "child", ref.target, 0, ref.child, via=ref.via, filter=(condition, refs))

    _ARITHMETIC = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.USub: "-",
                   ast.UAdd: "+"}

    def _check_arithmetic(self, expr, refs: dict, at, owner: str, text: str):
        """Arithmetic whose operands are known now (number literals and number parameters)
        is worked out now, so that its errors are load errors: a huge power, a division by a
        parameter that is 0, an exponent that is not whole. (Operands of other kinds are the
        type pass's.)"""
        from .expressions import OPERATORS

        def known(node):
            if isinstance(node, ast.Constant) and isinstance(node.value, Decimal):
                return node.value
            ref = refs.get(node.id) if isinstance(node, ast.Name) else None
            if ref is not None and ref.kind == "param" and isinstance(self.params[ref.target].value, Decimal):
                return self.params[ref.target].value
            return None

        for node in ast.walk(expr.tree):
            if isinstance(node, ast.BinOp) and type(node.op) in self._ARITHMETIC:
                operands = (node.left, node.right)
            elif isinstance(node, ast.UnaryOp) and type(node.op) in self._ARITHMETIC:
                operands = (node.operand,)
            else:
                continue
            col = getattr(node, "col_offset", 0) + len(text) - len(text.lstrip())
            values = [known(o) for o in operands]
            if None in values and isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Pow)) \
                    and values[1] is not None:
                values = [Decimal(1), values[1]]   # the divisor or exponent alone is known: check it
            elif None in values:
                continue
            try:
                with localcontext(_LOAD_CONTEXT):
                    OPERATORS[type(node.op)](*values)
            except Exception as exc:  # the same error evaluation would raise, found now
                message = exc.diagnostics[0].message if isinstance(exc, PolicyError) else str(exc)
                right = operands[-1]
                if isinstance(right, ast.Name):
                    message += f" (parameter '{right.id}' is {format(values[-1], 'f')})"
                self.ctx.errors.append(Diagnostic(self.ctx.expr_where(at, col), f"{owner}: {message}"))

    def _formula(self, scope: Scope, name, spec, at) -> Formula:
        """Any kind of formula: its parts (expressions by role) are parsed and resolved here;
        how each kind evaluates is in kinds.KINDS."""
        owner = f"formula '{name}'"
        where = self.ctx.src.where(at, key=True)
        parts, refs, data = [], [], None

        def add(label, text, path):
            expr, expr_refs = self._expression(scope, text, path, owner)
            if expr is not None:
                parts.append((label, expr))
                refs.extend(r for r in expr_refs if r not in refs)

        if isinstance(spec, str) or "expr" in spec:
            text = spec if isinstance(spec, str) else spec["expr"]
            add("expr", text, at if isinstance(spec, str) else at + ("expr",))
            kind, shown = "expr", str(text).strip()
        elif "tiers" in spec:
            table = self.tables.get(spec["tiers"])
            self.used_tables.add(spec["tiers"])
            if table is None:
                self.ctx.error(at + ("tiers",), f"table '{spec['tiers']}' is not defined"
                                                f"{did_you_mean(spec['tiers'], self.tables)}")
            add("of", spec["of"], at + ("of",))
            kind, shown, data = "tiers", str(spec["of"]).strip(), {"table": table, "method": spec.get("method", "marginal")}
        elif "map" in spec:
            data = self.maps.get(spec["map"])
            self.used_maps.add(spec["map"])
            if data is None:
                self.ctx.error(at + ("map",), f"map '{spec['map']}' is not defined{did_you_mean(spec['map'], self.maps)}")
            elif len(spec["at"]) != len(data.keys):
                self.ctx.error(at + ("at",), f"map '{data.name}' takes {len(data.keys)} key(s) "
                                             f"({', '.join(data.keys)}), found {len(spec['at'])}")
            for i, text in enumerate(spec["at"]):
                add(f"at[{i}]", text, at + ("at", i))
            kind, shown = "map", f"{spec['map']}[{', '.join(str(t) for t in spec['at'])}]"
        elif "switch" in spec:
            add("on", spec["switch"], at + ("switch",))
            for case, text in spec["cases"].items():
                add(f"case:{case}", text, at + ("cases", case))
            if "default" in spec:
                add("default", spec["default"], at + ("default",))
            kind, shown = "switch", f"switch on {str(spec['switch']).strip()}"
        else:
            kind, shown = "bands", str(spec["bands"]).strip()
            add("of", spec["bands"], at + ("bands",))
            if "previous" in spec:
                add("previous", spec["previous"], at + ("previous",))
            bands = []
            for i, level in enumerate(spec["levels"]):
                lat = at + ("levels", i)
                low = self._bound(level.get("from"), lat + ("from",))
                stay = self._bound(level.get("stay_until_below"), lat + ("stay_until_below",))
                if (low is None) != (i == 0):
                    self.ctx.error(lat, "the first band has no 'from'; every later band needs one")
                elif i > 1 and low <= bands[-1].low:
                    self.ctx.error(lat + ("from",), f"bands must ascend: 'from: {low}' follows 'from: {bands[-1].low}'")
                if stay is not None and low is not None and stay > low:
                    self.ctx.error(lat + ("stay_until_below",), f"stay_until_below {stay} must not be above the "
                                                                f"band's own 'from: {low}'")
                bands.append(Band(str(level["band"]), low, stay))
            when_null = spec.get("when_null")
            if when_null is not None and when_null not in [b.name for b in bands]:
                self.ctx.error(at + ("when_null",), f"when_null names '{when_null}', which is not one of the bands"
                                                    f"{did_you_mean(when_null, [b.name for b in bands])}")
            data = {"bands": tuple(bands), "when_null": when_null, "has_previous": "previous" in spec}
        return Formula(name, scope.qualified, kind, shown, tuple(parts), data, tuple(refs), where, _meta(spec))

    def _bound(self, value, at):
        """A band bound: a number, or the name of a numeric parameter (so a threshold is
        written once and read by bands and formulas alike)."""
        if value is None:
            return None
        if isinstance(value, str):
            param = self.params.get(value)
            if param is None or not isinstance(param.value, Decimal):
                self.ctx.error(at, f"'{value}' is not a numeric parameter{did_you_mean(value, self.params)}")
                return Decimal(0)
            self.used.add(value)
            return param.value
        return Decimal(str(value))

    # -- dependency order ------------------------------------------------------------------
    def _plan(self) -> tuple[Formula, ...]:
        for (qual, name), (spec, at) in self.formula_defs.items():
            self.formulas[(qual, name)] = self._formula(self.scopes[qual], name, spec, at)
        order: list[Formula] = []
        state: dict = {}

        def deps(f: Formula):
            for ref in f.refs:
                for key in ref.keys():
                    if key in self.formulas:
                        yield key

        def visit(key, stack):
            if state.get(key) == "done":
                return
            if state.get(key) == "active":
                cycle = stack[stack.index(key):] + [key]
                f = self.formulas[key]
                shown = " -> ".join((f"{q}.{n}" if q else n) for q, n in cycle)
                self.ctx.errors.append(Diagnostic(f.where, f"formulas form a cycle: {shown}"))
                return
            state[key] = "active"
            for dep in deps(self.formulas[key]):
                visit(dep, stack + [key])
                if state.get(dep) == "active":  # cycle already reported
                    state[key] = "done"
                    return
            state[key] = "done"
            order.append(self.formulas[key])

        for key in self.formulas:
            visit(key, [])
        return tuple(order)

    # -- conditions and result ---------------------------------------------------------------
    def _scope_by_path(self, text, at):
        scope = self.scopes[""]
        for part in text.split("."):
            nxt = scope.children.get(part)
            if nxt is None:
                self.ctx.error(at, f"'{part}' is not a collection here{did_you_mean(part, scope.children)}")
                return None
            scope = nxt
        return scope

    def _condition(self, i, spec) -> Condition:
        at = ("conditions", i)
        scope = self._scope_by_path(spec["for_each"], at + ("for_each",)) if spec.get("for_each") else self.scopes[""]
        if scope is None:   # reported; checking its names against the wrong scope would only add noise
            return Condition(spec["code"], "", None, (), spec["message"], (), spec.get("severity", "violation"),
                             spec.get("path"), self.ctx.src.where(at))
        when, refs = self._expression(scope, spec["when"], at + ("when",), f"condition {spec['code']}")
        message_refs = []
        fields = self._message_fields(spec["message"], at + ("message",))
        for fname in fields:
            ref = self._resolve(scope, fname)
            if ref is None:
                self.ctx.error(at + ("message",), f"message uses '{{{fname}}}', which is not defined"
                                                  f"{did_you_mean(fname, self._visible(scope))}")
            else:
                message_refs.append(ref)
        severity = spec.get("severity", "violation")
        if severity == "facts" and not spec.get("path") and not spec.get("for_each"):
            self.ctx.error(at, "a top-level condition with severity 'facts' needs 'path': the JSON path its error names")
        if spec.get("path") and self.facts_schema is not None:
            self._check_fact_path(self.facts_schema, tuple(str(spec["path"]).split(".")), at + ("path",), ())
        item = None
        if spec.get("item"):
            item = self._resolve(scope, spec["item"])
            if item is None or item.kind == "child":
                self.ctx.error(at + ("item",), f"'{spec['item']}' is not defined here"
                                               f"{did_you_mean(spec['item'], self._visible(scope))}")
        return Condition(spec["code"], scope.qualified, when, refs, spec["message"], tuple(message_refs),
                         severity, spec.get("path"), self.ctx.src.where(at), item, _meta(spec))

    def _message_fields(self, template: str, at) -> list[str]:
        """The names a message shows: {name} or {name:spec} with a number format spec."""
        try:
            parts = list(string.Formatter().parse(template))
        except ValueError as exc:
            self.ctx.error(at, f"bad message template: {exc}; write {{name}}, and {{{{ }}}} for a brace")
            return []
        names = []
        for _, field, spec, conversion in parts:
            if field is None:
                continue
            if not re.fullmatch(r"[a-z_][a-z0-9_]*", field) or conversion:
                self.ctx.error(at, f"a message shows a name of its scope as {{name}}, found {{{field}"
                                   f"{'!' + conversion if conversion else ''}}}")
                continue
            if spec and any(int(n) > 60 for n in re.findall(r"[0-9]+", spec)):
                self.ctx.error(at, f"'{{{field}:{spec}}}': widths and precisions go up to 60")
            names.append(field)
        return names

    def _result_fields(self, spec: dict, scope: Scope, at) -> tuple[ResultField, ...]:
        out = []
        for key, field_spec in spec.items():
            fat = at + (key,)
            if isinstance(field_spec, str) or "value" in field_spec:
                name = field_spec if isinstance(field_spec, str) else field_spec["value"]
                ref = self._resolve(scope, name)
                if ref is not None and ref.kind == "child":
                    child = name.split(".", 1)[0]
                    self.ctx.error(fat, f"result '{key}' names '{name}', a field of each item of '{child}': show it "
                                        f"with {{for_each: {child}, fields: {{...}}}}")
                elif ref is None:
                    self.ctx.error(fat, f"result '{key}' names '{name}', which is not defined here"
                                        f"{did_you_mean(name, self._visible(scope))}")
                rounding = None
                if isinstance(field_spec, dict) and "round" in field_spec:
                    rounding = self.rounding.get(field_spec["round"])
                    if rounding is None:
                        self.ctx.error(fat + ("round",), f"rounding '{field_spec['round']}' is not defined"
                                                         f"{did_you_mean(field_spec['round'], self.rounding)}")
                out.append(ResultField(key, "value", ref=ref, rounding=rounding))
            elif "for_each" in field_spec:
                child = scope.children.get(field_spec["for_each"])
                if child is None:
                    self.ctx.error(fat + ("for_each",), f"'{field_spec['for_each']}' is not a collection here"
                                                        f"{did_you_mean(field_spec['for_each'], scope.children)}")
                    continue
                fields = self._result_fields(field_spec["fields"], child, fat + ("fields",))
                out.append(ResultField(key, "each", scope=child.qualified, fields=fields))
            elif "fields" in field_spec:
                when = None
                if "when" in field_spec:
                    when = self._resolve(scope, field_spec["when"])
                    if when is None or when.kind == "child":
                        self.ctx.error(fat + ("when",), f"'{field_spec['when']}' is not defined here"
                                                        f"{did_you_mean(field_spec['when'], self._visible(scope))}")
                fields = self._result_fields(field_spec["fields"], scope, fat + ("fields",))
                out.append(ResultField(key, "object", fields=fields, when=when))
            elif "violations" in field_spec:
                out.append(ResultField(key, "violations", item_key_as=field_spec["violations"].get("item_key_as", "item")))
            elif "violation_codes" in field_spec:
                out.append(ResultField(key, "violation_codes"))
            else:
                out.append(ResultField(key, "no_violations"))
        return tuple(out)

    def _violations_shown(self, conditions, result):
        """A condition of severity violation is seen only through the result's violations,
        violation_codes or no_violations field: without one it would vanish."""
        def kinds(fields):
            for f in fields:
                yield f.kind
                yield from kinds(f.fields)
        if any(c.severity == "violation" for c in conditions) and \
                not {"violations", "violation_codes", "no_violations"} & set(kinds(result)):
            for i, c in enumerate(conditions):
                if c.severity == "violation":
                    self.ctx.error(("conditions", i), f"condition {c.code} is a violation, but the result shows no "
                                                      "violations: add {violations: {}} (or violation_codes, or "
                                                      "no_violations) to the result, or make it a warning")

    def _unused(self, root: Scope):
        """A parameter, table or map of this file that nothing reads is most likely a typo or
        a leftover: a warning. (Shared files are checked by the policies that use them.)"""
        for kind, used in (("parameters", self.used), ("tables", self.used_tables), ("maps", self.used_maps)):
            for name in self.doc.get(kind) or {}:
                if name not in used:
                    what = {"parameters": "parameter", "tables": "table", "maps": "map"}[kind]
                    self.warnings.append(self.ctx.src.diag((kind, name), f"{what} '{name}' is not used by any "
                                                                         "formula, condition or result", key=True))

    def _unreached(self, conditions, result):
        """Formulas whose value reaches no result field and no condition: dead rules, or a
        result field someone forgot. A warning."""
        todo = []

        def start(ref):
            if ref is not None:
                todo.extend(ref.keys())

        def fields(fs):
            for f in fs:
                start(f.ref)
                start(f.when)
                fields(f.fields)

        fields(result)
        for c in conditions:
            for ref in c.refs + c.message_refs + ((c.item,) if c.item else ()):
                start(ref)
        seen = set()
        while todo:
            key = todo.pop()
            if key in seen or key not in self.formulas:
                continue
            seen.add(key)
            for ref in self.formulas[key].refs:
                start(ref)
        for key, f in self.formulas.items():
            if key not in seen:
                name = f"{key[0]}.{key[1]}" if key[0] else key[1]
                self.warnings.append(Diagnostic(f.where, f"formula '{name}' reaches no result and no condition"))


__all__ = ["compile_file", "compile_shared", "load_yaml"]
