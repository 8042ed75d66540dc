"""Where a :class:`~fastx402.client.SpendPolicy` comes from besides code: a file or the
environment. Both end in :meth:`SpendPolicy.from_dict` (unknown fields and floats refused).

Files: ``.toml`` (stdlib ``tomllib``; ``tomli`` on Python 3.10), ``.yaml``/``.yml`` (PyYAML,
``pip install 'fastx402[policy]'``) or ``.json``; the top level is the policy's fields::

    max_per_call = "0.05"
    hosts = ["*.example.com"]
    [[budgets]]
    window = "day"
    limit = "1.00"
    per = "user"

Environment: ``FASTX402_POLICY_FILE`` names a policy file; otherwise one variable per field,
``FASTX402_POLICY_<FIELD>``: lists comma-separated (``FASTX402_POLICY_HOSTS=*.example.com``),
``allow_http`` as ``true``/``false``, whole numbers or ``none``, and ``assets``/``budgets`` as
JSON (``FASTX402_POLICY_BUDGETS='[{"window": "day", "limit": "1"}]'``). An unknown
``FASTX402_POLICY_*`` variable is an error, never ignored (a typo must not loosen the policy).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from fastx402.client.policy import INTS, NULLABLE, PolicyError

FILE_VARIABLE = "FASTX402_POLICY_FILE"
PREFIX = "FASTX402_POLICY_"
_JSON_FIELDS = ("assets", "budgets")
_LIST_FIELDS = ("networks", "hosts", "deny_hosts", "pay_to", "deny_pay_to", "prefer_networks")


def _toml(text: str) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib
        except ImportError as e:
            raise PolicyError("TOML policies on Python 3.10 need tomli") from e
    return tomllib.loads(text)


def _yaml(text: str) -> Any:
    try:
        import yaml
    except ImportError as e:
        raise PolicyError("YAML policies need PyYAML: pip install 'fastx402[policy]'") from e
    return yaml.safe_load(text)


def read_policy_file(path: str | os.PathLike[str]) -> Mapping[str, Any]:
    """The fields in a policy file (errors name the file)."""
    p = Path(path)
    readers: dict[str, Callable[[str], Any]] = {
        ".toml": _toml,
        ".yaml": _yaml,
        ".yml": _yaml,
        ".json": json.loads,
    }
    reader = readers.get(p.suffix.lower())
    if reader is None:
        raise PolicyError(f"{p}: a policy file is .toml, .yaml, .yml or .json")
    try:
        data = reader(p.read_text(encoding="utf-8"))
    except PolicyError as e:
        raise PolicyError(f"{p}: {e}") from None
    except (OSError, ValueError) as e:  # unreadable, or not valid TOML/JSON/YAML
        raise PolicyError(f"{p}: {type(e).__name__}: {e}") from None
    except Exception as e:  # PyYAML's errors are not ValueErrors
        if type(e).__module__.startswith("yaml"):
            raise PolicyError(f"{p}: {type(e).__name__}: {e}") from None
        raise
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise PolicyError(f"{p}: the top level is a table of policy fields")
    return data


def _no_float(text: str) -> Any:
    raise PolicyError(f"{text}: a string or Decimal, never a float")


def _from_text(name: str, text: str) -> Any:
    text = text.strip()
    if name in NULLABLE and text.lower() == "none":
        return None
    if name in _JSON_FIELDS:
        try:
            return json.loads(text, parse_float=_no_float)
        except ValueError as e:
            raise PolicyError(f"{name}: not JSON: {e}") from None
    if name in _LIST_FIELDS:
        return [item.strip() for item in text.split(",") if item.strip()]
    if name == "allow_http":
        flags = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
        if text.lower() not in flags:
            raise PolicyError(f"{name}: true or false, not {text!r}")
        return flags[text.lower()]
    if name in INTS:
        try:
            return int(text)
        except ValueError:
            raise PolicyError(f"{name}: a whole number, not {text!r}") from None
    return text


def policy_data_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """The policy fields set by ``FASTX402_POLICY_<FIELD>`` variables."""
    data: dict[str, Any] = {}
    for variable, text in environ.items():
        if not variable.startswith(PREFIX) or variable == FILE_VARIABLE:
            continue
        name = variable[len(PREFIX) :].lower()
        try:
            data[name] = _from_text(name, text)
        except PolicyError as e:
            raise PolicyError(f"{variable}: {e}") from None
    return data
