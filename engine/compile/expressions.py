"""Expressions: parsed once at load, checked against a whitelist, evaluated by simpleeval.

At parse time the Python AST is rewritten so that evaluation needs no guessing:
- number literals become Decimal from their source text (int stays int), never float;
- `collection.field` (a child collection's value for each item) becomes one name,
  looked up like any other;
- anything outside the whitelist (attributes of values, subscripts, lambdas,
  comprehensions, f-strings, keyword arguments, unknown functions) is refused.
"""
from __future__ import annotations

import ast
import io
import tokenize
import warnings
from dataclasses import dataclass, field
from decimal import Decimal

import simpleeval

from ..errors import did_you_mean
from .functions import CALLABLES, FUNCTIONS
from .operators import OPERATORS, _compile, evaluation_error

MAX_LENGTH = 2000     # characters in one expression
MAX_NODES = 400       # AST nodes in one expression


class ExpressionSyntaxError(Exception):
    """A problem in an expression's text. `col` is 0-based within the text."""

    def __init__(self, message: str, col: int = 0):
        super().__init__(message)
        self.message = message
        self.col = col


_ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp,
            ast.Call, ast.Name, ast.Constant, ast.Attribute, ast.Load,
            ast.And, ast.Or) + tuple(OPERATORS)


@dataclass(frozen=True)
class Filter:
    """`path where condition` inside an aggregate's argument: the items of a (nested) child
    collection whose condition holds. The condition is an expression of those items' scope,
    parsed and resolved there by the compiler."""

    placeholder: str     # the name that stands for it in the expression's tree
    path: str            # collection.collection.field
    path_col: int        # 0-based columns in the expression's text
    condition: str
    condition_col: int

    @property
    def shown(self) -> str:
        return f"{self.path} where {' '.join(self.condition.split())}"


@dataclass(frozen=True)
class Expression:
    """A parsed, checked expression. `names` are the names it reads, in order of first use
    (a filter's placeholder among them); `calls` the rule callables it calls (decision
    tables and tiers of the rule file), in order of first use."""

    text: str
    tree: ast.AST
    names: tuple[str, ...]
    columns: tuple[int, ...] = ()    # 0-based column of each name's first use in `text`
    fn: object = field(default=None, compare=False, repr=False)   # the compiled closure (names dict)
    filters: tuple = ()              # Filter, one per `where`
    calls: tuple = ()                # (callable name, 0-based column), rule callables only

    def evaluate(self, names: dict):
        """The value, by the compiled closure (no parsing, little dispatch)."""
        try:
            return self.fn(names)
        except Exception as exc:  # the same errors as the reference, said the same way
            raise evaluation_error(exc, names) from None

    def bind(self, getters: dict, callables=None):
        """A closure item -> value reading each name with its getter (name -> item -> value;
        a filter by its shown text). callables: the rule callables, name -> (item, *args) -> value."""
        placeholders = {f.placeholder: f.shown for f in self.filters}
        return _compile(self.tree, getters, callables or {}, placeholders)

    def evaluate_reference(self, evaluator: simpleeval.SimpleEval, names: dict):
        """The value by simpleeval: the reference semantics the compiled closure must match."""
        evaluator.names = names
        try:
            return evaluator.eval(self.text, previously_parsed=self.tree)
        except Exception as exc:
            raise evaluation_error(exc, names) from None


def new_evaluator() -> simpleeval.SimpleEval:
    """One evaluator per decision: simpleeval keeps `names` on the instance."""
    return simpleeval.SimpleEval(operators=OPERATORS, functions=CALLABLES, names={})


