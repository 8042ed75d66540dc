"""Host allow-list attacks: a look-alike or disguised host, another port, a userinfo trick, an
IDNA look-alike, a trailing dot past a deny list, and a paid answer that redirects to another
origin. None is paid and nothing is signed, with any of the three clients.

The attack hosts cannot resolve to 127.0.0.1, so the clients meet them through a stand-in
transport that answers with a real 402 of fastx402's seller (httpx ``MockTransport``; for
requests, an ``HTTPAdapter`` below the payment adapter). The redirect attack uses real sellers
under uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import requests
from requests.adapters import HTTPAdapter

from asgi_server import running
from fastx402 import PrivateKey
from fastx402.client import (
    AsyncLedger,
    AsyncSpending,
    Ledger,
    PaymentRefused,
    PaymentTransport,
    Spending,
    SpendPolicy,
    async_paying_client,
    host_allowed,
    paying_client,
    receipt_of,
)
from fastx402.client.requests_adapter import PaymentAdapter, paying_session
from test_client_requests import KINDS
from test_server import Shop, facilitator, token  # noqa: F401

ALLOWED = "api.example.com"
CYRILLIC_A = "\u0430"  # looks like "a"


@pytest.mark.parametrize(
    ("url", "patterns", "allowed"),
    [
        ("https://api.example.com/x", [ALLOWED], True),
        ("https://API.EXAMPLE.COM./x", [ALLOWED], True),  # same name: case and DNS root dot
        ("https://api.example.com.evil.test/x", [ALLOWED], False),
        ("https://api.example.com.evil.test/x", ["*.example.com"], False),
        ("https://api.example.com@evil.test/x", [ALLOWED], False),
        ("https://api.example.com:x@evil.test/x", ["*.example.com"], False),
        ("https://evil.test/api.example.com", [ALLOWED], False),
        ("https://evil.test?.example.com", ["*.example.com"], False),
        ("https://evil.test#.example.com", ["*.example.com"], False),
        ("https://api.example.com:8443/x", [ALLOWED], False),
        ("https://a.example.com:444/x", ["*.example.com"], False),
        ("https://api.example.com:8443/x", ["https://api.example.com"], False),
        ("https://api.example.com:8443/x", ["https://api.example.com:8443"], True),
        ("http://api.example.com/x", [ALLOWED], False),
        (f"https://{CYRILLIC_A}pi.example.com/x", [ALLOWED], False),
        ("https://xn--pi-7kc.example.com/x", [ALLOWED], False),  # its punycode form
        ("https://xn--bcher-kva.example/x", ["b\u00fccher.example"], True),  # Unicode pattern
        ("https://api.example.com../x", [ALLOWED], False),
        ("https://[::1]/x", [ALLOWED], False),
        ("https://api.example.com:99999/x", [ALLOWED], False),  # unparseable port
    ],
)
def test_allow_list_matching(url: str, patterns: list[str], allowed: bool) -> None:
    assert host_allowed(url, patterns) is allowed


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.test/x",
        "https://EVIL.test./x",
        "https://evil.test:8443/x",
        "http://evil.test/x",
        "https://pay.evil.test/x",
    ],
)
def test_a_deny_list_matches_every_spelling_port_and_scheme(url: str) -> None:
    policy = SpendPolicy(allow_http=True, deny_hosts=frozenset({"evil.test", "*.evil.test"}))
    assert host_allowed(url, policy.deny_hosts, any_port=True)
    reason = policy.refusal(
        url, "eip155:8453", "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "0x" + "22" * 20, 1000
    )
    assert reason is not None and reason.startswith("host_not_allowed")


# --- through the clients: refused before anything is signed -----------------------------------

IDNA_LOOK_ALIKES = [f"https://{CYRILLIC_A}pi.example.com/x", "https://xn--pi-7kc.example.com/x"]
ATTACKS = [
    "https://api.example.com.evil.test/x",
    "https://api.example.com@evil.test/x",
    "https://api.example.com:8443/x",
    *IDNA_LOOK_ALIKES,
]


@pytest.fixture(scope="module")
def quote_header(token: Any, facilitator: Any) -> str:  # noqa: F811
    """A real PAYMENT-REQUIRED header of fastx402's seller."""
    s = Shop(token, facilitator)
    with running(s.app) as url:
        return httpx.get(f"{url}/weather/x").headers["payment-required"]


