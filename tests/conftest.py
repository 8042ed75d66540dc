"""Shared pytest set-up. The chain fixtures (``anvil``, ``usdc``) live in ``tests/chain.py``."""

pytest_plugins = ["chain"]