def _find_filters(text: str):
    """`path where condition` spans inside a call's parentheses, each replaced by a
    placeholder name padded to the span's length (so that every column stays where it
    was). -> (text with placeholders, Filters). Text that does not tokenize is returned as
    it is: the parser says what is wrong with it."""
    if " where " not in f" {text} " and "where" not in text:
        return text, ()
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return text, ()
    starts = [0]
    for line in text.split("\n")[:-1]:
        starts.append(starts[-1] + len(line) + 1)

    def offset(pos):
        return starts[pos[0] - 1] + pos[1]

    out, filters, stack, i = text, [], [], 0   # stack: offset where the current argument starts
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == tokenize.OP and tok.string in "([":
            stack.append(offset(tok.end))
        elif tok.type == tokenize.OP and tok.string in ")]" and stack:
            stack.pop()
        elif tok.type == tokenize.OP and tok.string == "," and stack:
            stack[-1] = offset(tok.end)
        elif tok.type == tokenize.NAME and tok.string == "where" and stack:
            depth, j = 0, i + 1   # the condition runs to the ',' or ')' that ends the argument
            while j < len(tokens):
                t = tokens[j]
                if t.type == tokenize.OP and t.string in "([":
                    depth += 1
                elif t.type == tokenize.OP and t.string in ")]":
                    if depth == 0:
                        break
                    depth -= 1
                elif t.type == tokenize.OP and t.string == "," and depth == 0:
                    break
                j += 1
            start, where_at = stack[-1], offset(tok.start)
            end = offset(tokens[j].start) if j < len(tokens) else len(text)
            path = text[start:where_at]
            lead = len(path) - len(path.lstrip())
            cond_start = offset(tok.end)
            cond = text[cond_start:end]
            placeholder = f"__w{len(filters)}"
            span = text[start + lead:end].rstrip()
            padded = placeholder + "".join("\n" if c == "\n" else " " for c in span[len(placeholder):])
            out = out[:start + lead] + padded + out[start + lead + len(span):]
            filters.append(Filter(placeholder, path.strip(), start + lead, cond.strip(),
                                  cond_start + len(cond) - len(cond.lstrip())))
            i = j
            continue
        i += 1
    return out, tuple(filters)


