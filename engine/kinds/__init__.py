"""The constructs a rule file calls like functions: decision tables (table.py) and marginal
tiers (tiers.py). Each module owns how its construct is read, typed at a call, checked,
evaluated (bind: its runtime callable), and what a reviewer sees of it (render, the diff,
coverage targets, the explanation of a call)."""
from . import table, tiers

CALLABLE_KINDS = {"table": table, "tiers": tiers}
SECTIONS = {"tiers": tiers, "tables": table}   # the Version attribute (and rule-file key) of each


def kind_of_call(call: dict):
    """The module that recorded a call in the trace."""
    return table if "table" in call else tiers
