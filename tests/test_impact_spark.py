"""The README's Spark recipe (mapInPandas over the public partition function), in local
mode, where pyspark is installed (Java 17 is on these machines); skipped otherwise."""
import json
import pickle
from functools import reduce
from pathlib import Path

import pytest

pyspark = pytest.importorskip("pyspark")
pytest.importorskip("pandas")

from engine.report.impact import as_json, order_of   # noqa: E402
from engine.run.impact import partition   # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OLD, NEW = "2024-06-04", "2024-06-11"


def test_the_spark_recipe_gives_the_report_of_one_process(rules, tmp_path, monkeypatch):
    import sys
    from pyspark.sql import SparkSession
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)   # the executors run this Python, with the engine
    root = str(ROOT / "rules")

    def tallies(frames):   # on the executors, as the README shows (local: shipped by value, as from a script)
        import pandas as pd
        from engine import load_rules
        from engine.run.impact import partition
        rules = load_rules(root)
        for frame in frames:
            lines = zip(frame["line"], frame["facts"])
            yield pd.DataFrame({"tally": [pickle.dumps(partition(rules, "msa-fee", OLD, NEW, lines))]})

    facts = json.loads((ROOT / "rules/msa-fee/cases/february-three-accounts.facts.json").read_text())
    lines = [(n, json.dumps({**facts, "month": month}))
             for n, month in enumerate(["2024-07", "2024-08", "2025-01", "2025-02", "2025-03"] * 4, 1)]
    spark = SparkSession.builder.master("local[2]").appName("policy-impact-test").getOrCreate()
    try:
        df = spark.createDataFrame(lines, "line long, facts string").repartition(3)
        parts = [pickle.loads(row.tally) for row in df.mapInPandas(tallies, "tally binary").collect()]
    finally:
        spark.stop()
    total = reduce(lambda a, b: a.merge(b), parts)
    order = order_of(*rules.versions("msa-fee"))
    assert as_json(total, order) == as_json(partition(rules, "msa-fee", OLD, NEW, lines), order)
    assert total.population == 20
