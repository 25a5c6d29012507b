"""Conditions: a code raised when `when` holds, per item with `for_each`, as a violation,
a warning or bad facts; and their messages, whose fields are names or expressions of the
condition's scope."""
from __future__ import annotations

import re

from ..check import schema as schemacheck
from ..errors import did_you_mean
from .context import meta
from .model import Condition


class ConditionStage:
    def _scope_by_path(self, text, at):
        scope = self.scopes[""]
        for part in text.split("."):
            nxt = scope.children.get(part)
            if nxt is None:
                self.ctx.error(at, f"'{part}' is not a collection here{did_you_mean(part, scope.children)}")
                return None
            scope = nxt
        return scope

    def _condition(self, i, spec) -> Condition:
        at = ("conditions", i)
        scope = self._scope_by_path(spec["for_each"], at + ("for_each",)) if spec.get("for_each") else self.scopes[""]
        if scope is None:   # reported; checking its names against the wrong scope would only add noise
            return Condition(spec["code"], "", None, (), spec["message"], (), spec.get("severity", "violation"),
                             spec.get("path"), self.ctx.src.where(at))
        owner = f"condition {spec['code']}"
        when, refs = self._expression(scope, spec["when"], at + ("when",), owner)
        fields = []
        found, parts = self._message_fields(spec["message"], at + ("message",))
        for text, fspec, col in found:
            expr, field_refs = self._expression(scope, text, at + ("message",), owner, offset=col)
            fields.append((text, expr, field_refs, fspec))
        if any(e is None for _t, e, _r, _s in fields):
            fields, parts = [], (spec["message"],)
        message_refs = tuple(dict.fromkeys(r for _t, _e, rs, _s in fields for r in rs))
        severity = spec.get("severity", "violation")
        if severity == "facts" and not spec.get("path") and not spec.get("for_each"):
            self.ctx.error(at, "a top-level condition with severity 'facts' needs 'path': the JSON path its error names")
        if spec.get("path") and self.facts_schema is not None:   # under for_each: a path within the item
            item_schema = schemacheck.node_at(self.facts_schema, scope.facts_base)
            self._check_fact_path(item_schema, tuple(str(spec["path"]).split(".")), at + ("path",), scope.facts_base)
        item = None
        if spec.get("item"):
            item = self._resolve(scope, spec["item"])
            if item is None or item.kind == "child":
                self.ctx.error(at + ("item",), f"'{spec['item']}' is not defined here"
                                               f"{did_you_mean(spec['item'], self._visible(scope))}")
        return Condition(spec["code"], scope.qualified, when, refs, spec["message"], message_refs,
                         severity, spec.get("path"), self.ctx.src.where(at), item, meta(spec), tuple(fields),
                         parts)

    def _message_fields(self, template: str, at):
        """([(expression, format spec, column)] of each {field} of a message: {name},
        {name:,.2f}, or any expression of the condition's scope, {count(missing_days)};
        and the message as parts: text, or the index of a field). {{ and }} are braces."""
        fields, parts, text_so_far, i, n = [], [], "", 0, len(template)
        while i < n:
            ch = template[i]
            if ch in "{}" and template[i + 1:i + 2] == ch:
                text_so_far += ch
                i += 2
                continue
            if ch == "}":
                self.ctx.error(at, "a message has a '}' with no '{'; write }} for a brace")
                return [], (template,)
            if ch != "{":
                text_so_far += ch
                i += 1
                continue
            end = template.find("}", i)
            if end == -1:
                self.ctx.error(at, "a message has a '{' with no '{'; write {{ for a brace".replace("no '{'", "no '}'"))
                return [], (template,)
            body, depth, split = template[i + 1:end], 0, None
            for k, c in enumerate(body):   # the format spec follows the first ':' outside brackets
                depth += c in "(["
                depth -= c in ")]"
                if c == ":" and depth == 0:
                    split = k
                    break
            text, spec = (body, "") if split is None else (body[:split], body[split + 1:])
            if not text.strip():
                self.ctx.error(at, "a message shows a value as {name} or {expression}, found {}")
            elif spec and any(int(x) > 60 for x in re.findall(r"[0-9]+", spec)):
                self.ctx.error(at, f"'{{{body}}}': widths and precisions go up to 60")
            else:
                if text_so_far:
                    parts.append(text_so_far)
                text_so_far = ""
                parts.append(len(fields))
                fields.append((text, spec, i + 1))
            i = end + 1
        if text_so_far:
            parts.append(text_so_far)
        return fields, tuple(parts)

    def _violations_shown(self, conditions, result):
        """A condition of severity violation is seen only through the result's violations,
        violation_codes or no_violations field: without one it would vanish."""
        def kinds(fields):
            for f in fields:
                yield f.kind
                yield from kinds(f.fields)
        if any(c.severity == "violation" for c in conditions) and \
                not {"violations", "violation_codes", "no_violations"} & set(kinds(result)):
            for i, c in enumerate(conditions):
                if c.severity == "violation":
                    self.ctx.error(("conditions", i), f"condition {c.code} is a violation, but the result shows no "
                                                      "violations: add {violations: {}} (or violation_codes, or "
                                                      "no_violations) to the result, or make it a warning")

