"""``fastx402 demo``: x402 end to end on a local chain, in one command.

anvil (a local EVM chain) → TestUSDC deployed from the shipped artifact → a funded buyer →
fastx402's facilitator service → a priced FastAPI seller → two agents that read prices, pay
within their policy, stream an inference and are refused at their budget → receipts,
balances read from the chain, checks, and a summary. Modules: ``chain`` (anvil, JSON-RPC,
token), ``seller``, ``serve`` (uvicorn in a thread), ``agents`` (httpx), ``langchain_agent``,
``report`` (what is printed), ``run`` (the order of it all and the clean-up).
"""

from __future__ import annotations

from fastx402.demo.errors import DemoError
from fastx402.demo.run import Options, demo

__all__ = ["DemoError", "Options", "demo"]
