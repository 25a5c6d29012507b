"""Rule file -> Version. The file is checked against the rule-file schema, then compiled by
stage (engine.compile: data, scopes, names, plan, conditions, results, the type pass),
once for the shared values in effect on its own dates and once more for every other
combination of the dated values it reads. Every problem found in a file is raised
together as one RuleError, each with file:line:col, in the order of the file."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from ..check import schema as schemacheck
from ..check.fast import compile_schema
from ..errors import Diagnostic, RuleError, did_you_mean
from ..kinds import KINDS
from ..load.layout import display as _display
from ..load.yamlfile import load_yaml
from . import shared as shared_mod
from . import typer
from .conditions import ConditionStage
from .context import Ctx, one_per_place, or_none
from .data import DataStage
from .model import Formula, Scope, Version
from .names import NameStage
from .plan import PlanStage
from .results import ResultStage
from .scopes import ScopeStage
from .generate import generate
from .shared import Shared, selections


def compile_file(file: Path, display: str, rule_validator, schema_dirs, shared_files=None,
                 check_schemas: bool = True) -> Version:
    """shared_files: name -> Shared, the rules/_shared/ files a version may `use`."""
    raw = Path(file).read_bytes()
    src = load_yaml(raw, display)
    ctx = Ctx(src)
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
    effective = or_none(lambda: date.fromisoformat(doc["effective_from"]))
    published = or_none(lambda: schemacheck.parse_timestamp(doc["published"]))
    base = {n: (it.select(effective, published) if effective and published else None) for n, it in items.items()}
    try:
        c = Compiler(ctx, doc, file, raw, schema_dirs, (items, {n: base[n] or 0 for n in items}), check_schemas)
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
                    version.variants[sel] = Compiler(ctx, doc, file, raw, schema_dirs, (items, values), False).build()
        if not ctx.errors:   # the generated code of the version and of each variant (engine.compile.generate)
            for v in {id(x): x for x in (version, *version.variants.values())}.values():
                v.generated.update(generate(v))
    except Exception:
        # The schema already failed: go on only as far as the file's shape allows, so that
        # every error found so far is reported in this one pass. Without schema errors an
        # exception here is a bug in the engine and must show.
        if not schema_failed:
            raise
        version = None
    if ctx.errors:
        raise RuleError(one_per_place(ctx.errors))
    return version


_RULE_FAST: dict = {}


def _rule_fast_check(validator):
    if id(validator) not in _RULE_FAST:
        _RULE_FAST.clear()
        _RULE_FAST[id(validator)] = (validator, compile_schema(validator.schema))
    return _RULE_FAST[id(validator)][1]



def compile_shared(file: Path, display: str, shared_validator) -> Shared:
    return shared_mod.compile_shared(file, display, shared_validator,
                                     lambda ctx, doc: Compiler(ctx, doc, file, b"", ()))


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



class Compiler(DataStage, ScopeStage, NameStage, PlanStage, ConditionStage, ResultStage):
    """One compilation of one rule file: the stages' methods share this state."""

    def __init__(self, ctx: Ctx, doc: dict, file: Path, raw: bytes, schema_dirs, shared=({}, {}), check_schemas=True):
        """shared: (name -> SharedItem of the files the version uses, name -> the index of the
        value to compile with)."""
        self.ctx, self.doc, self.file, self.raw, self.schema_dirs = ctx, doc, Path(file), raw, schema_dirs
        self.check_schemas = check_schemas
        self.shared = shared
        self.used: set = set()            # parameters read by anything
        self.used_callables: set = set()  # tables and tiers called by anything
        self.callables = frozenset()      # the names of the tables and tiers
        self.warnings: list[Diagnostic] = []
        self.scopes: dict[str, Scope] = {}
        self.formula_defs: dict[tuple[str, str], tuple] = {}   # (scope, name) -> (spec, yaml path)
        self.formulas: dict[tuple[str, str], Formula] = {}
        self.facts_schema: dict | None = None
        self.facts_fast = None
        self.filter_refs: dict = {}       # (id(expression), placeholder) -> the filter's Ref
        self.output_exprs: dict = {}      # (scope, table) -> {cell: (Expression, refs)}: output expressions
        self.call_sites: dict = {}        # (scope, callable name) -> how it is called there (typed)

    def build(self) -> Version:
        d, ctx = self.doc, self.ctx
        if d["policy"] != self.file.parent.name:
            ctx.error(("policy",), f"policy '{d['policy']}' must match its folder name '{self.file.parent.name}'")
        if str(d["version"]) != self.file.stem:
            ctx.error(("version",), f"version '{d['version']}' must match the file name '{self.file.stem}'")
        published = or_none(lambda: schemacheck.parse_timestamp(d["published"]))
        effective = or_none(lambda: date.fromisoformat(d["effective_from"]))
        validator = self._facts_schema(d["facts_schema"]) if isinstance(d.get("facts_schema"), str) else None

        self._data()
        self._merge_shared()
        self.callables = frozenset(name for kind in KINDS for name in getattr(self, kind.SECTION))
        self._rounding()
        root = self._scope(d, (), "", "", None, ())
        plan = self._plan()
        as_of = None
        if d.get("as_of_default"):
            as_of = self._formula(root, "as_of_default", d["as_of_default"], ("as_of_default",))
            for ref in as_of.refs:
                if ref.kind != "value" or ref.target not in root.inputs:
                    ctx.error(("as_of_default",), f"as_of_default may read only top-level inputs; '{ref.name}' is not one")
        conditions = tuple(self._condition(i, c) for i, c in enumerate(d.get("conditions") or ()))
        result = self._result_fields(d["result"], root, ("result",))
        self._types(plan, conditions, result, as_of, root)
        self._violations_shown(conditions, result)
        self._unused(root)
        self._unreached(conditions, result)
        from ..run.evaluate import prepare
        from .schedule import needs_of, schedule
        # only a file without errors gets its closures: an unresolved name has nothing to read
        ok = not self.ctx.errors
        prepared, bound = prepare(plan, conditions, self.params, self.call_sites) if ok else ({}, {})
        return Version(
            policy=d["policy"], version=str(d["version"]), title=d["title"], source=d["source"],
            published=published, effective_from=effective, assumed=tuple(d.get("assumed") or ()),
            notes=tuple(d.get("notes") or ()), facts_schema=d["facts_schema"], facts_validator=validator,
            facts_fast_check=self.facts_fast, as_of_default=as_of, parameters=self.params,
            constructs={k.SECTION: getattr(self, k.SECTION) for k in KINDS}, root=root, scopes=self.scopes, plan=plan, conditions=conditions, result=result,
            digest=self._digest(), dated=tuple(self.shared[0][n] for n in self._dated_names()),
            dated_names=self._dated_names(), path=self.ctx.src.path, warnings=tuple(self.warnings),
            where_dates=self.ctx.src.where(("effective_from",)),
            where_assumed=tuple(self.ctx.src.where(("assumed", i)) for i in range(len(d.get("assumed") or ()))),
            readers=prepared, bound=bound, schedule=schedule(plan, conditions) if ok else (),
            condition_needs=needs_of(conditions, plan), plan_order={id(f): i for i, f in enumerate(plan)},
            result_types=getattr(self, "result_types", {}), value_types=getattr(self, "value_types", {}),
            call_sites=dict(self.call_sites) if ok else {}, facts_schema_doc=getattr(self, "facts_schema", None))

    def _types(self, plan, conditions, result, as_of, root):
        """Give every value a type (engine.compile.typer), and every call of a table or tiers
        its typed form (self.call_sites)."""
        types = typer.Types(self)
        self.result_types = {}   # id(ResultField) -> Type of each value field
        typer.type_formulas(self, types, plan)
        self.value_types = types.values
        for i, (cond, spec) in enumerate(zip(conditions, self.doc.get("conditions") or ())):
            typer.type_condition(self, types, cond, spec, ("conditions", i))
        typer.type_result(self, types, result, self.doc["result"], ("result",), root)
        if as_of is not None:
            typer.type_as_of(self, types, as_of, self.doc["as_of_default"])
        for kind in KINDS:
            kind.check_after_calls(self, getattr(self, kind.SECTION))

    def _facts_schema(self, name: str):
        for folder in self.schema_dirs:
            candidate = Path(folder) / name
            if candidate.is_file():
                try:
                    schema, validator, fast = _facts_schema_file(candidate, self.check_schemas)
                except ValueError as exc:   # not JSON: json's own message has the line and column
                    self.ctx.errors.append(Diagnostic(_display(candidate), f"not valid JSON: {exc}"))
                    return None
                except Exception as exc:  # a broken schema file is a rule error, said plainly, in the schema
                    problems = schemacheck.schema_problems(schemacheck.load_schema(candidate))
                    self.ctx.errors += [Diagnostic(_display(candidate), f"not valid JSON Schema: {message}",
                                                   schemacheck.json_path(path)) for path, message in problems] or \
                        [Diagnostic(_display(candidate), f"cannot be used: {str(exc).splitlines()[0]}")]
                    return None
                self.facts_schema, self.facts_fast = schema, fast
                return validator
        self.ctx.error(("facts_schema",), f"facts schema '{name}' not found in {', '.join(str(f) for f in self.schema_dirs)}")
        return None



__all__ = ["compile_file", "compile_shared", "Compiler"]
