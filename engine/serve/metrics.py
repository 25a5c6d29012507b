"""The service's Prometheus metrics (prometheus-client, one registry per app): decisions by
policy, version and outcome, their latency, and the active rule set's digest. With
--workers N, prometheus-client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set by
engine.serve.workers before this is imported) sums the workers' counts, whichever worker
answers the scrape; the digest shown is that of the live workers."""
from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.decisions = Counter("policy_decisions", "Decision requests answered, by outcome",
                                 ["policy", "version", "outcome"], registry=self.registry)
        self.latency = Histogram("policy_decision_seconds", "Time to answer a decision request",
                                 ["policy"], buckets=BUCKETS, registry=self.registry)
        self.rules = Gauge("policy_rules_active", "1 for the digest of the rule set in use", ["digest"],
                           registry=self.registry, multiprocess_mode="livemax")
        self.reloads = Counter("policy_reloads", "Reloads asked for, by outcome", ["outcome"],
                               registry=self.registry)
        self.lines = Counter("policy_batch_lines", "Lines of batch requests, by outcome (decided or failed)",
                             ["policy", "outcome"], registry=self.registry)
        self._children = {}   # labels -> (counter, histogram): labels() costs more than inc() itself

    def active(self, digest: str) -> None:
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):   # a worker's set never changes: new workers come
            self.rules.clear()
        self.rules.labels(digest=digest).set(1)

    def decided(self, policy: str, version: str, outcome: str, seconds: float) -> None:
        key = (policy, version, outcome)
        pair = self._children.get(key)
        if pair is None:
            pair = self._children[key] = (self.decisions.labels(policy=policy, version=version, outcome=outcome),
                                          self.latency.labels(policy=policy))
        pair[0].inc()
        pair[1].observe(seconds)

    def batched(self, policy: str, decided: int, failed: int) -> None:
        self.lines.labels(policy=policy, outcome="decided").inc(decided)
        self.lines.labels(policy=policy, outcome="failed").inc(failed)

    def text(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):   # every worker's, summed
            from prometheus_client import multiprocess
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
