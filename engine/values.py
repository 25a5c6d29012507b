"""The one value formatter: how a value is shown wherever a person reads it.

Styles:
- "plain": as in a message or the text explanation without grouping: 4360.00, true,
  [a, b] (a list's items joined), null;
- "readable": for documents and explanations: 4,360.00; 0.02; true; [a, b]; a long list
  of numbers summed;
- "brief": readable, for the lines of an explanation: a number cut after 10 decimals
  (16.4383561643…), a long list shown by its ends and its length;
- "rule": as written in a rule file: 0.5, true, "text" quoted, [a, b], null;
- "found": a value found in facts, in an error message: JSON (text quoted), decimals plain,
  long values cut;
- "json": a JSON scalar: Decimals as plain text, dates ISO.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal


_BRIEF_DECIMALS = 10
_BRIEF_ITEMS = 6


def _number(value) -> bool:
    return isinstance(value, (Decimal, int)) and not isinstance(value, bool)


def show(value, style: str = "plain") -> str:
    if style == "found":
        if isinstance(value, Decimal):
            return format(value, "f")
        if isinstance(value, (dict, list, tuple)):
            text = json.dumps(value, default=lambda v: format(v, "f") if isinstance(v, Decimal) else str(v))
            return text if len(text) <= 60 else text[:57] + "..."
        return json.dumps(value, default=str)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, Decimal):
        plain = value.copy_abs() if value.is_zero() else value   # never -0
        text = format(plain, ",f" if style in ("readable", "brief") else "f")
        if style == "brief" and value.as_tuple().exponent < -_BRIEF_DECIMALS:
            whole, _, fraction = text.partition(".")
            text = f"{whole}.{fraction[:_BRIEF_DECIMALS]}…"
        return text
    if isinstance(value, int):
        return format(value, ",") if style in ("readable", "brief") else str(value)
    if isinstance(value, str):
        return f'"{value}"' if style == "rule" else value
    if isinstance(value, dict):
        if style == "plain":   # a map in a message: its keys
            return ", ".join(str(k) for k in value)
        return "{" + ", ".join(f"{k} {show(v, style)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        if style == "plain":
            return ", ".join(show(v, style) for v in value)
        if style in ("readable", "brief") and len(value) > 4 and all(_number(v) for v in value):
            return f"[{len(value)} values, sum {show(sum(value, Decimal(0)), style)}]"
        if style == "brief" and len(value) > _BRIEF_ITEMS:
            ends = [show(v, style) for v in value[:3]] + ["…", show(value[-1], style)]
            return f"[{', '.join(ends)}] ({len(value)} values)"
        return "[" + ", ".join(show(v, style) for v in value) + "]"
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def plain_decimal(value: Decimal) -> str:
    """A decimal as plain text, never an exponent, never -0: str() where it writes no exponent
    (the same digits, four times faster), else format 'f'."""
    if not value:
        value = value.copy_abs()
    text = str(value)
    return text if "E" not in text else format(value, "f")


def json_scalar(value):
    """Decimals as plain strings (never exponents, never -0), timestamps and dates as ISO
    text; anything else as it is."""
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def with_unit(value, unit: str | None) -> str:
    """A value as a document shows it beside its unit: a ratio whose unit says so as the
    percentage people write (0.00002 'ratio of daily spot volume' -> 0.002%), else as
    `show(value, "readable")`."""
    if unit and unit.strip().lower().startswith("ratio") and isinstance(value, (Decimal, int)) \
            and not isinstance(value, bool):
        return show(Decimal(value).scaleb(2).normalize(), "readable") + "%"
    return show(value, "readable")


def sentence(message: str) -> str:
    """A condition's message template as a reader sees it: each {name:format} or
    {expression} as ‹name› or ‹expression›, named as the rule file names it."""
    import re
    return re.sub(r"\{([^{}:!]+)(?:![rsa])?(?::[^{}]*)?\}", lambda m: "‹" + m.group(1).strip() + "›", message)