class StandIn:
    """Answers every request with the 402 and records the payment headers it is sent."""

    def __init__(self, header: str) -> None:
        self.header = header
        self.paid: list[str] = []
        self.urls: list[str] = []
        self.records: list[Any] = []

    def answer(self, url: str, headers: Any) -> tuple[int, dict[str, str]]:
        self.urls.append(url)
        if "payment-signature" in headers:
            self.paid.append(headers["payment-signature"])
            return 200, {}
        return 402, {"payment-required": self.header}

    def httpx(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            status, headers = self.answer(str(request.url), request.headers)
            return httpx.Response(status, headers=headers)

        return httpx.MockTransport(handle)

    def requests_adapter(
        self, key: PrivateKey, policy: SpendPolicy, spending: Spending
    ) -> HTTPAdapter:
        stand_in = self

        class Seller(HTTPAdapter):
            def send(self, request: requests.PreparedRequest, **_: Any) -> requests.Response:  # type: ignore[override]
                status, headers = stand_in.answer(request.url or "", request.headers)
                response = requests.Response()
                response.status_code, response._content = status, b""
                response.headers.update(headers)
                response.request, response.url = request, request.url or ""
                return response

        class Paying(PaymentAdapter, Seller):
            pass

        return Paying(key, policy, spending=spending)


def attempt(kind: str, url: str, stand_in: StandIn, policy: SpendPolicy) -> list[Any]:
    """Calls ``url`` through ``stand_in``; returns the ledger's records (PaymentRefused
    propagates with the ledger left to the caller's ``finally``)."""
    key = PrivateKey.generate()
    if kind == "httpx-async":

        async def go() -> list[Any]:
            spending = AsyncSpending("memory://", AsyncLedger("memory://"))
            try:
                async with async_paying_client(
                    key, policy, spending=spending, transport=stand_in.httpx()
                ) as client:
                    await client.get(url)
            finally:
                stand_in.records = await spending.ledger.records()
            return stand_in.records

        return asyncio.run(go())
    spending = Spending("memory://", Ledger("memory://"))
    try:
        if kind == "httpx":
            with paying_client(key, policy, spending=spending, transport=stand_in.httpx()) as c:
                c.get(url)
        else:
            with requests.Session() as session:
                session.mount("https://", stand_in.requests_adapter(key, policy, spending))
                session.get(url)
    finally:
        stand_in.records = spending.ledger.records()
    return stand_in.records


# The IDNA look-alikes are real subdomains of example.com: a wildcard admits them by design.
CASES = [
    (allow, url)
    for allow in (ALLOWED, "https://api.example.com", "*.example.com")
    for url in ATTACKS
    if not (allow.startswith("*") and url in IDNA_LOOK_ALIKES)
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("allow", "url"), CASES)
def test_attack_hosts_are_never_paid(quote_header: str, kind: str, url: str, allow: str) -> None:
    stand_in = StandIn(quote_header)
    policy = SpendPolicy(max_per_call=Decimal("1"), hosts=frozenset({allow}))
    with pytest.raises(PaymentRefused) as caught:
        attempt(kind, url, stand_in, policy)
    assert caught.value.reasons and caught.value.reasons[0].startswith("host_not_allowed")
    assert stand_in.paid == [] and len(stand_in.urls) == 1
    assert stand_in.records == []  # refused before any reservation: nothing signed


# --- a paid answer that redirects to another origin --------------------------------------------


class Quoting:
    """A raw ASGI seller on 127.0.0.1: quotes ``header``; a paid request is answered by a
    redirect to ``location`` (or 200 without one). Counts what it is asked and paid."""

    def __init__(self, header: str, location: str | None = None) -> None:
        self.header, self.location = header, location
        self.asked = 0
        self.paid: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.asked += 1
        headers = dict(scope["headers"])
        signature = headers.get(b"payment-signature")
        if signature is None:
            status, out = 402, [(b"payment-required", self.header.encode())]
        else:
            self.paid.append(signature)
            status, out = (
                (200, [])
                if self.location is None
                else (302, [(b"location", self.location.encode())])
            )
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": b""})


@contextlib.contextmanager
def redirecting(header: str) -> Iterator[tuple[str, Quoting, Quoting]]:
    """Two sellers: the first redirects its paid answer to the second (another origin)."""
    other = Quoting(header)
    with running(other) as other_url:
        first = Quoting(header, f"{other_url}/again")
        with running(first) as first_url:
            yield first_url, first, other


@pytest.mark.parametrize("kind", KINDS)
def test_a_paid_answer_redirecting_elsewhere_is_not_followed(quote_header: str, kind: str) -> None:
    key = PrivateKey.generate()
    policy = SpendPolicy(max_per_call=Decimal("1"), allow_http=True)
    with redirecting(quote_header) as (url, first, other):
        if kind == "httpx":
            with paying_client(key, policy) as client:
                r: Any = client.get(f"{url}/x")
        elif kind == "requests":
            with paying_session(key, policy) as session:
                r = session.get(f"{url}/x", timeout=10)
        else:

            async def go() -> httpx.Response:
                async with async_paying_client(key, policy) as c:
                    return await c.get(f"{url}/x")

            r = asyncio.run(go())
    assert r.status_code == 302 and len(first.paid) == 1
    receipt = receipt_of(r)
    assert receipt is not None and receipt.outcome == "unknown"  # no settlement receipt
    assert other.asked == 0  # the other origin was never asked, never paid


def test_plain_clients_that_follow_redirects_still_obey_the_allow_list(quote_header: str) -> None:
    """Under a client the caller set to follow redirects, the redirect is a new request: the
    other origin's 402 is refused by the allow-list, never signed."""
    key = PrivateKey.generate()
    with redirecting(quote_header) as (url, first, other):
        policy = SpendPolicy(max_per_call=Decimal("1"), allow_http=True, hosts=frozenset({url}))
        with requests.Session() as session, pytest.raises(PaymentRefused) as caught:
            session.mount("http://", PaymentAdapter(key, policy))
            session.get(f"{url}/x", timeout=10)
        assert caught.value.reasons[0].startswith("host_not_allowed")
        transport = PaymentTransport(key, policy)
        with (
            httpx.Client(transport=transport, follow_redirects=True) as client,
            pytest.raises(PaymentRefused),
        ):
            client.get(f"{url}/x")
    assert len(first.paid) == 2 and other.asked == 2 and other.paid == []
