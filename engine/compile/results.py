"""The result: its keys, in the rule file's order, each a value (rounded where the rule
says), one object per item of a collection, an object, or the violations raised."""
from __future__ import annotations

from ..errors import did_you_mean
from .model import ResultField, Scope


class ResultStage:
    def _result_fields(self, spec: dict, scope: Scope, at) -> tuple[ResultField, ...]:
        out = []
        for key, field_spec in spec.items():
            fat = at + (key,)
            if isinstance(field_spec, str) or "value" in field_spec:
                name = field_spec if isinstance(field_spec, str) else field_spec["value"]
                ref = self._resolve(scope, name)
                if ref is not None and ref.kind == "child":
                    child = name.split(".", 1)[0]
                    self.ctx.error(fat, f"result '{key}' names '{name}', a field of each item of '{child}': show it "
                                        f"with {{for_each: {child}, fields: {{...}}}}")
                elif ref is None:
                    self.ctx.error(fat, f"result '{key}' names '{name}', which is not defined here"
                                        f"{did_you_mean(name, self._visible(scope))}")
                rounding = None
                if isinstance(field_spec, dict) and "round" in field_spec:
                    rounding = self.rounding.get(field_spec["round"])
                    if rounding is None:
                        self.ctx.error(fat + ("round",), f"rounding '{field_spec['round']}' is not defined"
                                                         f"{did_you_mean(field_spec['round'], self.rounding)}")
                out.append(ResultField(key, "value", ref=ref, rounding=rounding))
            elif "for_each" in field_spec:
                child = scope.children.get(field_spec["for_each"])
                if child is None:
                    self.ctx.error(fat + ("for_each",), f"'{field_spec['for_each']}' is not a collection here"
                                                        f"{did_you_mean(field_spec['for_each'], scope.children)}")
                    continue
                fields = self._result_fields(field_spec["fields"], child, fat + ("fields",))
                out.append(ResultField(key, "each", scope=child.qualified, fields=fields))
            elif "fields" in field_spec:
                when = None
                if "when" in field_spec:
                    when = self._resolve(scope, field_spec["when"])
                    if when is None or when.kind == "child":
                        self.ctx.error(fat + ("when",), f"'{field_spec['when']}' is not defined here"
                                                        f"{did_you_mean(field_spec['when'], self._visible(scope))}")
                fields = self._result_fields(field_spec["fields"], scope, fat + ("fields",))
                out.append(ResultField(key, "object", fields=fields, when=when))
            elif "violations" in field_spec:
                out.append(ResultField(key, "violations", item_key_as=field_spec["violations"].get("item_key_as", "item")))
            elif "violation_codes" in field_spec:
                out.append(ResultField(key, "violation_codes"))
            else:
                out.append(ResultField(key, "no_violations"))
        return tuple(out)

