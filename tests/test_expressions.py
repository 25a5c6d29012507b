"""engine.compile.expressions: parse once (Decimal literals, collection.field, a whitelist),
evaluate with simpleeval; every failure is an ExpressionSyntaxError or EvaluationError."""
import ast
import decimal
from decimal import Decimal

import pytest

from engine.errors import EvaluationError
from engine.run.evaluate import CONTEXT
from engine.compile.expressions import ExpressionSyntaxError, parse
from engine.compile.operators import MAX_EXPONENT


def ev(text, collections=frozenset(), **names):
    with decimal.localcontext(CONTEXT):
        return parse(text, frozenset(collections)).evaluate(names)


def refused(text, collections=frozenset()) -> ExpressionSyntaxError:
    with pytest.raises(ExpressionSyntaxError) as exc:
        parse(text, frozenset(collections))
    return exc.value


def constants(text):
    return [n.value for n in ast.walk(parse(text).tree) if isinstance(n, ast.Constant)]


def test_number_literals_are_decimal_from_their_text_never_float():
    [x] = constants("1.10")
    assert type(x) is Decimal and str(x) == "1.10"
    assert constants("0.10000000000000000001") == [Decimal("0.10000000000000000001")]
    [n] = constants("7")
    assert type(n) is Decimal and n == 7          # whole numbers too: 0 and 0.0 behave alike
    assert not any(isinstance(n.value, float) for n in ast.walk(parse("0.1 * 3 + .5 - 2.").tree)
                   if isinstance(n, ast.Constant))


def test_decimal_arithmetic_is_exact():
    assert ev("0.1 + 0.2") == Decimal("0.3")                       # 0.30000000000000004 in float
    assert ev("1.10 * 3") == Decimal("3.30")
    assert ev("x * 0.00002", x=Decimal("1000000")) == Decimal("20.00000")
    assert ev("-1.5") == Decimal("-1.5")


def test_int_over_int_gives_decimal():
    got = ev("7 / 2")
    assert got == Decimal("3.5") and type(got) is Decimal
    assert ev("a / b", a=1, b=4) == Decimal("0.25")
    assert ev("1 / 3") == Decimal("0." + "3" * 60)                  # 60 significant digits


def test_names_are_collected_once_in_order_without_functions():
    assert parse("b + a * b").names == ("b", "a")
    assert parse("max(x, 500) + min(y)").names == ("x", "y")
    assert set(parse("a if b else c").names) == {"a", "b", "c"}


def test_collection_field_becomes_one_name():
    e = parse("sum(daily.asset_value) / days", frozenset({"daily"}))
    assert e.names == ("daily.asset_value", "days")
    assert ev("sum(daily.asset_value) / days", {"daily"},
              **{"daily.asset_value": [Decimal("1.5"), Decimal("2.25"), 0], "days": 3}) == Decimal("1.25")


def test_operators_and_functions():
    assert ev("a if b else c", a=1, b=False, c=2) == 2
    assert ev("1 < a < 3 and not b", a=Decimal("2.5"), b=False) is True
    assert ev("max(a, b, 500)", a=Decimal("499.99"), b=12) == 500
    assert ev("sum(xs)", xs=[]) == 0
    assert ev("count_true(xs)", xs=[True, False, True]) == 2
    assert ev("days_in_month(m)", m="2024-02") == 29


@pytest.mark.parametrize("text, message, col", [
    ("(lambda: 1)", "a lambda is not allowed in an expression", 1),
    ("x[0]", "indexing with [ ] is not allowed in an expression", 0),
    ("f'{a}'", "an f-string is not allowed in an expression", 0),
    ("sum([v for v in xs])", "a comprehension is not allowed in an expression", 4),
    ("{1: 2}", "a dict literal is not allowed in an expression", 0),
    ("(a := 1)", "':=' is not allowed in an expression", 1),
    ("max(a, key=b)", "keyword arguments are not allowed", 0),
    ("1e3", "write numbers in plain decimal notation, found 1e3", 0),
    ("2 * 1.5E3", "write numbers in plain decimal notation, found 1.5E3", 4),
    ("1.5j", "literal 1.5j is not allowed", 0),
    ("  a.__class__", "attribute access ('.__class__') is not allowed in an expression", 2),
    ("sum.__globals__", "attribute access ('.__globals__') is not allowed in an expression", 0),
    ("a.total", "'.' reads a field of a child collection (collection.field); 'a.total' is not one", 0),
    ("rand()", "unknown function 'rand'; the functions are abs, all, any, contains, count, count_true, "
               "date_ranges, days_in_month, days_of, end_of_month, first, get, has, largest_multiple_below, max, "
               "min, month_of, overlap, sum, without", 0),
    ("1 + mx(a)", "unknown function 'mx'; did you mean 'max'?", 4),
    ("a // 2", "operator '//' is not allowed in an expression", 0),
    ("a is None", "operator 'is' is not allowed in an expression", 0),
    ("a % 2", "operator '%' is not allowed in an expression", 0),
    ("  a + )", "invalid expression: unmatched ')'", 6),
])
def test_whitelist_refusals(text, message, col):
    err = refused(text)
    assert (err.message, err.col) == (message, col)


def test_private_field_of_a_collection_is_refused():
    assert refused("daily._x", {"daily"}).message == "attribute access ('._x') is not allowed in an expression"


def test_size_is_bounded():
    assert refused("a" * 2001).message == "expression is longer than 2000 characters"
    assert refused("-" * 1999 + "1").message == "expression has more than 400 parts"


@pytest.mark.parametrize("text, names", [
    ("1 / (2 - 2)", {}), ("a / b", {"a": Decimal(0), "b": Decimal(0)}),
    ("a / b", {"a": Decimal(1), "b": Decimal("0.0")}),
])
def test_division_by_zero_is_an_evaluation_error(text, names):
    with pytest.raises(EvaluationError, match="division by zero"):
        ev(text, **names)


def test_power_is_bounded():
    assert ev("2 ** 10") == 1024
    assert ev("2 ** 100") == Decimal(2 ** 100)             # 31 digits: exact at 60
    assert ev("2 ** -2") == Decimal("0.25")
    for text in ("2 ** 101", "4000000 ** 4000000", "2 ** 0.5"):
        with pytest.raises(EvaluationError, match=rf"'\*\*' takes a whole exponent of at most {MAX_EXPONENT}"):
            ev(text)
    with pytest.raises(EvaluationError, match="beyond the decimal range"):
        ev("((10 ** 100) ** 100) ** 100")


def test_evaluation_failures_are_evaluation_errors():
    with pytest.raises(EvaluationError, match="'\\+' needs numbers, found text 'a'"):
        ev("'a' + 1")
    with pytest.raises(EvaluationError, match="'\\*' needs numbers, found true/false \\(true\\)"):
        ev("2 * (1 > 0)")
    with pytest.raises(EvaluationError, match="'a' is not defined"):
        ev("a + 1")


@pytest.mark.parametrize("text", ["2 ** b", "days_in_month(b)"])
def test_value_errors_are_evaluation_errors(text):
    with pytest.raises(EvaluationError):
        ev(text, b="2024-13")


@pytest.mark.parametrize("text", ["0x10", "0o17", "0b11", "1_000"])
def test_non_decimal_int_literals_are_refused(text):
    refused(text)


def test_the_readme_lists_every_function_as_the_functions_table_has_it():
    from engine.compile.functions import markdown_table
    from conftest import ROOT
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = readme.split("<!-- functions:", 1)[1].split("-->\n", 1)[1].split("<!-- /functions -->", 1)[0]
    assert listed == markdown_table()
