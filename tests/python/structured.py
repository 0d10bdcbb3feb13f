#!/usr/bin/env python3
"""Call `list_nodes` and report its structured content (the typed JSON a client acts on) and
whether the text block carries the same JSON, inside its marked untrusted-data section, for clients
that read text only."""

import asyncio
import json
import re

from clients import Wire, connect, emit, parse_args


async def main() -> None:
    a = parse_args(__doc__.splitlines()[0])
    async with connect(a, Wire()) as s:
        r = await s.call("list_nodes", {})
    data = r.structured if isinstance(r.structured, dict) else {}
    section = re.search(r'<untrusted-data format="json">\n(.*)\n</untrusted-data>', r.text or "", re.S)
    try:
        text_json = json.loads(section.group(1)) if section else None
    except ValueError:
        text_json = None
    emit(
        {
            "is_error": r.is_error,
            "count": data.get("count"),
            "stale_count": data.get("stale_count"),
            "names": sorted(n.get("name") for n in data.get("nodes", [])),
            "text_is_structured": text_json == r.structured,
            "text_head": (r.text or "")[:400],
            "error": r.text if r.is_error else None,
        }
    )


if __name__ == "__main__":
    asyncio.run(main())