def parse(text: str, collections=frozenset(), callables=frozenset()) -> Expression:
    """Parse and check `text`. `collections` are the child collections whose fields (at any
    depth) may be read as `collection.field`; `callables` the rule file's decision tables and
    tiers, called like functions. Raises ExpressionSyntaxError."""
    if not isinstance(text, str):
        text = str(text)
    if len(text) > MAX_LENGTH:
        raise ExpressionSyntaxError(f"expression is longer than {MAX_LENGTH} characters")
    if "@" in text:
        raise ExpressionSyntaxError("operator '@' is not allowed in an expression", text.index("@"))
    parsed, filters = _find_filters(text.strip())
    try:
        with warnings.catch_warnings():   # Python's own hints ("invalid decimal literal") go
            warnings.simplefilter("ignore")   # to stderr otherwise; our message says what is wrong
            tree = ast.parse(parsed, mode="eval")
    except SyntaxError as exc:
        col = (exc.offset or 1) - 1 + (len(text) - len(text.lstrip()))
        message = "a number is written without leading zeros" if "leading zeros" in str(exc.msg) else exc.msg
        raise ExpressionSyntaxError(f"invalid expression: {message}", col) from None
    lead = len(text) - len(text.lstrip())
    stripped = parsed
    names: list[tuple[str, int]] = []
    calls: list[tuple[str, int]] = []
    placeholders = {f.placeholder for f in filters}
    count = 0

    class Rewrite(ast.NodeTransformer):
        def generic_visit(self, node):
            nonlocal count
            count += 1
            if count > MAX_NODES:
                raise ExpressionSyntaxError(f"expression has more than {MAX_NODES} parts")
            if not isinstance(node, _ALLOWED):
                raise ExpressionSyntaxError(f"{_describe(node)} is not allowed in an expression",
                                            lead + getattr(node, "col_offset", 0))
            return super().generic_visit(node)

        def visit_Constant(self, node):
            value = node.value
            if isinstance(value, bool) or value is None or isinstance(value, str):
                return node
            if isinstance(value, (int, float)):
                # every number literal is a Decimal from its text: 0 and 0.0 behave alike
                source = ast.get_source_segment(stripped, node) or repr(value)
                if any(c in source for c in "eEjJ_xXoObB"):
                    raise ExpressionSyntaxError(f"write numbers in plain decimal notation, found {source}",
                                                lead + node.col_offset)
                return ast.copy_location(ast.Constant(Decimal(source)), node)
            raise ExpressionSyntaxError(f"literal {ast.get_source_segment(stripped, node)} is not allowed",
                                        lead + node.col_offset)

        def visit_BinOp(self, node):
            node = self.generic_visit(node)
            right = node.right
            if isinstance(node.op, ast.Div) and isinstance(right, ast.Constant) and not isinstance(right.value, (bool, str)) \
                    and right.value is not None and right.value == 0:
                raise ExpressionSyntaxError("division by zero: the divisor is the number 0", lead + right.col_offset)
            return node

        def visit_Attribute(self, node):
            parts, root = [node.attr], node.value
            while isinstance(root, ast.Attribute):
                parts.insert(0, root.attr)
                root = root.value
            if isinstance(root, ast.Name) and root.id in collections and not any(p.startswith("_") for p in parts):
                name = ".".join([root.id] + parts)   # a field of the items of a child collection, at any depth
                names.append((name, lead + node.col_offset))
                return ast.copy_location(ast.Name(id=name, ctx=ast.Load()), node)
            if isinstance(node.value, ast.Name) and not node.attr.startswith("_"):
                raise ExpressionSyntaxError(
                    "'.' reads a field of a child collection (collection.field); "
                    f"'{ast.get_source_segment(stripped, node)}' is not one", lead + node.col_offset)
            raise ExpressionSyntaxError(f"attribute access ('.{node.attr}') is not allowed in an expression",
                                        lead + node.col_offset)

        def visit_Name(self, node):
            if node.id.startswith("__w") and node.id not in placeholders:
                raise ExpressionSyntaxError(f"'{node.id}' is not a name a rule can use", lead + node.col_offset)
            names.append((node.id, lead + node.col_offset))
            return node

        def visit_Call(self, node):
            if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
                    and node.func.value.id in callables:   # table.output(...): one output of a table
                node.func = ast.copy_location(ast.Name(id=f"{node.func.value.id}.{node.func.attr}", ctx=ast.Load()),
                                              node.func)
            if not isinstance(node.func, ast.Name):
                self.visit(node.func)   # a lambda or attribute says what it is
                raise ExpressionSyntaxError("only named functions can be called", lead + node.col_offset)
            if node.func.id in callables or node.func.id.split(".")[0] in callables:
                if node.keywords:
                    raise ExpressionSyntaxError("keyword arguments are not allowed", lead + node.col_offset)
                calls.append((node.func.id, lead + node.col_offset))
                node.args = [self.visit(a) for a in node.args]
                return node
            if node.func.id not in FUNCTIONS:
                what = node.func.id
                hint = did_you_mean(what, list(callables))
                if hint:   # a misspelt table or tiers of the file
                    raise ExpressionSyntaxError(f"'{what}' is not a table, tiers or function{hint}",
                                                lead + node.col_offset)
                hint = did_you_mean(what, FUNCTIONS)
                own = f"; the file's tables and tiers are {', '.join(sorted(callables))}" if callables else ""
                raise ExpressionSyntaxError(f"unknown function '{what}'" + (hint or f"; the functions are "
                                            f"{', '.join(sorted(FUNCTIONS))}{own}"), lead + node.col_offset)
            if node.keywords:
                raise ExpressionSyntaxError("keyword arguments are not allowed", lead + node.col_offset)
            node.args = [self.visit(a) for a in node.args]
            return node

    tree = Rewrite().visit(tree)
    # simpleeval evaluates an expression body, not an ast.Expression wrapper
    body = tree.body
    first: dict[str, int] = {}
    for name, col in names:
        first.setdefault(name, col)
    for name, col in names:
        if name in placeholders and not _in_call_argument(body, name):
            raise ExpressionSyntaxError("'where' filters an argument of a function such as sum(... where ...)", col)
    return Expression(text=text.strip(), tree=body, names=tuple(first), columns=tuple(first.values()),
                      fn=None if calls or filters else _compile(body), filters=filters,
                      calls=tuple(dict.fromkeys(calls)))


def _in_call_argument(tree, name) -> bool:
    return any(isinstance(n, ast.Call) and any(isinstance(a, ast.Name) and a.id == name for a in n.args)
               for n in ast.walk(tree))


def _describe(node) -> str:
    kinds = {ast.Lambda: "a lambda", ast.Subscript: "indexing with [ ]", ast.JoinedStr: "an f-string",
             ast.ListComp: "a comprehension", ast.GeneratorExp: "a comprehension",
             ast.DictComp: "a comprehension", ast.SetComp: "a comprehension", ast.Dict: "a dict literal",
             ast.NamedExpr: "':='", ast.Starred: "'*'", ast.Set: "a set literal", ast.List: "a list literal",
             ast.Tuple: "a tuple", ast.Await: "await", ast.Yield: "yield"}
    for kind, text in kinds.items():
        if isinstance(node, kind):
            return text
    symbols = {ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
               ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&", ast.Invert: "~", ast.Is: "is", ast.IsNot: "is not"}
    if type(node) in symbols:
        return f"operator '{symbols[type(node)]}'"
    if isinstance(node, ast.operator) or isinstance(node, ast.cmpop):
        return f"operator {type(node).__name__}"
    return type(node).__name__
