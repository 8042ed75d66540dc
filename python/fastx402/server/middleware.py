"""``PaymentMiddleware``: a pure ASGI middleware that charges per request.

One flow, in this order: header size cap (431) → decode and local verification in Rust (a bad
payload never reaches the facilitator) → atomic reservation of the replay key → facilitator
verify → the route's settlement mode → ``PAYMENT-RESPONSE``.

- ``after`` (default): the handler runs; when it starts a 2xx response, the payment is settled
  and only then is the response released, with ``PAYMENT-RESPONSE``; the body is streamed through
  (an SSE route keeps streaming). A non-2xx answer, or a handler that raises, settles nothing and
  frees the key. (Redirects and other 3xx serve no content: they are not charged either.)
- ``before``: settle first, then run the handler; a handler that then fails still returns its
  error with the receipt, and a ``served_error_after_settlement`` event is reported for refunds.

An outcome that is not known (facilitator timeout, 5xx, garbage, success without a transaction)
serves nothing: 503 with ``Retry-After``; the record is kept and reconciled (see
:mod:`fastx402.server.reconcile`: on a retry with the same header, and by :meth:`reconcile`,
periodically from the lifespan); the retry gets the kept response, a 402 "not charged", or 503
again. The handler never runs twice for one replay key, whatever the number of workers or hosts
sharing the store.

A worker that dies mid-payment (killed, crashed) leaves its record in flight: every claim is
logged with a deadline (``stale_after``), and a record still in flight past it is reconciled
read-only like an unknown one; if it was charged, the payer's first retry runs the handler (once:
the handler that was running when the worker died never answered). Past its deadline a live
worker sends no settlement (503, nothing charged), so that a stale record is really abandoned.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Protocol

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fastx402._core import (
    DEFAULT_MAX_HEADER_BYTES,
    Facilitator,
    PaymentPayload,
    PaymentRequirements,
    RemoteFacilitator,
    SettleResponse,
    SupportedResponse,
    VerifyResponse,
    payment_identifier_declaration,
    verify_payment,
)
from fastx402.errors import (
    FacilitatorError,
    FacilitatorUnavailable,
    HeaderTooLarge,
    SettlementOutcomeUnknown,
    X402Error,
)
from fastx402.server import paywall, responses
from fastx402.server.discovery import BAZAAR, Discovery
from fastx402.server.pricing import Route, requirements_for
from fastx402.server.ratecard import rate_card
from fastx402.server.reconcile import Reconciler, Resolution
from fastx402.server.records import KEEP_AFTER_EXPIRY, SERVING_WINDOW, KeptResponse, Record
from fastx402.server.routes import RouteTable
from fastx402.store import AsyncMemoryStore, AsyncStore, Entry, async_from_url

EventKind = Literal[
    "paid",
    "refused",
    "unknown",
    "settle_failed",
    "served_error_after_settlement",
    "paid_unserved",
    "optimistic_loss",
]


@dataclass(frozen=True)
class Payment:
    """Who paid and what, on ``request.state.payment`` while the handler runs."""

    payer: str
    amount: int
    network: str
    asset: str
    pay_to: str
    replay_key: str
    route: str
    # Known in the handler in ``before`` mode; ``after`` settles once the handler has answered.
    transaction: str | None = None


@dataclass(frozen=True)
class PaymentEvent:
    kind: EventKind
    route: str
    reason: str | None = None
    payer: str | None = None
    amount: int | None = None
    network: str | None = None
    transaction: str | None = None


# Fixed-price routes: requirements kept per resource URL, at most this many (oldest dropped).
OFFERS_CACHE_SIZE = 4096
# Bounds of the periodic reconciliation interval, in seconds.
RECONCILE_MIN_INTERVAL, RECONCILE_MAX_INTERVAL = 0.05, 3600.0

log = logging.getLogger("fastx402.server")


class FacilitatorLike(Protocol):
    """What the middleware needs of a facilitator: :class:`~fastx402.Facilitator` (in-process),
    :class:`~fastx402.RemoteFacilitator`, or :class:`fastx402.testing.FakeFacilitator`."""

    def verify(
        self, payload: PaymentPayload, requirements: PaymentRequirements
    ) -> Awaitable[VerifyResponse]: ...

    def settle(
        self, payload: PaymentPayload, requirements: PaymentRequirements
    ) -> Awaitable[SettleResponse]: ...

    def supported(self) -> SupportedResponse | Awaitable[SupportedResponse]: ...


AnyFacilitator = Facilitator | RemoteFacilitator | FacilitatorLike


class _Refused(Exception):
    """A payment refused before anything was settled (answered 402)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _header(scope: Scope, name: bytes) -> bytes | None:
    found = None
    for key, value in scope["headers"]:
        if key.lower() == name:
            if found is not None:
                return b"\x00duplicate"  # two payment headers: refused below
            found = value
    return found


