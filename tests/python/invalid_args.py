#!/usr/bin/env python3
"""Call `search_audit` with arguments its schema rejects (out of range, wrong type, unknown field);
each is a tool error telling the model what to fix."""

import asyncio

from clients import Wire, connect, emit, parse_args

BAD = [{"hours": 5000}, {"hours": "many"}, {"since": "yesterday"}]


async def main() -> None:
    a = parse_args(__doc__.splitlines()[0])
    results = []
    async with connect(a, Wire()) as s:
        for args in BAD:
            r = await s.call("search_audit", args)
            results.append({"args": args, "is_error": r.is_error, "text": r.text})
    emit({"results": results})


if __name__ == "__main__":
    asyncio.run(main())
