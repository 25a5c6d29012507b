"""Decision tables, as DMN and GoRules have them: input columns of simple tests, output
columns, a hit policy. A table is called like a function from any expression,
`band(score, previous)`, its arguments in the order of its input columns
(`table.output(...)` picks one output of several).

Cells of an input column (the tests):
    -                   any value
    null                the value is null
    a value             equal to it (text, a number, true/false)
    [a, b, c]           one of them
    ">= x", "< x", ...  compared with x, a number or a parameter's name (<, <=, >, >=, !=, ==)
    "[a..b)"            in a range: [ or ] includes the bound, ( or ) leaves it out
Cells of an output column: a value (a number, text, a list, null), or "= expression", an
expression of the scope the table is called from.

Hit policies: `first` (the first row that matches), `unique` (at most one row matches:
overlapping rows are a load error), `collect` with `aggregate` sum, min, max, count or list
(every row that matches). Without `default`, every value the columns can take must match
a row (gaps are load errors), so a table that validates always answers; `default` is the
output where no row matches (with `warn_default: true`, a warning says so).

The checks run when the rules load, once per set of column types (a table is typed by the
expressions that call it): each column's values are split where its tests draw lines
(every bound, every listed value, null, and what lies between), and every combination is
tried against the rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .. import types as T
from ..values import show
from . import binding
from .binding import literal
from .cells import check, parse_test, typed_test, unused_rows
from .notes import diff_text, render_head

SECTION = "tables"     # its key in a rule file, and the Version attribute holding them
WORD = "table"         # how a message names one
CALL_KEY = "table"     # the key naming it in a call recorded in the trace

HIT_POLICIES = ("unique", "first", "collect")
AGGREGATES = ("sum", "min", "max", "count", "list")

_NOTES = {"description": {"type": "string", "title": "what it is, in a sentence"},
          "unit": {"type": "string", "title": "a unit, e.g. ratio, USDT"},
          "source": {"type": "string", "title": "where in the source it is stated"},
          "assumed": {"type": "string", "title": "why it is assumed (no source states it)"}}
_CELL = {"title": "a test: -, null, a value, [a, b], \">= x\" or \"[a..b)\"; an output: a value or \"= expression\""}
_ROWS = {"type": "array", "minItems": 1, "title": "its rows: the tests of each input column, then each output",
         "items": {"type": "array", "title": "a row [test, ..., output, ...]", "items": _CELL},
         "examples": [[[">= high_score", "-", "review"], ["-", "-", "accept"]]]}
# The rule-file schema's parts for this construct (schemas/rule-file.schema.json takes them
# from here: engine/kinds/schema.py writes them, and a test holds the file to it): its key in a
# rule file and in a shared file, and its definitions.
SECTION_SCHEMA = {
    "rule_file": {"type": "object", "title": "decision tables",
                  "description": "Decision tables (hit policy unique, first or collect), each called like a function: "
                                 "name(input, ...).",
                  "additionalProperties": {"$ref": "#/$defs/decision_table"}, "propertyNames": {"$ref": "#/$defs/name"}},
    "shared_file": {"type": "object", "title": "decision tables, dated",
                    "additionalProperties": {"$ref": "#/$defs/shared_table"}, "propertyNames": {"$ref": "#/$defs/name"}},
}
SCHEMA = {
    "decision_table": {
        "type": "object", "required": ["inputs", "outputs", "rows"], "additionalProperties": False,
        "title": "a decision table {hit, inputs, outputs, rows}",
        "description": "Called like a function from any expression, name(input, ...). Rows of tests (-, null, a value, "
                       "[a, b], \">= x\", \"[a..b)\") and outputs (a value, or \"= expression\" of the calling scope).",
        "properties": {
            **_NOTES,
            "hit": {"enum": list(HIT_POLICIES), "title": "unique, first or collect",
                    "description": "unique: at most one row matches (overlaps are load errors); first: the first row "
                                   "that matches; collect: every row that matches, with `aggregate`."},
            "aggregate": {"enum": list(AGGREGATES), "title": "for hit: collect: sum, min, max, count or list"},
            "inputs": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/name"},
                       "title": "the input columns: the call's arguments, in order"},
            "outputs": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/name"}, "title": "the output columns"},
            "rows": _ROWS,
            "default": {"title": "the output where no row matches (a value; a mapping by output for several)",
                        "description": "Without it, every value the input columns can take must match a row: gaps "
                                       "are load errors."},
            "warn_default": {"type": "boolean", "title": "warn (NO_TABLE_ROW) when the default is used"},
            "complete": {"type": "boolean", "title": "says the rows cover every value (checked)"},
        },
    },
    "shared_table": {
        "type": "object", "required": ["inputs", "outputs", "values"], "additionalProperties": False,
        "title": "a shared decision table {hit, inputs, outputs, values}",
        "properties": {
            **_NOTES,
            "hit": {"enum": list(HIT_POLICIES)}, "aggregate": {"enum": list(AGGREGATES)},
            "inputs": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/name"}},
            "outputs": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/name"}},
            "default": {"title": "the output where no row matches"},
            "warn_default": {"type": "boolean"}, "complete": {"type": "boolean"},
            "values": {"type": "array", "minItems": 1, "title": "its rows, each set from a date",
                       "description": "Dated values: a decision uses the latest whose 'from' is on or before its "
                                      "as_of, among those published by its known_at.",
                       "items": {"type": "object", "required": ["from", "published", "rows"], "additionalProperties": False,
                                 "properties": {"from": {"$ref": "#/$defs/date"}, "published": {"$ref": "#/$defs/timestamp"},
                                                "source": _NOTES["source"], "assumed": _NOTES["assumed"],
                                                "note": {"type": "string"}, "rows": _ROWS}}},
        },
    },
}


@dataclass(frozen=True)
class Output:
    """One output cell: a value, or an expression (its text) of the calling scope."""

    value: object = None
    expression: str | None = None

    @property
    def text(self) -> str:
        if self.expression is not None:
            return f"= {self.expression}"
        return show(self.value, "readable")


@dataclass(frozen=True)
class TableRow:
    tests: tuple
    outputs: tuple
    at: tuple              # its path in its file


@dataclass(frozen=True)
class DecisionTable:
    name: str
    hit: str
    aggregate: str | None
    inputs: tuple
    outputs: tuple
    rows: tuple
    has_default: bool
    default: tuple          # an Output per output column
    warn_default: bool
    complete: bool
    description: str | None
    unit: str | None
    origin: str | None      # `source:` as written
    assumed: str | None
    where: str
    at: tuple = ()
    source: object = field(default=None, compare=False, repr=False)   # the yamlsrc.Source it is written in


# -- reading a table ----------------------------------------------------------------------------------

def read_table(name: str, spec: dict, at: tuple, src, errors: list) -> DecisionTable:
    """A table from its rule-file data; problems of its shape go to errors (Diagnostics)."""
    hit = spec.get("hit", "unique")
    aggregate = spec.get("aggregate")
    if hit == "collect" and aggregate is None:
        aggregate = "list"
    if hit != "collect" and aggregate is not None:
        errors.append(src.diag(at + ("aggregate",), f"table '{name}': 'aggregate' goes with hit: collect, not {hit}"))
    inputs, outputs = tuple(spec["inputs"]), tuple(spec["outputs"])
    for kind, names in (("input", inputs), ("output", outputs)):
        for i, n in enumerate(names):
            if names.index(n) != i:
                errors.append(src.diag(at + (f"{kind}s", i), f"table '{name}': {kind} column '{n}' appears twice"))
    if hit == "collect" and len(outputs) != 1:
        errors.append(src.diag(at + ("outputs",), f"table '{name}': a collect table has one output column"))
    rows = []
    for i, raw in enumerate(spec["rows"]):
        rat = at + ("rows", i)
        if not isinstance(raw, list) or len(raw) != len(inputs) + len(outputs):
            errors.append(src.diag(rat, f"table '{name}': a row has {len(inputs)} test(s) ({', '.join(inputs)}) and "
                                        f"{len(outputs)} output(s) ({', '.join(outputs)}), found "
                                        f"{len(raw) if isinstance(raw, list) else 'no list'}"))
            continue
        tests = []
        for j, cell in enumerate(raw[:len(inputs)]):
            test, problem = parse_test(cell)
            if problem:
                errors.append(src.diag(rat + (j,), f"table '{name}' column '{inputs[j]}': {problem}"))
            tests.append(test)
        rows.append(TableRow(tuple(tests), tuple(parse_output(c) for c in raw[len(inputs):]), rat))
    default = ()
    if "default" in spec:
        raw = spec["default"]
        if len(outputs) > 1:
            if not isinstance(raw, dict) or set(raw) != set(outputs):
                errors.append(src.diag(at + ("default",), f"table '{name}': default gives a value for each output "
                                                          f"({', '.join(outputs)})"))
                raw = {o: None for o in outputs}
            default = tuple(parse_output(raw[o]) for o in outputs)
        else:
            default = (parse_output(raw),)
    return DecisionTable(name, hit, aggregate, inputs, outputs, tuple(rows), "default" in spec, default,
                         bool(spec.get("warn_default")), bool(spec.get("complete")), spec.get("description"),
                         spec.get("unit"), spec.get("source"), spec.get("assumed"), src.where(at, key=True), at, src)


read = read_table


def parse_output(cell) -> Output:
    if isinstance(cell, str) and cell.startswith("="):
        return Output(expression=cell[1:].strip())
    return Output(tuple(cell) if isinstance(cell, list) else cell)


# -- typing a call, and binding it --------------------------------------------------------------------

def check_call(c, scope, table: DecisionTable, output: str, where: str, owner: str) -> list:
    """A call, once names are resolved: the output asked for must exist; the output
    expressions are read in the caller's scope, so what they read, the caller reads
    (returned: their refs)."""
    from ..errors import Diagnostic, did_you_mean
    base = table.name
    if output and output not in table.outputs:
        c.ctx.errors.append(Diagnostic(where, f"{owner}: table '{base}' has no output '{output}' (its outputs: "
                                              f"{', '.join(table.outputs)}){did_you_mean(output, table.outputs)}"))
    elif not output and len(table.outputs) > 1:
        c.ctx.errors.append(Diagnostic(where, f"{owner}: table '{base}' has {len(table.outputs)} outputs; call "
                                              + " or ".join(f"{base}.{o}(...)" for o in table.outputs)))
    key = (scope.qualified, base)
    if key not in c.output_exprs:   # once per scope and table
        c.output_exprs[key] = {}
        cells = [((i, j), row.at + (len(table.inputs) + j,), cell) for i, row in enumerate(table.rows)
                 for j, cell in enumerate(row.outputs)]
        cells += [(("default", j), table.at + ("default",) + ((table.outputs[j],) if len(table.outputs) > 1 else ()),
                   cell) for j, cell in enumerate(table.default)]
        for slot, path, cell in cells:
            if cell.expression is None:
                continue
            if table.source is not c.ctx.src:
                c.ctx.errors.append(table.source.diag(path, f"table '{base}': a shared table holds values; "
                                                            "expressions belong in a version's own tables"))
                continue
            e, r = c.expression_in(scope, str(c.ctx.src.data_at(path))[1:], path, f"table '{base}'", offset=1)
            if e is not None and e.calls:
                c.ctx.errors.append(c.ctx.src.diag(path, f"table '{base}': an output expression calls "
                                                         "no table or tiers"))
            c.output_exprs[key][slot] = (e, r)
    return [ref for _e, refs in c.output_exprs[key].values() for ref in refs]


def _typed_rows(c, table: DecisionTable, columns: tuple):
    """The rows' tests typed for these columns (problems at the cells), and the overlap,
    reachability and gap checks; None when a cell cannot be typed (reported)."""
    src, rows, failed = table.source, [], False
    shared = table.source is not c.ctx.src
    for row in table.rows:
        tests = []
        for j, (test, column) in enumerate(zip(row.tests, columns)):
            c.used.update(b for b in (test.value, test.lo, test.hi) if isinstance(b, str) and b in c.params)
            typed, problem = typed_test(test, column, c.params)
            if problem and shared and column.kind == "text" and column.values is not None \
                    and "did you mean" not in problem:
                # a shared table serves several policies: a value this caller's text never takes,
                # and close to none it does, is a row for another caller, not a typo
                typed, problem = typed_test(test, T.Type("text", optional=column.optional), c.params)
            if problem:
                c.ctx.errors.append(src.diag(row.at + (j,), f"table '{table.name}' column '{table.inputs[j]}': {problem}"))
                failed = True
            tests.append(typed)
        rows.append((tuple(tests), row.outputs))
    if failed:
        return None
    used = c.__dict__.setdefault("rows_used", {}).setdefault(table.name, set())
    for path, message in check(table, rows, columns, used):
        c.ctx.errors.append(src.diag(path, message))
    return rows


def check_after_calls(c, tables) -> None:
    """Once every call is typed: the rows of `first` tables that no caller can reach."""
    for name, used in getattr(c, "rows_used", {}).items():
        table = tables[name]
        if table.source is not c.ctx.src:   # a shared table: a row one policy never reaches may serve another
            continue
        for path, message in unused_rows(table, used):
            c.ctx.errors.append(table.source.diag(path, message))


def type_call(c, types, scope, table: DecisionTable, output, arg_types, owner) -> tuple:
    """(type of the call, problems to report at the call). Registers the call site."""
    if len(arg_types) != len(table.inputs):
        return T.ANY, [f"table '{table.name}' takes {len(table.inputs)} argument(s) ({', '.join(table.inputs)}), "
                       f"found {len(arg_types)}"]
    problems = [f"column '{n}' tests one value, not {T.show(t)}" for n, t in zip(table.inputs, arg_types)
                if t.kind in ("list", "map")]
    if problems:
        return T.ANY, problems
    columns = tuple(arg_types)
    cache = c.__dict__.setdefault("typed_tables", {})
    if (table.name, columns) not in cache:
        cache[(table.name, columns)] = _typed_rows(c, table, columns)
    rows = cache[(table.name, columns)]
    if output and output not in table.outputs:
        return T.ANY, []   # reported where the names are resolved
    out = table.outputs.index(output) if output else 0
    exprs = c.output_exprs.get((scope.qualified, table.name), {})
    result = T.NOTHING
    cells = [((i, out), row.at + (len(table.inputs) + out,), row.outputs[out]) for i, row in enumerate(table.rows)]
    cells += [(("default", out), table.at + ("default",), table.default[out])] if table.has_default else []
    for slot, path, cell in cells:
        if cell.expression is None:
            t = T.of_value(literal(cell.value))
        elif slot in exprs and exprs[slot][0] is not None:
            t = types.expression(scope, exprs[slot][0], str(table.source.data_at(path))[1:], path,
                                 f"table '{table.name}'", offset=1)
        else:
            t = T.ANY
        joined = T.join(result, t)
        if joined is None:
            c.ctx.errors.append(table.source.diag(path, f"table '{table.name}' output '{table.outputs[out]}': this "
                                                        f"cell gives {T.show(t)}, the others {T.show(result)}"))
        else:
            result = joined
    result = T.ANY if result.kind == "nothing" else result
    if table.hit == "collect":
        result = _collected(table, result, problems)
    name = table.name + (f".{output}" if output else "")
    site = {"kind": "table", "table": table, "rows": rows, "output": out, "columns": columns, "exprs": exprs}
    known = c.call_sites.setdefault((scope.qualified, name), site)
    if [t.kind for t in known["columns"]] != [t.kind for t in columns]:   # the typed tests depend on the kinds
        problems.append(f"table '{table.name}' is called in this scope with other kinds of values "
                        f"({', '.join(T.show(t) for t in known['columns'])}, then {', '.join(T.show(t) for t in columns)})")
    return result, problems


def _collected(table, t, problems):
    agg = table.aggregate
    if agg == "count":
        return T.INTEGER
    if agg == "list":
        return T.list_of(t)
    if agg == "sum" and not T.is_number(t):
        problems.append(f"table '{table.name}' sums its output, which is {T.show(t)}, not a number")
        return T.ANY
    if agg in ("min", "max") and t.kind not in T.ORDERED + ("any",):
        problems.append(f"table '{table.name}' takes the {agg} of its output, which is {T.show(t)}")
        return T.ANY
    return T.DECIMAL if agg == "sum" else t


def bind(site: dict, compile_expression) -> binding.Binding:
    """The runtime callable of a call site (engine.kinds.binding)."""
    return binding.bind(site, compile_expression)


# -- what a reviewer reads: the document, the diff, coverage, the explanation ----------------------

HIT_WORDS = {"unique": "unique (at most one row matches)", "first": "first (the first row that matches)",
             "collect": "collect (every row that matches)"}


def render(doc, t: DecisionTable) -> None:
    """The table as a document section: its notes, its hit policy and its rows as a grid."""
    render_head(doc, f"Table {t.name}", t)
    hit = HIT_WORDS[t.hit] + (f", {t.aggregate} of the outputs" if t.hit == "collect" else "")
    doc.p(f"Hit policy: {hit}. Called as {t.name}({', '.join(t.inputs)}).")
    doc.table(["row"] + [f"{i} (test)" for i in t.inputs] + list(t.outputs),
              [[str(n)] + [test.text for test in row.tests] + [o.text for o in row.outputs]
               for n, row in enumerate(t.rows, 1)])
    if t.has_default:
        doc.p("No row matches: " + ", ".join(f"{o} {d.text}" for o, d in zip(t.outputs, t.default))
              + (" (with a warning)" if t.warn_default else ""))


def diff_entries(t: DecisionTable) -> dict:
    """name -> text of each part a revision can change."""
    out = {f"{t.name} (hit policy)": t.hit + (f" {t.aggregate}" if t.aggregate else "")
           + (f"; default {', '.join(d.text for d in t.default)}" if t.has_default else "")}
    for n, row in enumerate(t.rows, 1):
        out[f"{t.name} row {n}"] = ", ".join(x.text for x in row.tests) + " → " + ", ".join(o.text for o in row.outputs)
    notes = diff_text(t)
    if notes:
        out[f"{t.name} (notes)"] = notes
    return out


def targets(t: DecisionTable) -> list:
    """(kind, label, key) of what cases can reach: each row; key as a decision records it."""
    return [("table row", f"{t.name} row {n} ({', '.join(x.text for x in row.tests)})", (t.name, n))
            for n, row in enumerate(t.rows, 1)]


def reached(call: dict):
    """The coverage keys (see targets) a call recorded in the trace reached: its rows."""
    return [(call["table"], n) for n in call["rows"]]


def warning_codes(t: DecisionTable) -> set:
    """The warnings a call can give."""
    return {"NO_TABLE_ROW"} if t.warn_default else set()


def explain(call: dict) -> list[str]:
    """Lines of the text explanation for one call recorded in the trace."""
    rows = call["rows"]
    if call.get("default"):
        return [f"table {call['table']}: no row matches, its default"]
    if not rows:
        return [f"table {call['table']}: no row matches"]
    return [f"table {call['table']}: row{'s' if len(rows) > 1 else ''} {', '.join(map(str, rows))}"]


def explain_in(call: dict, t: DecisionTable | None) -> list[str]:
    """explain, with the row that applied written out: its tests and its output."""
    if t is None or call.get("default") or not call["rows"]:
        return explain(call)
    rows = [f"row {n} ({', '.join(x.text for x in t.rows[n - 1].tests)} → "
            f"{', '.join(o.text for o in t.rows[n - 1].outputs)})" for n in call["rows"] if 0 < n <= len(t.rows)]
    return [f"table {call['table']}: " + "; ".join(rows)]
