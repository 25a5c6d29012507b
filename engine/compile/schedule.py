"""The order a decision runs in: formulas in dependency order, with every condition of
severity `facts` placed before any formula that reads the same inputs (unless the
condition needs that formula itself). A facts problem is then reported as bad facts, with
its JSON path, before a formula can fail on the same bad value and blame the rule file.
Conditions of other severities run after every formula, as before.
"""
from __future__ import annotations


def _keys(refs):
    return {k for ref in refs for k in ref.keys()}


def schedule(plan, conditions) -> tuple:
    """(('formula', Formula) | ('facts', condition index), ...), deterministic."""
    formulas = {(f.scope, f.name): f for f in plan}

    def formula_deps(refs):
        return {k for k in _keys(refs) if k in formulas}

    def input_reads(refs):
        return {k for k in _keys(refs) if k not in formulas}

    deps = {k: formula_deps(f.refs) for k, f in formulas.items()}
    reads = {k: input_reads(f.refs) for k, f in formulas.items()}

    def closure(start):
        seen, todo = set(), list(start)
        while todo:
            k = todo.pop()
            if k not in seen:
                seen.add(k)
                todo.extend(deps[k])
        return seen

    facts = {}
    for i, c in enumerate(conditions):
        if c.severity != "facts" or c.when is None:
            continue
        refs = tuple(c.refs) + tuple(c.message_refs) + ((c.item,) if c.item else ())
        needs = closure(formula_deps(refs))
        touched = input_reads(refs).union(*(reads[k] for k in needs)) if needs else input_reads(refs)
        facts[i] = (formula_deps(refs), needs, touched)

    order, done, pending = [], set(), dict(facts)
    remaining = [(f.scope, f.name) for f in plan]
    while remaining or pending:
        ready_facts = [i for i, (direct, _n, _t) in pending.items() if direct <= done]
        if ready_facts:
            i = min(ready_facts)
            order.append(("facts", i))
            del pending[i]
            continue
        ready = [k for k in remaining if deps[k] <= done]
        if not ready:   # a cycle: reported when the file loads, never run
            break
        unblocked = [k for k in ready
                     if not any(reads[k] & touched and k not in needs for _d, needs, touched in pending.values())]
        k = (unblocked or ready)[0]
        order.append(("formula", formulas[k]))
        done.add(k)
        remaining.remove(k)
    return tuple(order)


def needs_of(conditions, plan) -> dict:
    """Condition index -> the formulas (keys) it reads directly: a facts condition is still
    checked after an earlier one failed when these were computed."""
    formulas = {(f.scope, f.name) for f in plan}
    out = {}
    for i, c in enumerate(conditions):
        refs = tuple(c.refs) + tuple(c.message_refs) + ((c.item,) if c.item else ())
        out[i] = frozenset(k for k in _keys(refs) if k in formulas)
    return out
