"""The rule-file schema's parts that belong to the constructs in this package: each module's
SECTION_SCHEMA (its key in a rule file and in a shared file) and SCHEMA (its definitions).
`write()` puts them into schemas/rule-file.schema.json (run it after changing or adding a
construct: `python -m engine.kinds.schema`); a test holds the file to them."""
from __future__ import annotations

import json
from pathlib import Path

from . import KINDS


def merged(schema: dict) -> dict:
    """schema with each construct's parts in place (a new one's keys are added at the end)."""
    out = json.loads(json.dumps(schema))
    for kind in KINDS:
        out["properties"][kind.SECTION] = json.loads(json.dumps(kind.SECTION_SCHEMA["rule_file"]))
        out["$defs"]["shared_file"]["properties"][kind.SECTION] = json.loads(json.dumps(kind.SECTION_SCHEMA["shared_file"]))
        out["$defs"].update(json.loads(json.dumps(kind.SCHEMA)))
    return out


def write(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(merged(schema), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":   # pragma: no cover
    write(Path(__file__).resolve().parents[2] / "schemas" / "rule-file.schema.json")
