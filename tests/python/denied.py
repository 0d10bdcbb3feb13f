#!/usr/bin/env python3
"""As a caller whose role lacks a capability: list the tools (the tool is not offered) and call it
anyway (a tool error, not a protocol error)."""

import asyncio

from clients import Wire, connect, emit, parse_args


async def main() -> None:
    a = parse_args(__doc__.splitlines()[0])
    async with connect(a, Wire()) as s:
        tools = await s.tool_names()
        r = await s.call("list_nodes", {})
    emit({"tools": tools, "is_error": r.is_error, "text": r.text})


if __name__ == "__main__":
    asyncio.run(main())
