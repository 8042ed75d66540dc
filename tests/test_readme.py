"""The README's Python examples run as written, and each of their checks can fail."""

from __future__ import annotations

import ast
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks, "the README has no Python example"
    return blocks


def test_readme_examples_run() -> None:
    for block in python_blocks():
        exec(compile(block, str(README), "exec"), {})


def test_readme_expected_errors_fail_when_nothing_raises() -> None:
    """An example that shows an error (`try: ... except E:`) must fail when nothing is raised:
    every `try` has an `else:` branch that raises."""
    tries = 0
    for block in python_blocks():
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.Try):
                tries += 1
                line = block.splitlines()[node.lineno - 1]
                assert node.orelse, f"`try` without `else: raise ...` in the README: {line!r}"
                assert isinstance(node.orelse[-1], ast.Raise), line
    assert tries == 3
