"""Names: what each name in an expression stands for (an input or formula of a scope or
one above it, a parameter, a field of a child collection's items at any depth, a filter),
the rule callables it calls, and arithmetic known when the rules load."""
from __future__ import annotations

import ast
from decimal import Context, Decimal, DivisionByZero, InvalidOperation, Overflow, localcontext

from ..errors import Diagnostic, PolicyError, did_you_mean
from .expressions import ExpressionSyntaxError, parse
from .functions import FUNCTIONS
from .model import Ref, Scope
from ..kinds import owner_of

_LOAD_CONTEXT = Context(prec=60, Emax=999_999, Emin=-999_999, traps=[InvalidOperation, DivisionByZero, Overflow])


class NameStage:
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
        for cname, child in scope.children.items():   # (deeper fields: suggested one level at a time)
            out += [f"{cname}.{f}" for f in list(child.inputs) + list(child.formula_names)]
        return out

    def _expression(self, scope: Scope, text, at, owner: str, offset: int = 0):
        """Parse and resolve an expression; errors are recorded. Returns (Expression, refs) or (None, ()).
        `owner` names what the expression belongs to in messages ("formula 'total'"); `offset`
        is where text starts inside the scalar at `at` (a filter's condition)."""
        try:
            expr = parse(text, frozenset(scope.children), self.callables)
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
        for name, col in expr.calls:
            for ref in self._call(scope, name, self.ctx.expr_where(at, col + lead), owner):
                if ref not in refs:
                    refs.append(ref)
        self._check_arithmetic(expr, {r.name: r for r in refs}, at, owner, str(text))
        return expr, tuple(refs)

    def _call(self, scope: Scope, name: str, where: str, owner: str) -> list:
        """A call of a table or tiers: its kind checks it (engine.kinds); what it reads besides
        its arguments (a table's output expressions), the caller reads."""
        base, _, output = name.partition(".")
        self.used_callables.add(base)
        kind, obj = owner_of(self, base)
        return kind.check_call(self, scope, obj, output, where, owner)

    def expression_in(self, scope: Scope, text, at, owner: str, offset: int = 0):
        """An expression a construct holds, parsed and resolved in scope (for engine.kinds)."""
        return self._expression(scope, text, at, owner, offset)

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
        from .operators import OPERATORS

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

