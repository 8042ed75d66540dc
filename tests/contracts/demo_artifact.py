"""Writes the TestUSDC artifact ``fastx402 demo`` ships (``python/fastx402/demo/TestUSDC.json``)
from the build of ``make chain-tools`` (``tests/contracts/build/TestUSDC.json``, solc 0.8.37), so
the demo deploys the token without node or solc. ``tests/test_demo.py`` fails when the two differ.

    make chain-tools && python tests/contracts/demo_artifact.py
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "TestUSDC.sol"
BUILD = HERE / "build" / "TestUSDC.json"
SHIPPED = HERE.parent.parent / "python" / "fastx402" / "demo" / "TestUSDC.json"


def demo_artifact(build: dict[str, Any], source: bytes) -> dict[str, Any]:
    """What the demo needs of a build: the ABI, the creation bytecode, and where it came from."""
    return {
        "contractName": build["contractName"],
        "sourceName": build["sourceName"],
        "sourceSha256": hashlib.sha256(source).hexdigest(),
        "compiler": build["compiler"],
        "settings": build["settings"],
        "abi": build["abi"],
        "bytecode": build["bytecode"],
    }


def render(artifact: dict[str, Any]) -> str:
    return json.dumps(artifact, indent=1) + "\n"


def main() -> int:
    if not BUILD.is_file():
        print(f"{BUILD} is missing: run `make chain-tools` first", file=sys.stderr)
        return 1
    artifact = demo_artifact(json.loads(BUILD.read_text()), SOURCE.read_bytes())
    SHIPPED.write_text(render(artifact))
    print(f"wrote {SHIPPED} ({artifact['compiler']['version']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
