"""SpendPolicy from TOML, YAML and JSON files and from the environment: the same fields and the
same strictness as ``from_dict`` (unknown fields, floats and ill-typed values refused), every
error naming the field and where it came from."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from fastx402.client import Budget, PolicyError, SpendPolicy

TOML = """
max_per_call = "$0.05"
hosts = ["*.example.com", "https://api.other.test"]
prefer_networks = ["eip155:8453"]
allow_http = false
max_payments_per_minute = 10
kill_file = "/tmp/stop-spending"

[[budgets]]
window = "day"
limit = "1.00"
per = "user"

[[assets]]
network = "eip155:8453"
address = "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913"
"""

YAML = """
max_per_call: "$0.05"
hosts: ["*.example.com", "https://api.other.test"]
prefer_networks: [eip155:8453]
allow_http: false
max_payments_per_minute: 10
kill_file: /tmp/stop-spending
budgets:
  - {window: day, limit: "1.00", per: user}
assets:
  - {network: "eip155:8453", address: "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913"}
"""

EXPECTED = SpendPolicy(
    max_per_call=Decimal("0.05"),
    hosts=frozenset({"*.example.com", "https://api.other.test"}),
    prefer_networks=("eip155:8453",),
    max_payments_per_minute=10,
    kill_file="/tmp/stop-spending",
    budgets=(Budget(window="day", limit=Decimal("1.00"), per="user"),),
    assets=frozenset({("eip155:8453", "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913")}),
)


@pytest.mark.parametrize(("name", "text"), [("p.toml", TOML), ("p.yaml", YAML), ("p.yml", YAML)])
def test_policy_files_read_every_field(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    assert SpendPolicy.from_file(path) == EXPECTED
    assert SpendPolicy.from_file(str(path)) == EXPECTED


def test_an_empty_file_is_the_safe_default(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "empty.toml").write_text("")
    assert SpendPolicy.from_file(tmp_path / "empty.yaml") == SpendPolicy()
    assert SpendPolicy.from_file(tmp_path / "empty.toml") == SpendPolicy()


@pytest.mark.parametrize(
    ("name", "text", "field"),
    [
        ("p.toml", "max_per_call = 0.05", "max_per_call"),
        ("p.yaml", "max_per_call: 0.05", "max_per_call"),
        ("p.json", '{"max_per_call": 0.05}', "max_per_call"),
        ("p.toml", '[[budgets]]\nwindow = "day"\nlimit = 1.5', "budgets"),
        ("p.yaml", "budgets: [{window: day, limit: 1.5}]", "budgets"),
        ("p.toml", "max_per_cal = '1'", "max_per_cal"),
        ("p.yaml", "hosts: '*.example.com'", "hosts"),  # a string is not a list
        ("p.toml", "max_repeats = 2.5", "max_repeats"),
        ("p.yaml", "max_repeats: '3'", "max_repeats"),
        ("p.yaml", "allow_http: 'yes'", "allow_http"),
        ("p.toml", '[[budgets]]\nwindow = "week"\nlimit = "1"', "budgets"),
        ("p.toml", '[[budgets]]\nwindow = "day"\nlimit = "1"\nlimt = "2"', "budgets"),
        ("p.yaml", "assets: [{network: eip155:8453}]", "assets"),
        ("p.yaml", "pay_to: ['0xnot-an-address']", ""),
    ],
)
def test_bad_fields_are_refused_naming_field_and_file(
    tmp_path: Path, name: str, text: str, field: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(PolicyError) as caught:
        SpendPolicy.from_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and field in message, message


@pytest.mark.parametrize(
    ("name", "text"),
    [("p.toml", "max_per_call = "), ("p.yaml", "a: [b"), ("p.json", "{"), ("p.ini", "")],
)
def test_unreadable_files_are_a_policy_error_naming_the_file(
    tmp_path: Path, name: str, text: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(PolicyError, match=str(path)):
        SpendPolicy.from_file(path)
    with pytest.raises(PolicyError, match="missing"):
        SpendPolicy.from_file(tmp_path / "missing.toml")


def test_a_top_level_list_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("- max_per_call: '1'")
    with pytest.raises(PolicyError, match="top level"):
        SpendPolicy.from_file(path)


def test_policy_from_the_environment(tmp_path: Path) -> None:
    env = {
        "FASTX402_POLICY_MAX_PER_CALL": "$0.05",
        "FASTX402_POLICY_HOSTS": "*.example.com, https://api.other.test",
        "FASTX402_POLICY_PREFER_NETWORKS": "eip155:8453",
        "FASTX402_POLICY_ALLOW_HTTP": "false",
        "FASTX402_POLICY_MAX_PAYMENTS_PER_MINUTE": "10",
        "FASTX402_POLICY_KILL_FILE": "/tmp/stop-spending",
        "FASTX402_POLICY_BUDGETS": '[{"window": "day", "limit": "1.00", "per": "user"}]',
        "FASTX402_POLICY_ASSETS": '[{"network": "eip155:8453",'
        ' "address": "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913"}]',
        "UNRELATED": "ignored",
    }
    assert SpendPolicy.from_env(env) == EXPECTED
    assert SpendPolicy.from_env({}) == SpendPolicy()
    assert SpendPolicy.from_env({"FASTX402_POLICY_MAX_REPEATS": "none"}).max_repeats is None
    path = tmp_path / "p.toml"
    path.write_text(TOML)
    assert SpendPolicy.from_env({"FASTX402_POLICY_FILE": str(path)}) == EXPECTED


# "VARIABLE=value": what the error must say (a typo never loosens the policy).
BAD_ENVIRONMENT = {
    "FASTX402_POLICY_MAX_PER_CAL=1": "max_per_cal",
    "FASTX402_POLICY_MAX_REPEATS=2.5": "FASTX402_POLICY_MAX_REPEATS",
    "FASTX402_POLICY_ALLOW_HTTP=maybe": "FASTX402_POLICY_ALLOW_HTTP",
    'FASTX402_POLICY_BUDGETS=[{"window": "day", "limit": 1.5}]': "float",
    "FASTX402_POLICY_BUDGETS=[{": "FASTX402_POLICY_BUDGETS",
    "FASTX402_POLICY_MAX_PER_CALL=lots": "max_per_call",
}


@pytest.mark.parametrize("setting", BAD_ENVIRONMENT)
def test_bad_environment_variables_are_named(setting: str) -> None:
    variable, value = setting.split("=", 1)
    with pytest.raises(PolicyError) as caught:
        SpendPolicy.from_env({variable: value})
    assert "the environment" in str(caught.value) or variable in str(caught.value)
    assert BAD_ENVIRONMENT[setting] in str(caught.value)
