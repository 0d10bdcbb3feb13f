#!/usr/bin/env python3
"""Connect with a bearer key, list the caller's tools and call `whoami`; report the revision the
library negotiated and what it sent on the wire."""

import asyncio

from clients import Wire, connect, emit, parse_args


async def main() -> None:
    a = parse_args(__doc__.splitlines()[0])
    wire = Wire()
    async with connect(a, wire) as s:
        tools = await s.tool_names()
        who = await s.call("whoami", {})
        negotiated = s.protocol_version
    emit(
        {
            "negotiated": negotiated,
            "tools": tools,
            "whoami": {"is_error": who.is_error, "structured": who.structured},
            "wire": wire.requests,
        }
    )


if __name__ == "__main__":
    asyncio.run(main())
