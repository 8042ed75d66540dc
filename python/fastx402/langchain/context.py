"""Who a tool call spends for: the user id read from ``ToolRuntime.context``.

``create_agent(..., context_schema=Ctx)`` and ``agent.invoke(..., context=Ctx(user_id="alice"))``
give every tool call a runtime whose ``context`` is that object (a dataclass, a pydantic model or
a dict). The tools read the user id from one configurable field and charge that user's budgets
(``Budget(per="user")``); the model never sees or sets it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from langchain_core.tools import InjectedToolArg

from fastx402.client import Spender

# The argument LangGraph's ToolNode fills with the ToolRuntime (by this name), hidden from the
# model. ``Any``: a ToolRuntime has no JSON schema, and a tool called outside an agent gets None.
Runtime = Annotated[Any, InjectedToolArg]
DEFAULT_USER_FIELD = "user_id"


def user_of(runtime: Any, field: str) -> str | None:
    """The user id in ``runtime.context`` (None: no runtime, no context, or no such field)."""
    context = getattr(runtime, "context", None)
    if context is None:
        return None
    value = context.get(field) if isinstance(context, Mapping) else getattr(context, field, None)
    return None if value is None else str(value)


def spender_for(tool: str, runtime: Any, field: str, agent: str | None = None) -> Spender:
    return Spender(agent=agent, tool=tool, user=user_of(runtime, field))


def tool_call_id_of(runtime: Any) -> str | None:
    value = getattr(runtime, "tool_call_id", None)
    return None if value is None else str(value)


__all__ = ["DEFAULT_USER_FIELD", "Runtime", "spender_for", "tool_call_id_of", "user_of"]
