"""engine.values: the one formatter every message, document and explanation uses."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from engine.values import json_scalar, show


@pytest.mark.parametrize("value, style, expected", [
    (Decimal("4360.00"), "plain", "4360.00"),
    (Decimal("4360.00"), "readable", "4,360.00"),
    (Decimal("4360.00"), "rule", "4360.00"),
    (Decimal("4360.00"), "found", "4360.00"),
    (Decimal("1E+3"), "plain", "1000"),            # never an exponent
    (Decimal("-0.00"), "plain", "0.00"),           # never -0
    (1234567, "readable", "1,234,567"),
    (1234567, "plain", "1234567"),
    (True, "plain", "true"),
    (None, "rule", "null"),
    ("BTC", "plain", "BTC"),
    ("BTC", "rule", '"BTC"'),
    ("BTC", "found", '"BTC"'),
    (["a", "b"], "plain", "a, b"),
    (["a", "b"], "rule", '["a", "b"]'),
    ([Decimal(1)] * 5, "readable", "[5 values, sum 5]"),
    ({"x": Decimal("0.5")}, "rule", "{x 0.5}"),
    ({"x": 1, "y": 2}, "plain", "x, y"),
    (datetime(2024, 6, 11, 3, 0, tzinfo=timezone.utc), "plain", "2024-06-11T03:00:00Z"),
    # brief: 6000 / 365 has more decimals than a person reads; cut, and marked as cut
    (Decimal(6000) / Decimal(365), "brief", "16.4383561643…"),
    (Decimal("12345.5"), "brief", "12,345.5"),
    (Decimal(6000) / Decimal(365), "readable", format(Decimal(6000) / Decimal(365), "f")),
    ([f"d{i}" for i in range(29)], "brief", "[d0, d1, d2, …, d28] (29 values)"),
    (["a", "b", "c", "d", "e", "f"], "brief", "[a, b, c, d, e, f]"),
])
def test_show(value, style, expected):
    assert show(value, style) == expected


def test_found_cuts_long_values():
    text = show(list(range(100)), "found")
    assert len(text) == 60 and text.endswith("...")


def test_json_scalar():
    assert json_scalar(Decimal("2E+1")) == "20"
    assert json_scalar(Decimal("-0")) == "0"
    assert json_scalar(date(2024, 6, 11)) == "2024-06-11"
    assert json_scalar(datetime(2024, 6, 11, tzinfo=timezone.utc)) == "2024-06-11T00:00:00Z"
    assert json_scalar(7) == 7
