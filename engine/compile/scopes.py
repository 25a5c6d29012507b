"""Collections and inputs: the scopes a rule file evaluates in (the top level, and a
collection's items, at any depth), each input typed from the facts schema and checked
against it."""
from __future__ import annotations

from ..check import schema as schemacheck
from ..errors import did_you_mean
from . import typer
from .model import Input, Scope


class ScopeStage:
    def _scope(self, spec, path, name, qualified, parent, facts_base) -> Scope:
        """facts_base: the facts-schema path of the items of this scope (for checking inputs)."""
        entries = (spec["entries"]["key"], spec["entries"]["value"]) if name and "entries" in spec else None
        scope = Scope(name=name, qualified=qualified, path=tuple(str(spec.get("path", "")).split(".")) if name else (),
                      key=spec.get("key") or (entries[0] if entries else None),
                      entries=entries, parent=parent, facts_base=facts_base,
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
            key_type = typer.key_type(self, facts_base, scope.key)
            self._check_fact_path(item_schema, (scope.key,), path + ("key",), facts_base)
            scope.inputs[scope.key] = Input(scope.key, (scope.key,), key_type, None, False, scope.where)
        if scope.key and scope.key in scope.inputs:
            kt = scope.inputs[scope.key].type
            if kt.kind in ("list", "map"):
                self.ctx.error(path + ("key",), f"a collection's key must be one value per item (an id, a date); "
                                                f"'{scope.key}' is {kt}")
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
            elif fname in self.callables:
                self.ctx.error(at, f"formula '{fname}' has the name of a table or tiers", key=True)
            self.formula_defs[(qualified, fname)] = (fspec, at)
            names.append(fname)
        scope.formula_names = tuple(names)
        return scope

    def _check_fact_path(self, item_schema, fpath, at, base, want=None) -> bool:
        if self.facts_schema is None:
            return True
        node, missing = schemacheck.follow(self.facts_schema, item_schema, fpath)
        if missing:
            i, props = missing
            shown = ".".join(fpath[: i + 1])
            prefix = ".".join(fpath[:i] + ("",))
            self.ctx.error(at, f"the facts schema has no '{shown}'{did_you_mean(shown, [prefix + p for p in props])}")
            return False
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

