#!/usr/bin/env python3
"""fastmcp with fastmcp-tasks (the tasks extension's client half): call `run_health_check` as a
task with `call_tool_task`, then drive the handle to its result; report what happened.

fastmcp-tasks 4.1.4 sends `tasks/get` without the `Mcp-Name: <taskId>` header that SEP-2663 requires
(its request models leave the SDK's `name_param` unset), and the gateway refuses such a request.
`--send-mcp-name` sets `name_param` on those models, which is all the fix takes.
"""

import asyncio
from typing import Any

# Importing fastmcp_tasks registers the tasks extension on every fastmcp Client.
from fastmcp_tasks import call_tool_task, client_models

from clients import Wire, connect, emit, parse_args


async def main() -> None:
    a = parse_args(
        __doc__.splitlines()[0],
        library="fastmcp",
        flags={"--send-mcp-name": "work around fastmcp-tasks 4.1.4 omitting Mcp-Name on tasks/*"},
    )
    if a.send_mcp_name:
        for model in (client_models.GetTaskRequest, client_models.UpdateTaskRequest, client_models.CancelTaskRequest):
            model.name_param = "taskId"
    wire = Wire()
    summary: dict[str, Any] = {}
    async with connect(a, wire) as s:
        summary["negotiated"] = s.protocol_version
        task = await call_tool_task(s.client, "run_health_check", {}, raise_on_error=False)
        summary.update(task_id=task.task_id, created=task.create_result.status)
        try:
            result = await asyncio.wait_for(task.result(), timeout=30)
            checks = (result.structured_content or {}).get("checks", [])
            summary.update(outcome="result", is_error=result.is_error, checks=len(checks))
        except Exception as e:  # what the library raised is the finding
            summary.update(outcome="error", error=f"{type(e).__name__}: {e}")
    summary["wire"] = wire.requests
    emit(summary)


if __name__ == "__main__":
    asyncio.run(main())