class PaymentMiddleware:
    """Charges for the priced routes of an ASGI app (FastAPI, Starlette, any ASGI app).

    ``routes`` maps patterns (``"GET /weather/{city}"``) to :class:`Route`; endpoints decorated
    with :func:`fastx402.server.priced` are added from the app's router. ``facilitator`` is an
    in-process :class:`~fastx402.Facilitator`, a :class:`~fastx402.RemoteFacilitator`, or its URL.
    ``store`` holds the replay records (``memory://`` by default; ``sqlite:///path`` for the
    workers of one host; ``redis://…`` for a fleet).

    Unknown settlement outcomes are reconciled every ``reconcile_interval`` seconds while the
    app runs (started by the ASGI lifespan; ``None`` disables it; :meth:`reconcile` runs one
    pass). ``idempotent_settle`` says whether settling the same payment again returns the first
    result (fastx402's facilitators; the default for an in-process ``Facilitator``): if not (the
    default for a ``RemoteFacilitator``, whose server is not known), reconciliation only
    verifies, and takes an authorization still unused ``reconcile_grace`` seconds later as not
    charged (:mod:`fastx402.server.reconcile`).

    A payment still in flight ``stale_after`` seconds after it was claimed is taken as
    abandoned (its process died) and reconciled read-only; keep it above the slowest handler
    plus ``settle_margin``, the facilitator's settle timeout: no settlement is sent later than
    ``stale_after - settle_margin`` seconds after the claim (the payment is then released, 503).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        facilitator: AnyFacilitator | str,
        routes: Mapping[str, Route] | None = None,
        store: AsyncStore | str = "memory://",
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
        keep_response_bytes: int = 64 * 1024,
        in_flight_retry_after: int = 1,
        unknown_retry_after: int = 5,
        paywall_html: bool = True,
        rate_card_path: str | None = "/.well-known/x402",
        payment_identifier: Literal["off", "optional", "required"] = "optional",
        on_event: Callable[[PaymentEvent], Any] | None = None,
        clock: Callable[[], float] = time.time,
        idempotent_settle: bool | None = None,
        reconcile_interval: float | None = 30.0,
        reconcile_grace: int = 300,
        stale_after: int = 300,
        settle_margin: int = 90,
    ) -> None:
        if not 0 <= settle_margin < stale_after:
            raise ValueError("settle_margin must be >= 0 and below stale_after")
        self.app = app
        self.stale_after = stale_after
        self.settle_margin = settle_margin
        self.facilitator: AnyFacilitator = (
            RemoteFacilitator(facilitator) if isinstance(facilitator, str) else facilitator
        )
        self._declared = dict(routes or {})
        self._table: RouteTable[Route] = RouteTable.build(self._declared)
        self._discovery = Discovery(self._declared)
        self.store: AsyncStore = async_from_url(store) if isinstance(store, str) else store
        self.max_header_bytes = max_header_bytes
        self.keep_response_bytes = keep_response_bytes
        self.in_flight_retry_after = in_flight_retry_after
        self.unknown_retry_after = unknown_retry_after
        self.paywall_html = paywall_html
        self.rate_card_path = rate_card_path
        self.payment_identifier = payment_identifier
        self._rate_card: bytes | None = None
        self.on_event = on_event
        self.clock = clock
        self._ready: asyncio.Task[None] | None = None
        self._background: set[asyncio.Future[None]] = set()
        self._offers_cache: dict[
            tuple[str, str], list[tuple[PaymentRequirements, PaymentRequirements | None]]
        ] = {}
        self._urls: dict[tuple[Any, ...], str] = {}
        if idempotent_settle is None:
            idempotent_settle = isinstance(self.facilitator, Facilitator) or bool(
                getattr(self.facilitator, "idempotent_settle", False)
            )
        self._reconciler = Reconciler(
            self.facilitator,
            self.store,
            idempotent=idempotent_settle,
            grace=reconcile_grace,
            max_header_bytes=max_header_bytes,
            clock=clock,
        )
        # A memory store dies with its process: nothing outlives a crash to be found there, so
        # claims are not logged (the log would only grow) and in-flight records expire with the
        # authorization; a stale one (a lost request task) is still resolved on a retry.
        self._log_claims = not isinstance(self.store, AsyncMemoryStore)
        self.reconcile_interval = reconcile_interval
        self._reconciling = asyncio.Lock()
        self._reconcile_task: asyncio.Task[None] | None = None

    # --- start-up ----------------------------------------------------------------------------

    async def startup(self, app: Any = None) -> None:
        """Collects :func:`priced` endpoints and checks that the facilitator serves every route's
        options (raises :class:`ValueError` naming the route otherwise). Runs once, at lifespan
        start-up or on the first request; never blocks the event loop."""
        if app is not None:
            from fastx402.server.dependencies import collect_priced

            found = collect_priced(app)
            if found:
                self._declared.update(found)
                self._table = RouteTable.build(self._declared)
                self._discovery = Discovery(self._declared)
        card = rate_card(self._declared, discovery=self._discovery.static)
        self._rate_card = json.dumps(card, separators=(",", ":")).encode()
        supported = await _maybe_await(self.facilitator.supported())
        kinds = {(k.get("x402Version"), k.get("scheme"), k.get("network")) for k in supported.kinds}
        for pattern, route in self._declared.items():
            for option in route.accepts:
                if (2, option.scheme, option.network) not in kinds:
                    raise ValueError(
                        f"route {pattern!r}: the facilitator does not settle "
                        f"{option.scheme} on {option.network} (it offers "
                        f"{sorted(str(k[2]) for k in kinds if k[0] == 2)})"
                    )

    async def _ensure_ready(self, scope: Scope) -> None:
        if self._ready is None:
            self._ready = asyncio.ensure_future(self.startup(scope.get("app")))
        await asyncio.shield(self._ready)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        failure: list[str] = []

        async def receive_startup() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self._ensure_ready(scope)
                except Exception as e:
                    failure.append(str(e))
            return message

        async def send_startup(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                if failure:
                    message = {"type": "lifespan.startup.failed", "message": failure[0]}
                else:
                    self._start_reconciling()
            if message["type"] == "lifespan.shutdown.complete":
                await self._stop_reconciling()
                await self.drain()
            await send(message)

        await self.app(scope, receive_startup, send_startup)

    # --- requests ----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        if scope["type"] != "http" or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        await self._ensure_ready(scope)
        if scope["path"] == self.rate_card_path and scope["method"] in ("GET", "HEAD"):
            body = self._rate_card or b"{}"
            await responses.send_answer(
                send,
                200,
                body,
                [(b"content-type", b"application/json"), (b"cache-control", b"max-age=60")],
                head=scope["method"] == "HEAD",
            )
            return
        matched = self._table.match(scope["method"], scope["path"])
        if matched is None:
            await self.app(scope, receive, send)
            return
        pattern, route = matched
        await self._charge(pattern, route, scope, receive, send)

    def _emit(self, event: PaymentEvent) -> None:
        if self.on_event is not None:
            # An observer's bug never breaks a payment.
            with contextlib.suppress(Exception):
                self.on_event(event)

    async def _charge(
        self, pattern: str, route: Route, scope: Scope, receive: Receive, send: Send
    ) -> None:
        request = Request(scope, receive)
        head = scope["method"] == "HEAD"
        v2_header = _header(scope, responses.PAYMENT_SIGNATURE.encode())
        v1_header = _header(scope, responses.X_PAYMENT.encode())
        raw = v2_header if v2_header is not None else v1_header
        version = 2 if v2_header is not None or v1_header is None else 1
        resource_url = route.resource or self._resource_url(scope, request)
        offers = await self._offers(pattern, route, request, resource_url)
        resource = {"url": resource_url, "description": route.description}
        resource["mimeType"] = route.mime_type

        async def refuse(error: str, *, status: int = 402, reason: str | None = None) -> None:
            if reason is not None:
                self._emit(PaymentEvent("refused", pattern, reason=reason))
            if version == 1:
                accepts = [v1.to_dict() for _, v1 in offers if v1 is not None]
            else:
                accepts = [v2.to_dict() for v2, _ in offers]
            required = responses.payment_required(
                version, error, resource, accepts, self._extensions(pattern, route, scope) or None
            )
            html = None
            if (
                raw is None
                and self.paywall_html
                and paywall.wants_html(
                    request.headers.get("accept", ""), request.headers.get("user-agent", "")
                )
            ):
                html = paywall.render(required)
            await responses.send_402(send, required, html=html, head=head)

        if raw is None:
            await refuse("no payment")
            return
        if (v2_header is not None and v1_header is not None) or raw == b"\x00duplicate":
            await refuse("invalid payment: send one payment header", reason="invalid_payload")
            return
        if len(raw) > self.max_header_bytes:
            self._emit(PaymentEvent("refused", pattern, reason="header_too_large"))
            await responses.send_json(
                send,
                431,
                {"error": "payment header too large", "maxBytes": self.max_header_bytes},
                head=head,
            )
            return
        try:
            header = raw.decode("ascii")
            payload = PaymentPayload.from_header(header, max_bytes=self.max_header_bytes)
        except HeaderTooLarge:
            await responses.send_json(send, 431, {"error": "payment header too large"}, head=head)
            return
        except (UnicodeDecodeError, ValueError) as e:
            # UnicodeDecodeError has a `reason` too ("ordinal not in range(128)"): not a code.
            reason = "invalid_payload"
            if not isinstance(e, UnicodeError):
                reason = getattr(e, "reason", reason)
            await refuse(f"invalid payment: {reason}", reason=reason)
            return
        if payload.x402_version != version:
            await refuse("invalid payment: invalid_x402_version", reason="invalid_x402_version")
            return
        now = int(self.clock())
        checked = self._verify_locally(payload, offers, version, now, resource_url)
        if isinstance(checked, str):
            await refuse(f"invalid payment: {checked}", reason=checked)
            return
        requirements, result = checked
        try:
            if result.is_valid:
                key, digest = result.replay_key, result.digest
            else:
                # A smart wallet: only the chain can authenticate it; the facilitator verifies
                # it before its key is reserved (an unauthenticated key is never reserved).
                await self._facilitator_verify(payload, requirements)
                key, digest = result.unauthenticated_replay_key, result.unauthenticated_digest
        except _Refused as r:
            await refuse(f"invalid payment: {r.reason}", reason=r.reason)
            return
        except (FacilitatorUnavailable, FacilitatorError, SettlementOutcomeUnknown) as e:
            await self._unavailable(send, pattern, e, head=head)
            return
        assert key is not None and digest is not None
        valid_before = _valid_until(payload, now + requirements.max_timeout_seconds)
        record = Record(
            "reserved", header, version, requirements.to_dict(), valid_before, route=pattern
        )
        owner = digest.hex()
        record.in_flight_until = now + self.stale_after
        try:
            payment_id = payload.payment_identifier
        except ValueError:
            await refuse("invalid payment: invalid_payload", reason="invalid_payload")
            return
        if payment_id is None and self.payment_identifier == "required":
            await refuse(
                "invalid payment: a payment-identifier is required", reason="invalid_payload"
            )
            return
        if payment_id is not None and self.payment_identifier != "off":
            first = await self._bind_payment_id(
                payment_id, f"{scope['method']} {scope['path']}", key, record, now
            )
            if first == "other request":
                await refuse(
                    "invalid payment: this payment-identifier was used for another request",
                    reason="invalid_payload",
                )
                return
            if first is not None:
                # A re-signed retry of a request already paid or in flight: the first
                # payment's outcome, never a second charge.
                await self._duplicate(
                    True, first[1].value, first[0], first[1].owner, scope, receive, send
                )
                return
        if self._log_claims:
            # Noted before the claim: a process killed right after claiming is found by a pass.
            await self._reconciler.note_claim(key, owner, record.in_flight_until)
        existing = await self.store.claim(
            key, owner, record.encode(), expires_at=self._in_flight_expiry(record), now=now
        )
        if existing is not None:
            await self._duplicate(
                existing.owner == owner, existing.value, key, owner, scope, receive, send
            )
            return
        payment = Payment(
            payer=str(result.payer),
            amount=int(requirements.amount),
            network=requirements.network,
            asset=requirements.asset,
            pay_to=requirements.pay_to,
            replay_key=key,
            route=pattern,
        )
        try:
            if result.is_valid:
                await self._facilitator_verify(payload, requirements)
        except _Refused as r:
            await self.store.release(key, owner)
            await refuse(f"invalid payment: {r.reason}", reason=r.reason)
            return
        except (FacilitatorUnavailable, FacilitatorError, SettlementOutcomeUnknown) as e:
            await self.store.release(key, owner)
            await self._unavailable(send, pattern, e, head=head)
            return
        # Verified: the record stays "reserved" in the store (duplicates are answered alike,
        # 409) until the settlement is sent; one store write fewer per payment.
        record.state = "verified"
        attempt = _Attempt(pattern, payload, requirements, record, payment, key, owner)
        if route.mode == "optimistic" and await self._expose(route, payment, valid_before, now):
            await self._settle_optimistic(attempt, scope, receive, send, valid_before)
        elif route.mode == "before":
            await self._settle_before(attempt, scope, receive, send, refuse)
        else:
            await self._settle_after(attempt, scope, receive, send, refuse)

    def _resource_url(self, scope: Scope, request: Request) -> str:
        """The request's URL without its query, as Starlette builds it; kept per (scheme,
        server, root path, path, Host) in a bounded cache (two ``URL`` objects per request)."""
        server = scope.get("server")
        key = (
            scope.get("scheme"),
            tuple(server) if server else None,
            scope.get("root_path", ""),
            scope["path"],
            _header(scope, b"host"),
        )
        found = self._urls.get(key)
        if found is None:
            found = str(request.url.replace(query=""))
            if len(self._urls) >= OFFERS_CACHE_SIZE:
                self._urls.pop(next(iter(self._urls)))
            self._urls[key] = found
        return found

    async def _offers(
        self, pattern: str, route: Route, request: Request, resource_url: str
    ) -> list[tuple[PaymentRequirements, PaymentRequirements | None]]:
        """The route's requirements for this resource; fixed-price routes are built once per
        resource URL (a bounded cache: the terms are immutable objects)."""
        if not route.is_static:
            return await requirements_for(route, request, resource_url)
        cache_key = (pattern, resource_url)
        found = self._offers_cache.get(cache_key)
        if found is None:
            found = await requirements_for(route, request, resource_url)
            if len(self._offers_cache) >= OFFERS_CACHE_SIZE:
                self._offers_cache.pop(next(iter(self._offers_cache)))
            self._offers_cache[cache_key] = found
        return found

    def _extensions(self, pattern: str, route: Route, scope: Scope) -> dict[str, Any]:
        extensions = dict(route.extensions or {})
        bazaar = self._discovery.for_request(pattern, scope["method"], scope["path"])
        if bazaar is not None:
            extensions[BAZAAR] = bazaar
        if self.payment_identifier != "off":
            extensions.setdefault(
                "payment-identifier",
                payment_identifier_declaration(required=self.payment_identifier == "required"),
            )
        return extensions

    async def _bind_payment_id(
        self, payment_id: str, request: str, key: str, record: Record, now: int
    ) -> tuple[str, Entry] | Literal["other request"] | None:
        """Reserves the client's payment id for this request (before the replay key): None if
        this payment may go on; the first payment's (replay key, record) when the id already
        paid, or is paying, for this request with another authorization."""
        pid_key = f"x402:payment-id:{payment_id}"
        expires = record.valid_before + KEEP_AFTER_EXPIRY
        bound = await self.store.claim(pid_key, request, key.encode(), expires_at=expires, now=now)
        if bound is None:
            return None
        if bound.owner != request:
            return "other request"
        first_key = bound.value.decode()
        if first_key == key:
            return None
        first = await self.store.get(first_key, now=now)
        if first is not None:
            return first_key, first
        # The first payment was released (not charged): this one takes the id over.
        if await self.store.update(pid_key, request, key.encode(), expires_at=expires):
            return None
        return "other request"

    def _verify_locally(
        self,
        payload: PaymentPayload,
        offers: Sequence[tuple[PaymentRequirements, PaymentRequirements | None]],
        version: int,
        now: int,
        resource_url: str,
    ) -> tuple[PaymentRequirements, Any] | str:
        """The offer this payment meets and the core's verdict, or the reason it meets none."""
        reason = "invalid_payment_requirements"
        for v2, v1 in offers:
            candidate = v2 if version == 2 else v1
            if candidate is None or candidate.network != payload.network:
                continue
            if candidate.scheme != payload.scheme:
                reason = "unsupported_scheme"
                continue
            result = verify_payment(payload, candidate, now=now, resource_url=resource_url)
            if result.is_valid or result.needs_chain:
                return candidate, result
            reason = str(result.reason)
        return reason

    async def _facilitator_verify(
        self, payload: PaymentPayload, requirements: PaymentRequirements
    ) -> None:
        verdict = await self.facilitator.verify(payload, requirements)
        if not verdict.is_valid:
            raise _Refused(str(verdict.invalid_reason or "invalid_payload"), "")

    async def _unavailable(self, send: Send, pattern: str, error: Exception, *, head: bool) -> None:
        self._emit(PaymentEvent("refused", pattern, reason="facilitator_unavailable"))
        await responses.send_json(
            send,
            503,
            {"error": "facilitator unavailable: nothing was charged", "detail": str(error)[:200]},
            responses.retry_after(self.unknown_retry_after),
            head=head,
        )

    # --- duplicates --------------------------------------------------------------------------

    async def _duplicate(
        self,
        same: bool,
        raw: bytes,
        key: str,
        owner: str,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        head = scope["method"] == "HEAD"
        if not same:
            await responses.send_json(
                send,
                402,
                {"error": "invalid payment: invalid_exact_evm_nonce_already_used"},
                head=head,
            )
            return
        record = Record.decode(raw)
        now = int(self.clock())
        if record.in_flight(now):
            await responses.send_json(
                send,
                409,
                {"error": "this payment is already being processed"},
                responses.retry_after(self.in_flight_retry_after),
                head=head,
            )
            return
        if record.state == "unknown" or record.stale(now):
            resolution = await self._reconciler.resolve(record, key, owner)
            self._report(resolution)
            record = resolution.record  # what the first resolver wrote, if another was first
            if resolution.kind == "not_charged":
                await responses.send_json(
                    send,
                    402,
                    {"error": "settlement failed: the payment was not charged; pay again"},
                    head=head,
                )
                return
            if resolution.kind == "unknown":
                await responses.send_json(
                    send,
                    503,
                    {"error": "settlement outcome unknown: nothing served, nothing lost"},
                    responses.retry_after(self.unknown_retry_after),
                    head=head,
                )
                return
        if record.serve_pending:
            await self._serve_late(record, key, owner, scope, receive, send)
            return
        await self._replay_settled(record, send, head)

    async def _serve_late(
        self, record: Record, key: str, owner: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """A ``before`` payment whose settlement was unknown and turned out made: the handler
        never ran, so the first retry runs it (once: the right to is claimed in the store)."""
        now = int(self.clock())
        expires = record.valid_before + KEEP_AFTER_EXPIRY
        taken = await self.store.claim(f"{key}:serve", owner, b"1", expires_at=expires, now=now)
        if taken is not None:
            await responses.send_json(
                send,
                409,
                {"error": "this payment is already being processed"},
                responses.retry_after(self.in_flight_retry_after),
                head=scope["method"] == "HEAD",
            )
            return
        record.serve_pending = False
        await self.store.update(key, owner, record.encode(), expires_at=record.expires_at())
        req = record.requirements
        payer = PaymentPayload.from_header(record.header, max_bytes=self.max_header_bytes).payer
        paid = Payment(
            payer=str(payer),
            amount=int(req.get("amount", req.get("maxAmountRequired", 0))),
            network=str(req["network"]),
            asset=str(req["asset"]),
            pay_to=str(req["payTo"]),
            replay_key=key,
            route=record.route,
            transaction=(record.receipt or {}).get("transaction") or None,
        )
        extra: responses.Headers = []
        if record.receipt:
            extra.append(_receipt_header(record.version, SettleResponse.from_dict(record.receipt)))
        await self._run_paid(paid, extra, scope, receive, send)

    async def _replay_settled(self, record: Record, send: Send, head: bool) -> None:
        # No receipt: settled as seen on chain by a read-only reconciliation (no transaction
        # hash was ever received); the kept response is still served.
        extra: responses.Headers = []
        if record.receipt:
            extra.append(_receipt_header(record.version, SettleResponse.from_dict(record.receipt)))
        kept = record.response
        if kept is not None:
            headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in kept.headers]
            await responses.send_answer(send, kept.status, kept.body, [*headers, *extra])
            return
        await responses.send_json(
            send,
            402,
            {"error": "payment already used: it settled, see PAYMENT-RESPONSE"},
            extra,
            head=head,
        )

    # --- reconciliation ------------------------------------------------------------------------

    async def reconcile(self) -> dict[str, int]:
        """One pass over the unknown records (bounded): asks the facilitator again about each
        and writes the outcome (see :mod:`fastx402.server.reconcile`). Returns how many became
        ``settled``, ``not_charged``, or are still ``unknown``."""
        counts = {"settled": 0, "not_charged": 0, "unknown": 0}
        async with self._reconciling:
            candidates = await self._reconciler.candidates()
            if candidates and isinstance(self.facilitator, Facilitator):
                # Its own pending transactions first (by receipt, nonce, authorization state).
                await self.facilitator.reconcile()
            for key, owner in candidates:
                entry = await self.store.get(key, now=int(self.clock()))
                if entry is None or entry.owner != owner:
                    self._reconciler.keep_waiting(key, owner, unknown=False)
                    continue
                record = Record.decode(entry.value)
                now = int(self.clock())
                if record.in_flight(now):  # alive, or its response still being kept
                    self._reconciler.keep_waiting(key, owner, unknown=True)
                    continue
                if record.state != "unknown" and not record.stale(now):
                    self._reconciler.keep_waiting(key, owner, unknown=False)
                    continue
                resolution = await self._reconciler.resolve(record, key, owner)
                self._report(resolution)
                self._reconciler.keep_waiting(key, owner, unknown=resolution.kind == "unknown")
                counts[resolution.kind] += 1
            await self._reconciler.save_checkpoint()
        return counts

    def _report(self, resolution: Resolution) -> None:
        record = resolution.record
        if resolution.kind == "unknown" or not resolution.fresh:
            return
        amount = record.requirements.get("amount", record.requirements.get("maxAmountRequired"))
        receipt = resolution.receipt
        payer = receipt.payer if receipt is not None and receipt.payer else None
        if payer is None:
            with contextlib.suppress(ValueError):
                payer = PaymentPayload.from_header(
                    record.header, max_bytes=self.max_header_bytes
                ).payer
        event = PaymentEvent(
            "paid" if resolution.kind == "settled" else "settle_failed",
            record.route,
            reason=resolution.reason,
            payer=payer,
            amount=int(amount) if amount is not None else None,
            network=record.requirements.get("network"),
            transaction=receipt.transaction if receipt is not None and receipt.success else None,
        )
        self._emit(event)
        if resolution.kind == "settled" and record.response is None and not record.serve_pending:
            self._emit(PaymentEvent(**{**event.__dict__, "kind": "paid_unserved"}))

    def _start_reconciling(self) -> None:
        if self.reconcile_interval is None or self._reconcile_task is not None:
            return
        interval = min(max(self.reconcile_interval, RECONCILE_MIN_INTERVAL), RECONCILE_MAX_INTERVAL)
        self._reconcile_task = asyncio.ensure_future(self._reconcile_every(interval))

    async def _reconcile_every(self, interval: float) -> None:
        # No asyncio.wait_for around a pass: on 3.10/3.11 it can swallow the shutdown's
        # cancellation. A pass is bounded by itself (MAX_PER_PASS records, each facilitator
        # call by its timeouts); the loop by the lifespan (the flag, then the cancellation).
        while self._reconcile_task is not None:
            await asyncio.sleep(interval)
            try:
                await self.reconcile()
            except Exception:
                log.warning("fastx402: a reconciliation pass failed", exc_info=True)

    async def _stop_reconciling(self) -> None:
        task, self._reconcile_task = self._reconcile_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- settlement --------------------------------------------------------------------------

    async def _settle(
        self, payload: PaymentPayload, requirements: PaymentRequirements
    ) -> SettleResponse | str:
        """The facilitator's definitive answer, or why the outcome is unknown."""
        try:
            return await self.facilitator.settle(payload, requirements)
        except FacilitatorUnavailable as e:
            # Certainly not sent: a definitive "not settled".
            return SettleResponse.from_dict(
                {
                    "success": False,
                    "errorReason": "unexpected_settle_error",
                    "errorMessage": f"facilitator unavailable: {e.code}",
                    "transaction": "",
                    "network": requirements.network,
                }
            )
        except (SettlementOutcomeUnknown, FacilitatorError) as e:
            return f"settlement outcome unknown: {getattr(e, 'code', 'error')}"

    def _in_flight_expiry(self, record: Record) -> int | None:
        """In flight, a record outlives its authorization only if a pass can find it."""
        return record.expires_at() if self._log_claims else record.valid_before + KEEP_AFTER_EXPIRY

    async def _too_late(
        self, record: Record, key: str, owner: str, pattern: str, send: Send
    ) -> bool:
        """Past its deadline, a payment is no longer settled by its owner (a reconciler may
        already take it as abandoned): released, nothing charged, the payer may retry."""
        until = record.in_flight_until
        if until is None or int(self.clock()) < until - self.settle_margin:
            return False
        await self.store.release(key, owner)
        self._emit(PaymentEvent("refused", pattern, reason="in_flight_deadline"))
        await responses.send_json(
            send,
            503,
            {"error": "the payment took too long to settle: nothing was charged; retry"},
            responses.retry_after(self.in_flight_retry_after),
        )
        return True

    async def _record_settled(
        self, record: Record, receipt: SettleResponse, key: str, owner: str
    ) -> None:
        record.state, record.receipt = "settled", receipt.to_dict()
        await self.store.update(key, owner, record.encode(), expires_at=record.expires_at())

    async def _record_unknown(
        self, record: Record, key: str, owner: str, *, note: bool = True
    ) -> None:
        """``note=False``: the caller makes it known to reconciliation once its last write of
        the record is done (a pass must not resolve it while the kept response is written)."""
        record.state, record.unknown_since = "unknown", int(self.clock())
        await self.store.update(key, owner, record.encode(), expires_at=None)
        if note:
            await self._reconciler.note_unknown(key, owner)

    async def _settle_before(
        self,
        attempt: _Attempt,
        scope: Scope,
        receive: Receive,
        send: Send,
        refuse: Callable[..., Any],
    ) -> None:
        pattern, payload, requirements, record, payment, key, owner = attempt
        # In flight in the store until the outcome is written (no separate "settling" write:
        # duplicates are answered alike, 409).
        if await self._too_late(record, key, owner, pattern, send):
            return
        record.state = "settling"
        outcome = await self._settle(payload, requirements)
        if isinstance(outcome, str):
            record.serve_pending = True  # the handler has not run: a retry runs it once settled
            await self._record_unknown(record, key, owner)
            self._emit(PaymentEvent("unknown", pattern, reason=outcome, payer=payment.payer))
            await responses.send_json(
                send,
                503,
                {"error": outcome},
                responses.retry_after(self.unknown_retry_after),
            )
            return
        if not outcome.success:
            await self.store.release(key, owner)
            self._emit(PaymentEvent("settle_failed", pattern, reason=outcome.error_reason))
            await refuse(f"settlement failed: {outcome.error_reason}")
            return
        # Charged, not yet served: until the handler has run, the record says so (a duplicate
        # is in flight until ``serving_until``; past it, the owner died: the first retry runs
        # the handler). One write more in this mode, once the handler is done.
        record.serve_pending = True
        record.serving_until = int(self.clock()) + self.stale_after
        await self._record_settled(record, outcome, key, owner)
        self._emit(self._settled_event("paid", pattern, payment, outcome))
        paid = Payment(**{**payment.__dict__, "transaction": outcome.transaction})

        async def served() -> None:
            record.serve_pending, record.serving_until = False, None
            await self.store.update(key, owner, record.encode(), expires_at=record.expires_at())

        receipt = [_receipt_header(record.version, outcome)]
        await self._run_paid(paid, receipt, scope, receive, send, served)

    async def _run_paid(
        self,
        paid: Payment,
        extra: responses.Headers,
        scope: Scope,
        receive: Receive,
        send: Send,
        served: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Runs the handler of a settled payment, its answer carrying ``extra`` (the receipt);
        a handler that then fails is reported for refunds. ``served`` is awaited once, before
        the last body message goes out (a duplicate then finds the record served), or at the
        end if there was none."""
        scope.setdefault("state", {})["payment"] = paid
        failed_status: list[int] = []
        pending = [served] if served is not None else []

        async def send_with_receipt(message: Message) -> None:
            if message["type"] == "http.response.start":
                if message["status"] >= 400:
                    failed_status.append(message["status"])
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            last = message["type"] == "http.response.body" and not message.get("more_body")
            if last and pending:
                await pending.pop()()
            await send(message)

        event = PaymentEvent(
            "served_error_after_settlement",
            paid.route,
            payer=paid.payer,
            amount=paid.amount,
            network=paid.network,
            transaction=paid.transaction,
        )
        try:
            await self.app(scope, receive, send_with_receipt)
        except Exception:
            self._emit(event)
            raise
        finally:
            if pending:
                await pending.pop()()
        if failed_status:
            self._emit(event)

    async def _settle_after(
        self,
        attempt: _Attempt,
        scope: Scope,
        receive: Receive,
        send: Send,
        refuse: Callable[..., Any],
    ) -> None:
        pattern, payload, requirements, record, payment, key, owner = attempt
        scope.setdefault("state", {})["payment"] = payment
        # What happened to the handler's response: "pass" (not charged, released), "paid"
        # (released with the receipt), "drop" (replaced by our own answer).
        verdict: list[str] = []
        kept: KeptResponse | None = None
        kept_size = 0

        # A 2xx start is held until its first body message: when that is the whole body and
        # small enough to keep, the record is written once (settled, with the response).
        held: list[Message] = []

        async def settle_start(start: Message, whole: bytes | None) -> None:
            nonlocal kept, kept_size
            if await self._too_late(record, key, owner, pattern, send):
                verdict.append("drop")
                return
            record.state = "settling"  # in flight in the store until the outcome is written
            outcome = await self._settle(payload, requirements)
            if isinstance(outcome, str):
                # Not served now; the response is kept with the record (if small enough)
                # so that a retry can serve it once the settlement turns out made.
                verdict.append("hold")
                kept = _kept_start(start)
                if whole is not None:
                    kept.body, kept_size, record.response = whole, len(whole), kept
                    await self._record_unknown(record, key, owner)
                    verdict.append("noted")
                else:
                    record.serving_until = int(self.clock()) + SERVING_WINDOW
                    await self._record_unknown(record, key, owner, note=False)
                self._emit(PaymentEvent("unknown", pattern, reason=outcome, payer=payment.payer))
                await responses.send_json(
                    send,
                    503,
                    {"error": outcome + ": nothing served, nothing lost; retry"},
                    responses.retry_after(self.unknown_retry_after),
                )
                return
            if not outcome.success:
                verdict.append("drop")
                await self.store.release(key, owner)
                self._emit(PaymentEvent("settle_failed", pattern, reason=outcome.error_reason))
                await refuse(f"settlement failed: {outcome.error_reason}")
                return
            verdict.append("paid")
            kept = _kept_start(start)
            if whole is not None:
                kept.body, kept_size, record.response = whole, len(whole), kept
            else:
                record.serving_until = int(self.clock()) + SERVING_WINDOW
            await self._record_settled(record, outcome, key, owner)
            self._emit(self._settled_event("paid", pattern, payment, outcome))
            headers = [*start.get("headers", []), _receipt_header(record.version, outcome)]
            await send({**start, "headers": headers})

        async def send_settled(message: Message) -> None:
            nonlocal kept_size
            if message["type"] == "http.response.start":
                if not 200 <= message["status"] < 300:
                    verdict.append("pass")
                    await self.store.release(key, owner)
                    await send(message)
                    return
                held.append(message)
                return
            if message["type"] == "http.response.body":
                body = message.get("body", b"")
                if held:
                    final = not message.get("more_body", False)
                    whole = body if final and len(body) <= self.keep_response_bytes else None
                    await settle_start(held.pop(), whole)
                    if whole is not None:
                        if verdict[0] == "paid":
                            await send(message)
                        return
                if verdict and verdict[0] == "drop":
                    return  # the handler's body is not served: it was not paid for
                if verdict and verdict[0] in ("paid", "hold") and kept is not None:
                    kept_size += len(body)
                    if kept_size <= self.keep_response_bytes:
                        kept.body += body
                    if verdict[0] == "paid":
                        await send(message)
                    if not message.get("more_body", False):
                        record.serving_until = None
                        if kept_size <= self.keep_response_bytes:
                            record.response = kept
                        await self.store.update(
                            key, owner, record.encode(), expires_at=record.expires_at()
                        )
                        if verdict[0] == "hold":
                            await self._reconciler.note_unknown(key, owner)
                            verdict.append("noted")
                    return
            await send(message)

        try:
            await self.app(scope, receive, send_settled)
            if held:  # a start with no body message at all: an empty body
                await settle_start(held.pop(), b"")
                if verdict[0] == "paid":
                    await send({"type": "http.response.body", "body": b""})
        except Exception:
            if not verdict:
                await self.store.release(key, owner)
            raise
        finally:
            if verdict and verdict[0] == "hold" and "noted" not in verdict:
                await self._reconciler.note_unknown(key, owner)

    # --- optimistic ------------------------------------------------------------------------------

    @staticmethod
    def _exposure_keys(payment: Payment) -> tuple[str, str]:
        base = f"x402:exposure:{payment.network}:{payment.asset}:{payment.payer}".lower()
        return base + ":amount", base + ":count"

    async def _expose(self, route: Route, payment: Payment, valid_before: int, now: int) -> bool:
        """Takes this payment into the payer's unsettled exposure, if the cap allows."""
        amount_key, count_key = self._exposure_keys(payment)
        expires = valid_before + 600
        ok, _ = await self.store.add_within(
            amount_key, payment.amount, route.exposure.max_amount, expires_at=expires, now=now
        )
        if not ok:
            return False
        ok, _ = await self.store.add_within(
            count_key, 1, route.exposure.max_count, expires_at=expires, now=now
        )
        if not ok:
            await self.store.add(amount_key, -payment.amount, expires_at=expires, now=now)
        return ok

    async def _unexpose(self, payment: Payment, valid_before: int) -> None:
        amount_key, count_key = self._exposure_keys(payment)
        now, expires = int(self.clock()), valid_before + 600
        await self.store.add(amount_key, -payment.amount, expires_at=expires, now=now)
        await self.store.add(count_key, -1, expires_at=expires, now=now)

    async def _settle_optimistic(
        self,
        attempt: _Attempt,
        scope: Scope,
        receive: Receive,
        send: Send,
        valid_before: int,
    ) -> None:
        """Serves right after verification and settles in the background; the payer's
        unsettled exposure is capped (see :class:`~fastx402.server.Exposure`)."""
        payment, key, owner = attempt.payment, attempt.key, attempt.owner
        scope.setdefault("state", {})["payment"] = payment
        served: list[KeptResponse] = []
        size = 0

        async def send_served(message: Message) -> None:
            nonlocal size
            if message["type"] == "http.response.start":
                if 200 <= message["status"] < 300:
                    served.append(_kept_start(message))
            elif message["type"] == "http.response.body" and served:
                body = message.get("body", b"")
                size += len(body)
                if size <= self.keep_response_bytes:
                    served[0].body += body
            await send(message)

        try:
            await self.app(scope, receive, send_served)
        finally:
            if not served:  # an error or a non-2xx answer: nothing owed, nothing settled
                await self.store.release(key, owner)
                await self._unexpose(payment, valid_before)
        if not served:
            return
        kept = served[0] if size <= self.keep_response_bytes else None
        task = asyncio.ensure_future(self._settle_in_background(attempt, kept, valid_before))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _settle_in_background(
        self, attempt: _Attempt, kept: KeptResponse | None, valid_before: int
    ) -> None:
        pattern, payload, requirements, record, payment, key, owner = attempt
        try:
            record.state, record.response = "settling", kept
            record.in_flight_until = int(self.clock()) + self.stale_after
            expires = self._in_flight_expiry(record)
            await self.store.update(key, owner, record.encode(), expires_at=expires)
            outcome = await self._settle(payload, requirements)
            if isinstance(outcome, str):
                await self._record_unknown(record, key, owner)
                self._emit(PaymentEvent("unknown", pattern, reason=outcome, payer=payment.payer))
            elif outcome.success:
                await self._record_settled(record, outcome, key, owner)
                self._emit(self._settled_event("paid", pattern, payment, outcome))
            else:
                # Served and not paid: the loss optimistic mode accepts, reported.
                await self.store.release(key, owner)
                self._emit(
                    PaymentEvent(
                        "optimistic_loss",
                        pattern,
                        reason=outcome.error_reason,
                        payer=payment.payer,
                        amount=payment.amount,
                        network=payment.network,
                    )
                )
        finally:
            await self._unexpose(payment, valid_before)

    async def drain(self, timeout: float = 30.0) -> None:
        """Waits (bounded) for background settlements of ``optimistic`` routes to finish."""
        if self._background:
            await asyncio.wait(set(self._background), timeout=timeout)

    @staticmethod
    def _settled_event(
        kind: EventKind, pattern: str, payment: Payment, receipt: SettleResponse
    ) -> PaymentEvent:
        return PaymentEvent(
            kind,
            pattern,
            payer=payment.payer,
            amount=payment.amount,
            network=payment.network,
            transaction=receipt.transaction,
        )


class _Attempt(NamedTuple):
    """One payment being charged: what every settlement mode works on."""

    pattern: str
    payload: PaymentPayload
    requirements: PaymentRequirements
    record: Record
    payment: Payment
    key: str
    owner: str


def _receipt_header(version: int, receipt: SettleResponse) -> tuple[bytes, bytes]:
    name = responses.PAYMENT_RESPONSE if version == 2 else responses.X_PAYMENT_RESPONSE
    return name.encode(), receipt.to_header().encode()


def _valid_until(payload: PaymentPayload, fallback: int) -> int:
    """When the authorization stops being settleable (EIP-3009 ``validBefore``, Permit2
    ``deadline``); the record is kept until then (and a margin)."""
    for value in (payload.valid_before, payload.deadline):
        if value is not None:
            return value
    return fallback


def _kept_start(start: Message) -> KeptResponse:
    headers = start.get("headers", [])
    return KeptResponse(
        start["status"], [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers], b""
    )


def payment_of(request: Request) -> Payment:
    """The payment of the request being handled (raises ``LookupError`` on an unpriced route)."""
    payment = getattr(request.state, "payment", None)
    if not isinstance(payment, Payment):
        raise LookupError("this request carries no payment (not a priced route)")
    return payment


__all__ = ["Payment", "PaymentEvent", "PaymentMiddleware", "X402Error", "payment_of"]
