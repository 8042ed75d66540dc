"""Prometheus counters of the seller's payment events (extra ``fastx402[metrics]``).

``app.add_middleware(PaymentMiddleware, ..., on_event=PrometheusEvents())`` counts
``fastx402_payment_events_total{kind, route, reason}`` and sums
``fastx402_paid_amount_total{route, network}`` (smallest units). Labels never carry payers,
signatures or keys.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter

from fastx402.server.middleware import PaymentEvent


class PrometheusEvents:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.events = Counter(
            "fastx402_payment_events",
            "Payment events of the seller middleware",
            ["kind", "route", "reason"],
            registry=registry,
        )
        self.paid = Counter(
            "fastx402_paid_amount",
            "Amount settled, in the asset's smallest units",
            ["route", "network"],
            registry=registry,
        )

    def __call__(self, event: PaymentEvent) -> None:
        self.events.labels(event.kind, event.route, event.reason or "").inc()
        if event.kind == "paid" and event.amount is not None:
            self.paid.labels(event.route, event.network or "").inc(event.amount)
