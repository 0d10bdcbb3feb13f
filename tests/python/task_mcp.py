#!/usr/bin/env python3
"""The official SDK and the tasks extension: call `run_health_check` as a client that declares
`io.modelcontextprotocol/tasks`, poll `tasks/get` until the task ends, report the statuses seen.

`mcp` 2.3 has the client-extension mechanism (SEP-2133: capability ad, result claims,
`send_request` with `Mcp-Name` stamping) but ships no tasks extension, so the SEP-2663 wire models
below are this script's. On a 2025-11-25 connection the SDK does not advertise extensions and the
call is answered with the plain result.
"""

import asyncio
import time
from typing import Any, Literal

import mcp_types
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from pydantic import ConfigDict, Field

from clients import Wire, connect, emit, parse_args

TERMINAL = {"completed", "failed", "cancelled"}


class TaskFields(mcp_types.Result):
    model_config = ConfigDict(populate_by_name=True)
    task_id: str = Field(alias="taskId")
    status: str
    poll_interval_ms: int | None = Field(default=None, alias="pollIntervalMs")


class CreateTaskResult(TaskFields):
    """`tools/call` answered with a task (`resultType: "task"`)."""

    result_type: Literal["task"] = Field(alias="resultType")


class GetTaskResult(TaskFields):
    """`tasks/get`: the task, and its result or error once it ended."""

    result_type: Literal["complete"] = Field(alias="resultType")
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class TaskIdParams(mcp_types.RequestParams):
    model_config = ConfigDict(populate_by_name=True)
    task_id: str = Field(serialization_alias="taskId")


class GetTaskRequest(mcp_types.Request[TaskIdParams, Literal["tasks/get"]]):
    method: Literal["tasks/get"] = "tasks/get"
    params: TaskIdParams
    name_param = "taskId"  # SEP-2663: tasks/* carry the task id in the Mcp-Name header


async def _not_resolved(_task: CreateTaskResult, _ctx: ClaimContext) -> mcp_types.CallToolResult:
    raise RuntimeError("this script polls the task itself")


class Tasks(ClientExtension):
    identifier = "io.modelcontextprotocol/tasks"

    def claims(self):
        return (ResultClaim(result_type="task", model=CreateTaskResult, resolve=_not_resolved),)


async def main() -> None:
    a = parse_args(__doc__.splitlines()[0], library="mcp")
    wire = Wire()
    summary: dict[str, Any] = {}
    async with connect(a, wire, extensions=[Tasks()]) as s:
        session = s.client.session
        summary["negotiated"] = s.protocol_version
        answer = await session.call_tool("run_health_check", {}, allow_claimed=True)
        if not isinstance(answer, CreateTaskResult):
            summary.update(kind="result", is_error=answer.is_error)
        else:
            summary.update(kind="task", task_id=answer.task_id, created=answer.status)
            statuses, deadline = [], time.monotonic() + 30
            while True:
                request = GetTaskRequest(params=TaskIdParams(task_id=answer.task_id))
                got = await session.send_request(request, GetTaskResult)
                statuses.append(got.status)
                if got.status in TERMINAL or time.monotonic() > deadline:
                    break
                await asyncio.sleep(min(got.poll_interval_ms or 1000, 250) / 1000)
            result = got.result or {}
            summary.update(
                statuses=statuses,
                is_error=result.get("isError"),
                checks=len((result.get("structuredContent") or {}).get("checks", [])),
            )
        # A short tool is never a task, even for a client that takes tasks.
        short = await session.call_tool("whoami", {}, allow_claimed=True)
        summary["short_tool_kind"] = "task" if isinstance(short, CreateTaskResult) else "result"
    summary["wire"] = wire.requests
    emit(summary)


if __name__ == "__main__":
    asyncio.run(main())
