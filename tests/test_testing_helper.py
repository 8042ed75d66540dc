"""``fastx402.testing``: a seller tests paid routes with no node (the fake facilitator verifies with
the real core and settles in memory) and the fault paths it offers."""

from __future__ import annotations

from fastapi import FastAPI, Request

from fastx402.server import PaymentMiddleware, PaymentOption, Route, payment_of
from fastx402.testing import FakeFacilitator, PayingClient

SELLER = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
NETWORK = "eip155:84532"


def shop(fake: FakeFacilitator) -> tuple[FastAPI, list[str]]:
    runs: list[str] = []
    app = FastAPI()
    app.add_middleware(
        PaymentMiddleware,
        facilitator=fake,
        routes={"GET /weather/{city}": Route([PaymentOption("$0.001", NETWORK, SELLER)])},
    )

    @app.get("/weather/{city}")
    def weather(city: str, request: Request) -> dict[str, str]:
        runs.append(city)
        return {"city": city, "payer": payment_of(request).payer}

    return app, runs


def test_paying_client_pays_and_the_fake_settles_once() -> None:
    fake = FakeFacilitator([NETWORK])
    app, runs = shop(fake)
    with PayingClient(app) as client:
        r = client.get("/weather/paris")
        assert r.status_code == 200 and r.json() == {"city": "paris", "payer": client.key.address}
        assert "payment-response" in r.headers
        replay = client.get(
            "/weather/paris",
            headers={"payment-signature": client.payments[0].to_header()},
        )
        assert replay.status_code == 200
    assert runs == ["paris"]
    assert fake.received[SELLER] == 1000 and len(fake.settled) == 1


def test_faults_exercise_the_sellers_error_paths() -> None:
    fake = FakeFacilitator([NETWORK])
    app, runs = shop(fake)
    with PayingClient(app) as client:
        fake.fail_next("failed")
        failed = client.get("/weather/oslo")
        assert failed.status_code == 402
        assert failed.json()["error"] == "settlement failed: transaction_failed"
        assert fake.received[SELLER] == 0

        fake.fail_next("unknown")
        unknown = client.get("/weather/rome")
        assert unknown.status_code == 503 and unknown.headers["retry-after"]
        # The retry with the same header finds the payment settled and serves the kept answer.
        retry = client.get(
            "/weather/rome", headers={"payment-signature": client.payments[-1].to_header()}
        )
        assert retry.status_code == 200 and retry.json()["city"] == "rome"

        fake.fail_next("unavailable")
        down = client.get("/weather/lima")
        assert down.status_code == 402
        assert down.json()["error"] == "settlement failed: unexpected_settle_error"
    assert runs == ["oslo", "rome", "lima"]
    assert fake.received[SELLER] == 1000


def test_optimistic_loss_is_reported() -> None:
    """Served on verification; the background settlement then fails: the loss is reported."""
    import time

    from fastx402.server import PaymentEvent

    fake = FakeFacilitator([NETWORK])
    events: list[PaymentEvent] = []
    app = FastAPI()
    app.add_middleware(
        PaymentMiddleware,
        facilitator=fake,
        routes={"GET /fast": Route([PaymentOption("$0.001", NETWORK, SELLER)], mode="optimistic")},
        on_event=events.append,
    )

    @app.get("/fast")
    def fast() -> dict[str, bool]:
        return {"served": True}

    fake.fail_next("failed")
    with PayingClient(app) as client:
        assert client.get("/fast").json() == {"served": True}
        for _ in range(100):  # bounded wait for the background settlement
            if events:
                break
            time.sleep(0.02)
    assert [(e.kind, e.reason) for e in events] == [("optimistic_loss", "transaction_failed")]
    assert fake.received[SELLER] == 0
