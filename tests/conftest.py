"""Shared pytest set-up. The chain fixtures (``anvil``, ``usdc``) live in ``tests/chain.py``, the
``redis_server`` fixture and app processes in ``tests/processes.py``."""

pytest_plugins = ["chain", "processes"]
