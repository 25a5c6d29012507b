"""Formulas and the order they are evaluated in (dependencies first; a cycle is a load
error), and the warnings for what nothing reads: rule data no formula uses, formulas no
result or condition reaches."""
from __future__ import annotations

from ..errors import Diagnostic
from ..kinds import KINDS
from .context import meta
from .model import Formula, Scope


class PlanStage:
    def _formula(self, scope: Scope, name, spec, at) -> Formula:
        """A formula: an expression (written alone, or as `expr` beside what it says of
        itself: description, unit, source, assumed), parsed and resolved in its scope."""
        owner = f"formula '{name}'"
        text = spec if isinstance(spec, str) else spec["expr"]
        expr, refs = self._expression(scope, text, at if isinstance(spec, str) else at + ("expr",), owner)
        parts = (("expr", expr),) if expr is not None else ()
        return Formula(name, scope.qualified, "expr", str(text).strip(), parts, None, tuple(refs),
                       self.ctx.src.where(at, key=True), meta(spec))

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
    def _unused(self, root: Scope):
        """A parameter, tiers or table of this file that nothing reads is most likely a typo or
        a leftover: a warning. (Shared files are checked by the policies that use them.)"""
        sections = [("parameters", "parameter", self.used)] + [(k.SECTION, k.WORD, self.used_callables) for k in KINDS]
        for section, what, used in sections:
            for name in self.doc.get(section) or {}:
                if name not in used:
                    self.warnings.append(self.ctx.src.diag((section, name), f"{what} '{name}' is not used by any "
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

