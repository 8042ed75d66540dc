"""Two agent processes share one budget in a real redis-server: both pay in parallel against one
fastx402 seller under uvicorn (settling on anvil), each with its own wallet; together they pay
exactly what the shared budget affords, never more, and the shared ledger's settled total is the
seller's balance change on chain."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from decimal import Decimal

from chain import NETWORK, Token
from fastx402 import PrivateKey
from fastx402.client import Ledger
from processes import RedisServer
from test_server import PRICE, Shop, facilitator, shop, token  # noqa: F401

AFFORDS = 5  # payments the shared budget affords (0.05 tUSDC at 0.01 each)
CALLS = 8  # parallel paid calls per agent process

AGENT = """
import asyncio, json, sys, time
from decimal import Decimal
import fastx402
from fastx402.client import (AsyncSpending, Budget, PaymentRefused, Spender, SpendPolicy,
                             async_paying_client, receipt_of, wallet_from_env)

a = json.loads(sys.argv[1])
name, url, store, start, calls = a["name"], a["url"], a["store"], a["start"], a["calls"]
fastx402.register_asset(*a["asset"], 6, symbol="tUSDC")  # the test chain's token, as the seller's
policy = SpendPolicy(max_per_call=Decimal("0.05"), allow_http=True,
                     budgets=(Budget(window="day", limit=Decimal(a["budget"])),))

async def main():
    spending = AsyncSpending(store, store)
    try:
        async with async_paying_client(wallet_from_env("AGENT_KEY"), policy, spending=spending,
                                       spender=Spender(agent=name), timeout=60) as client:
            async def one(i):
                try:
                    r = await client.get(f"{url}/weather/{name}-{i}")
                except PaymentRefused as e:
                    return e.reasons[0].split(":")[0]
                receipt = receipt_of(r)
                return receipt.outcome if receipt else f"HTTP {r.status_code}"
            time.sleep(max(0.0, start - time.time()))  # both agents start together
            print(json.dumps(await asyncio.gather(*(one(i) for i in range(calls)))))
    finally:
        await spending.close()

asyncio.run(main())
"""


def test_two_processes_never_exceed_one_redis_budget(
    redis_server: RedisServer,
    shop: tuple[Shop, str],  # noqa: F811
    token: Token,  # noqa: F811
) -> None:
    s, url = shop
    store = redis_server.url()
    keys = ["0x" + secrets.token_hex(32) for _ in range(2)]
    payers = [PrivateKey.from_hex(k).address for k in keys]
    for payer in payers:
        token.mint(payer, CALLS * PRICE)
    start = time.time() + 3  # after both interpreters have imported fastx402
    env = {**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    budget = str(Decimal(AFFORDS * PRICE) / 10**6)
    asset = [NETWORK, token.address, token.name, token.version]
    agents = []
    for i, key in enumerate(keys):
        args = {"name": f"agent{i}", "url": url, "store": store, "start": start,
                "calls": CALLS, "budget": budget, "asset": asset}  # fmt: skip
        agents.append(
            subprocess.Popen(
                [sys.executable, "-c", AGENT, json.dumps(args)],
                env={**env, "AGENT_KEY": key},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        )
    outcomes: list[str] = []
    for agent in agents:
        out, err = agent.communicate(timeout=120)
        assert agent.returncode == 0, err.decode()[-3000:]
        outcomes += json.loads(out)
    assert outcomes.count("paid") == AFFORDS, outcomes
    assert outcomes.count("budget_exhausted") == 2 * CALLS - AFFORDS, outcomes
    spent_on_chain = sum(CALLS * PRICE - token.balance_of(p) for p in payers)
    assert spent_on_chain == AFFORDS * PRICE and token.balance_of(s.seller) == AFFORDS * PRICE
    assert sum(s.runs.values()) == AFFORDS
    ledger = Ledger(store)
    try:
        spent = ledger.spent("all")
        agents_seen = {r["agent"] for r in ledger.records()}
    finally:
        ledger.close()
    assert spent.settled == Decimal(AFFORDS * PRICE) / 10**6 and not spent.flagged
    assert agents_seen == {"agent0", "agent1"}
