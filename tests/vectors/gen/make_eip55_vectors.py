#!/usr/bin/env python3
# ruff: noqa: E501  (provenance strings and one-line case tables)
"""Writes tests/vectors/eip55.json: EIP-55 address vectors shared by the Rust
(tests/vectors.rs) and Python test suites.

    .venv/bin/python tests/vectors/gen/make_eip55_vectors.py

The accepted addresses are the EIP-55 spec's test cases; every rejected variant is
derived here from one of them by a single edit and cross-checked with eth-utils.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import eth_utils
from eth_utils import is_checksum_address, is_hex_address, to_checksum_address

OUT = Path(__file__).resolve().parent.parent / "eip55.json"

# EIP-55 "Test Cases" (ethereum/ERCs, ERCS/erc-55.md).
SPEC = {
    "all_caps": [
        "0x52908400098527886E0F7030069857D2E4169EE7",
        "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    ],
    "all_lower": [
        "0xde709f2102306220921060314715629080e2fb77",
        "0x27b1fdb04752bbc536007a920d24acb045561c26",
    ],
    "normal": [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ],
}

accepted: list[dict] = []
rejected: list[dict] = []


def flip(s: str, i: int) -> str:
    c = s[i]
    return s[:i] + (c.lower() if c.isupper() else c.upper()) + s[i + 1 :]


for group, addresses in SPEC.items():
    for a in addresses:
        # Every spec example is its own checksum form (all-caps and all-lower
        # examples happen to have all letters on one side of the checksum).
        assert to_checksum_address(a) == a and is_checksum_address(a), a
        accepted.append({"input": a, "checksum": a, "source": f"EIP-55 test cases, {group}"})
        letters = [i for i, c in enumerate(a) if i >= 2 and c.isalpha()]
        # Single-case spellings are accepted without a checksum check and display as EIP-55.
        for variant, how in ((a.lower(), "lowercased"), ("0x" + a[2:].upper(), "uppercased")):
            if variant != a:
                assert is_hex_address(variant)
                accepted.append(
                    {
                        "input": variant,
                        "checksum": a,
                        "source": f"EIP-55 test case {a} {how} (single case: no checksum to verify)",
                    }
                )
        # One letter's case flipped: mixed case that fails the checksum.
        for i in sorted({letters[0], letters[-1]}):
            bad = flip(a, i)
            assert bad.lower() == a.lower() and not is_checksum_address(bad), bad
            rejected.append(
                {
                    "input": bad,
                    "error": "bad_checksum",
                    "source": f"EIP-55 test case {a} with the case of the letter at offset {i} flipped",
                }
            )

base = SPEC["normal"][0]
MALFORMED = [
    (base[2:], "no 0x prefix"),
    ("0X" + base[2:], "uppercase 0X prefix"),
    (base[:-1], "39 hex digits"),
    (base + "0", "41 hex digits"),
    (base[:-1] + "g", "non-hex digit"),
    ("0x", "no digits"),
    ("", "empty string"),
    (" " + base, "leading space"),
    (base + " ", "trailing space"),
    (base[:10] + "\uff10" + base[11:], "full-width digit"),
]
for bad, how in MALFORMED:
    rejected.append(
        {"input": bad, "error": "malformed", "source": f"EIP-55 test case {base}: {how}"}
    )

doc = {
    "provenance": {
        "generator": "tests/vectors/gen/make_eip55_vectors.py",
        "libraries": {"eth-utils": eth_utils.__version__},
        "sources": {
            "accepted (source 'EIP-55 test cases, ...')": "EIP-55 spec 'Test Cases' section "
            "(ethereum/ERCs ERCS/erc-55.md): all caps, all lower, normal; each equals "
            "eth_utils.to_checksum_address of itself",
            "accepted (lowercased / uppercased)": "derived here from the spec cases; "
            "checksum = the spec case",
            "rejected bad_checksum": "derived here: one letter's case flipped in a spec case; "
            "eth_utils.is_checksum_address returns False for each",
            "rejected malformed": "derived here from 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed by one edit",
        },
        "schema": {
            "accepted[].input": "string the parser must accept",
            "accepted[].checksum": "its EIP-55 display form",
            "rejected[].error": "bad_checksum (well-formed, mixed case, wrong checksum) | malformed "
            "(not '0x' + 40 ASCII hex digits)",
        },
    },
    "accepted": accepted,
    "rejected": rejected,
}
OUT.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
print(f"wrote {len(accepted)} accepted, {len(rejected)} rejected to {OUT}", file=sys.stderr)
