"""Prometheus metrics: requests, latency, verdicts by action and label, the model version and its reloads.

Each app gets its own registry, so tests can build many apps in one process. Under gunicorn,
``PROMETHEUS_MULTIPROC_DIR`` (set by gunicorn_conf.py) makes the workers share their counts, and
/metrics adds up every worker's.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5)


class Metrics:
    """The service's metrics, registered in a registry of their own."""

    def __init__(self, model_version: str):
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("moderation_requests", "HTTP requests answered, by route and status",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("moderation_request_duration_seconds", "Time to answer a request, by route",
                                 ["route"], buckets=_BUCKETS, registry=self.registry)
        self.verdicts = Counter("moderation_verdicts", "Verdicts stored, by action and the label that decided it",
                                ["action", "label"], registry=self.registry)
        # "livemax": a dead worker's value is dropped (gunicorn's child_exit marks it dead), so a version no
        # living worker scores with does not stay at 1.
        self.model = Gauge("moderation_model_info", "The model version this worker scores with (always 1)",
                           ["model_version"], registry=self.registry, multiprocess_mode="livemax")
        self.model.labels(model_version).set(1)
        self.reloads = Counter("moderation_model_reloads", "Live models a worker swapped in or refused, by version",
                               ["model_version", "result"], registry=self.registry)

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def verdict(self, action: str, label: str) -> None:
        self.verdicts.labels(action, label).inc()

    def model_swapped(self, previous: str, current: str) -> None:
        """This worker now scores with ``current``: the model gauge follows, and the swap is counted."""
        self.model.labels(previous).set(0)
        self.model.labels(current).set(1)
        self.reloads.labels(current, "loaded").inc()

    def model_reload(self, version: str, result: str) -> None:
        self.reloads.labels(version, result).inc()

    def render(self) -> bytes:
        """The Prometheus text exposition of every worker's metrics."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
