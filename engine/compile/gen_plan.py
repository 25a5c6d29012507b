"""How generated code orders its work (engine.compile.generate): formulas in stages, each one
loop over a collection with as many formulas as can share it; which facts conditions are
checked inside those loops; which formula values need a column because something outside
their loop reads them."""
from __future__ import annotations


def stages(version) -> list:
    """(scope, formulas) in an order that computes every formula after what it reads, with
    as many formulas of one collection as can share one loop over its items."""
    formulas = {(f.scope, f.name): f for f in version.plan}
    deps = {key: {k for ref in f.refs for k in ref.keys() if k in formulas and k != key}
            for key, f in formulas.items()}
    remaining = list(version.plan)
    done: set = set()
    out = []

    def take(scope):
        stage, keys, grew = [], set(), True
        while grew:
            grew = False
            for f in remaining:
                key = (f.scope, f.name)
                if f.scope == scope and key not in keys and deps[key] <= done | keys:
                    stage.append(f)
                    keys.add(key)
                    grew = True
        return stage, keys

    while remaining:
        stage, keys = take("")   # the top level first: no loop, and what it computes the loops may read
        if not stage:
            stage, keys = take(remaining[0].scope)
        remaining = [f for f in remaining if (f.scope, f.name) not in keys]
        done |= keys
        out.append((version.scopes[stage[0].scope], stage))
    return out


def place_checks(version, planned) -> dict:
    """stage number -> indexes of the facts conditions checked at the end of its loop: the
    first loop over the condition's own items after which everything it reads is computed."""
    out: dict = {}
    done: set = set()
    waiting = [i for i, c in enumerate(version.conditions) if c.severity == "facts" and c.when is not None]
    for n, (scope, formulas) in enumerate(planned):
        done |= {(f.scope, f.name) for f in formulas}
        for i in list(waiting):
            cond = version.conditions[i]
            if cond.scope == scope.qualified and version.condition_needs[i] <= done \
                    and not any(r.kind == "child" for r in cond.refs):
                out.setdefault(n, []).append(i)
                waiting.remove(i)
    return out


def kept_outside(version, planned) -> set:
    """(scope, name) of the formulas read anywhere but by a later formula of their own loop:
    those keep a column; the others are locals of the loop alone."""
    stage_of = {(f.scope, f.name): n for n, (_scope, fs) in enumerate(planned) for f in fs}
    kept: set = set()

    def reads(refs, reader_stage=None):
        for ref in refs:
            for key in ref.keys():
                if not (ref.kind == "value" and ref.up == 0 and stage_of.get(key) == reader_stage is not None):
                    kept.add(key)

    for n, (_scope, fs) in enumerate(planned):
        for f in fs:
            reads(f.refs, n)
    for c in version.conditions:
        reads(tuple(c.refs) + tuple(c.message_refs) + ((c.item,) if c.item else ()))
        for _text, _e, refs, _spec in c.message_fields:
            reads(refs)

    def fields(fs):
        for f in fs:
            reads([r for r in (f.ref, f.when) if r is not None])
            fields(f.fields)
    fields(version.result)
    if version.as_of_default is not None:
        reads(version.as_of_default.refs)
    return kept
