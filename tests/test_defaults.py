"""Defaults that must hold: where the agent's ledger lives by default, and that a seller record
encodes every field it has (a field left out of the encoding would be lost on the next write)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from fastx402.client.ledger import default_ledger_url
from fastx402.server.records import KeptResponse, Record


def test_default_ledger_is_per_user_never_in_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("FASTX402_LEDGER", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    assert default_ledger_url() == f"sqlite:///{tmp_path / 'data' / 'fastx402' / 'ledger.db'}"
    assert (tmp_path / "data" / "fastx402").is_dir()
    monkeypatch.setenv("FASTX402_LEDGER", str(tmp_path / "mine.db"))
    assert default_ledger_url() == f"sqlite:///{tmp_path / 'mine.db'}"
    assert not list(tmp_path.glob("*.db"))  # nothing opened yet, nothing in the cwd


def test_a_record_encodes_every_field_and_decodes_back() -> None:
    record = Record(
        "settled",
        "header",
        2,
        {"amount": "1"},
        1_700_000_000,
        receipt={"success": True},
        response=KeptResponse(200, [("content-type", "application/json")], b"{}"),
        serving_until=5,
    )
    encoded = json.loads(record.encode())
    assert set(encoded) == {
        f.name for f in dataclasses.fields(Record) if not f.name.startswith("_")
    }
    assert Record.decode(record.encode()) == record
