"""Route patterns: which requests a seller charges for.

A pattern is ``"VERB /path"`` or ``"/path"`` (any verb), as in the official SDKs' route tables:

- ``*`` matches any characters, ``/`` included; a trailing ``/*`` also matches the bare prefix;
- ``{param}``, ``:param`` and ``[param]`` match one path segment (no ``/``).

Matching is case-insensitive and runs on the path the ASGI router dispatches on (``scope["path"]``,
already percent-decoded), with and without a trailing slash, so a route cannot be reached unpaid
through another spelling of its path. ``HEAD`` is matched as ``GET`` (routers serve it from the GET
handler). Patterns are compiled once; matching is one regex per route, in table order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

_VERBS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*"})
_PARAM = re.compile(r"\\\{[A-Za-z_]\w*\\\}|\\\[[A-Za-z_]\w*\\\]|:[A-Za-z_]\w*")


class RoutePatternError(ValueError):
    """A route pattern that cannot be compiled (names the pattern)."""


@dataclass(frozen=True)
class CompiledPattern:
    pattern: str
    verb: str
    regex: re.Pattern[str]

    def matches(self, method: str, path: str) -> bool:
        if self.verb != "*" and self.verb != method:
            return False
        if self.regex.match(path):
            return True
        trimmed = path.rstrip("/")
        return trimmed != path and self.regex.match(trimmed or "/") is not None


def compile_pattern(pattern: str) -> CompiledPattern:
    """``"GET /weather/{city}"`` -> a matcher; raises :class:`RoutePatternError`."""
    parts = pattern.strip().split(None, 1)
    if len(parts) == 2:
        verb, path = parts[0].upper(), parts[1]
    elif len(parts) == 1:
        verb, path = "*", parts[0]
    else:
        raise RoutePatternError(f"empty route pattern {pattern!r}")
    if verb not in _VERBS:
        raise RoutePatternError(f"route {pattern!r}: unknown HTTP method {parts[0]!r}")
    if not path.startswith("/") or any(c.isspace() for c in path):
        raise RoutePatternError(f"route {pattern!r}: the path must start with '/', no spaces")
    wildcard_tail = path.endswith("/*")
    body = path[:-2] if wildcard_tail else path
    regex = re.escape(body.rstrip("/") or "/")
    regex = _PARAM.sub(r"[^/]+", regex)
    regex = regex.replace(r"\*", ".*")
    if wildcard_tail:
        regex += r"(?:/.*)?"
    # DOTALL: a decoded path may hold a line feed; it must still match its own route.
    return CompiledPattern(pattern, verb, re.compile(f"^{regex}$", re.IGNORECASE | re.DOTALL))


@dataclass(frozen=True)
class RouteTable(Generic[T]):
    """Patterns and what each one is priced with, matched in order (the first match wins)."""

    entries: tuple[tuple[CompiledPattern, T], ...]

    @classmethod
    def build(cls, routes: dict[str, T]) -> RouteTable[T]:
        return cls(tuple((compile_pattern(p), value) for p, value in routes.items()))

    def match(self, method: str, path: str) -> tuple[str, T] | None:
        """The (pattern, value) priced for this request, or None (not a priced route)."""
        verb = "GET" if method == "HEAD" else method.upper()
        for compiled, value in self.entries:
            if compiled.matches(verb, path):
                return compiled.pattern, value
        return None
