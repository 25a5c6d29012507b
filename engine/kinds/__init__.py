"""The constructs a rule file calls like functions: decision tables (table.py) and marginal
tiers (tiers.py). Adding one is a module here and its tests: the compiler, the run and the
reports go through KINDS, and each module provides

    SECTION, WORD, CALL_KEY       its rule-file key (and Version attribute), its name in
                                  messages, its key in a call recorded in the trace
    SECTION_SCHEMA, SCHEMA        its parts of the rule-file schema: its key in a rule file and
                                  in a shared file, its definitions (kinds/schema.py)
    read(name, spec, at, src, errors) -> the construct (with .name, .where, .assumed)
    check_call(c, scope, obj, output, where, owner) -> refs the call reads besides its
                                  arguments (names resolved: the output asked for exists)
    type_call(c, types, scope, obj, output, arg_types, owner) -> (type, problems); it
                                  registers the call site (c.call_sites)
    check_after_calls(c, objs)    checks that need every call typed first
    bind(site, compile_expression) -> the callable a decision runs, (item, *args) -> value
    render(doc, obj), diff_entries(obj), targets(obj), reached(call), explain(call),
    warning_codes(obj)            what a reviewer sees: the document, the diff, coverage
                                  targets (kind, label, key) and the keys a recorded call
                                  reached, the explanation of a call, the warnings it gives
"""
from . import table, tiers

KINDS: list = []             # in the order a rule file and its documents show them
SECTIONS: dict = {}          # section -> module
CALLABLE_KINDS: dict = {}    # CALL_KEY -> module
PROTOCOL = ("SECTION", "WORD", "CALL_KEY", "SECTION_SCHEMA", "SCHEMA", "read", "check_call", "type_call", "check_after_calls", "bind",
            "render", "diff_entries", "targets", "reached", "explain", "warning_codes")


def register(kind) -> None:
    """Make a construct known to the compiler, the run and the reports."""
    missing = [name for name in PROTOCOL if not hasattr(kind, name)]
    if missing:
        raise TypeError(f"{kind.__name__} lacks {', '.join(missing)}")
    KINDS.append(kind)
    SECTIONS[kind.SECTION] = kind
    CALLABLE_KINDS[kind.CALL_KEY] = kind


def unregister(kind) -> None:
    KINDS.remove(kind)
    del SECTIONS[kind.SECTION], CALLABLE_KINDS[kind.CALL_KEY]


register(tiers)
register(table)


def kind_of_call(call: dict):
    """The module that recorded a call in the trace."""
    return next(k for k in KINDS if k.CALL_KEY in call)


def owner_of(holder, name: str):
    """(module, construct) of the table or tiers called `name` in holder (a compiler or a
    Version: it has an attribute per SECTION), or None."""
    for kind in KINDS:
        found = getattr(holder, kind.SECTION).get(name)
        if found is not None:
            return kind, found
    return None
