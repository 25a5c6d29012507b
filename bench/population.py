"""A seeded population of msa-fee teams, one facts object a line, for `policy impact`:

    .venv/bin/python bench/population.py 100000 > teams.jsonl

Each team: a VIP level 0-9, a month of 2024-07 .. 2025-03, 1-3 managed sub-accounts with
an investor VIP level and 1-6 days of asset values and volumes (the other days absent, so
zero, as the policy reads them), spread over four orders of magnitude so that every fee
tier, the minimum and the maintenance threshold are met."""
from __future__ import annotations

import json
import random
import sys

MONTHS = ["2024-07", "2024-08", "2024-09", "2024-10", "2024-11", "2024-12", "2025-01", "2025-02", "2025-03"]


def team(rng: random.Random) -> dict:
    month = rng.choice(MONTHS)
    accounts = []
    for n in range(rng.randint(1, 3)):
        days = sorted(rng.sample(range(1, 29), rng.randint(1, 6)))
        scale = 10 ** rng.randint(4, 8)
        accounts.append({"id": f"s{n}", "investor_vip_level": rng.randint(0, 9), "daily": [
            {"date": f"{month}-{d:02d}", "asset_value": str(rng.randint(1, 99) * scale),
             "spot_volume": str(rng.randint(0, 50) * 100000), "futures_volume": str(rng.randint(0, 50) * 100000)}
            for d in days]})
    return {"month": month, "team": {"vip_level": rng.randint(0, 9)}, "sub_accounts": accounts}


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 20240611)
    out = sys.stdout
    for _ in range(count):
        out.write(json.dumps(team(rng), separators=(",", ":")) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
