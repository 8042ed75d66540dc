"""Shared pytest set-up. The chain fixtures (``anvil``, ``usdc``) live in ``tests/chain.py``, the
``redis_server`` fixture and app processes in ``tests/processes.py``."""

import os
import tempfile

pytest_plugins = ["chain", "processes"]

# The agent's default ledger is per user (~/.local/share/fastx402/ledger.db): tests keep theirs
# in a temporary folder instead (subprocesses inherit it).
os.environ["FASTX402_LEDGER"] = os.path.join(
    tempfile.mkdtemp(prefix="fastx402-test-ledger-"), "ledger.db"
)
