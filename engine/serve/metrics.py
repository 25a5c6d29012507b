"""The service's Prometheus metrics (prometheus-client, one registry per app): decisions by
policy, version and outcome, their latency, and the active rule set's digest."""
from __future__ import annotations

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
                           registry=self.registry)
        self.reloads = Counter("policy_reloads", "Reloads asked for, by outcome", ["outcome"],
                               registry=self.registry)

    def active(self, digest: str) -> None:
        self.rules.clear()
        self.rules.labels(digest=digest).set(1)

    def decided(self, policy: str, version: str, outcome: str, seconds: float) -> None:
        self.decisions.labels(policy=policy, version=version, outcome=outcome).inc()
        self.latency.labels(policy=policy).observe(seconds)

    def text(self) -> bytes:
        return generate_latest(self.registry)
