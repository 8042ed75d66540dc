"""Seller configuration from the environment and Prometheus metrics of payment events."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from pydantic import ValidationError

from fastx402.server import PaymentEvent
from fastx402.server.metrics import PrometheusEvents
from fastx402.server.settings import SellerSettings

SELLER = "0x209693bc6afc0c5328ba36faf03c514ef312287c"


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FASTX402_PAY_TO", SELLER)
    monkeypatch.setenv("FASTX402_NETWORKS", "eip155:8453, eip155:84532")
    monkeypatch.setenv("FASTX402_FACILITATOR_URL", "http://127.0.0.1:9")
    s = SellerSettings()  # type: ignore[call-arg]
    assert s.pay_to == "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
    assert s.networks == ("eip155:8453", "eip155:84532")
    assert s.store_url == "memory://"
    options = s.options("$0.001")
    assert [(o.network, o.pay_to) for o in options] == [
        ("eip155:8453", s.pay_to),
        ("eip155:84532", s.pay_to),
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [("FASTX402_PAY_TO", "0x1234"), ("FASTX402_NETWORKS", "eip155:abc")],
)
def test_bad_settings_are_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv("FASTX402_PAY_TO", SELLER)
    monkeypatch.setenv("FASTX402_FACILITATOR_URL", "http://127.0.0.1:9")
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        SellerSettings()  # type: ignore[call-arg]
    field = name.removeprefix("FASTX402_").lower()
    assert field in str(caught.value)


def test_prometheus_counts_events_without_payers() -> None:
    registry = CollectorRegistry()
    metrics = PrometheusEvents(registry)
    payer = "0x857b06519E91e3A54538791bDbb0E22373e36b66"
    metrics(PaymentEvent("paid", "GET /x", payer=payer, amount=1000, network="eip155:8453"))
    metrics(PaymentEvent("paid", "GET /x", payer=payer, amount=500, network="eip155:8453"))
    metrics(PaymentEvent("refused", "GET /x", reason="invalid_payload"))
    text = generate_latest(registry).decode()
    assert 'fastx402_payment_events_total{kind="paid",reason="",route="GET /x"} 2.0' in text
    assert 'fastx402_paid_amount_total{network="eip155:8453",route="GET /x"} 1500.0' in text
    assert 'reason="invalid_payload"' in text
    assert payer.lower() not in text.lower()
