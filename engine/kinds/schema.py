"""The rule-file schema's fragments that belong to the constructs in this package: each
module's SCHEMA. `write()` puts them into schemas/rule-file.schema.json (run it after
changing a construct: `python -m engine.kinds.schema`); a test holds the file to them."""
from __future__ import annotations

import json
from pathlib import Path

from . import table, tiers

FRAGMENTS = {**table.SCHEMA, **tiers.SCHEMA}


def merged(schema: dict) -> dict:
    """schema with each construct's fragments in its $defs."""
    out = json.loads(json.dumps(schema))
    out["$defs"].update(json.loads(json.dumps(FRAGMENTS)))
    return out


def write(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(merged(schema), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":   # pragma: no cover
    write(Path(__file__).resolve().parents[2] / "schemas" / "rule-file.schema.json")
