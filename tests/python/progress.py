#!/usr/bin/env python3
"""Call `run_health_check` with a progress callback; report every progress notification the
callback received, in order, and the result."""

import asyncio

from clients import Wire, connect, emit, parse_args


async def main() -> None:
    a = parse_args(__doc__.splitlines()[0])
    seen: list[dict] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append({"progress": progress, "total": total, "message": message})

    async with connect(a, Wire()) as s:
        r = await s.call("run_health_check", {}, progress=on_progress)
        negotiated = s.protocol_version
    checks = r.structured.get("checks", []) if isinstance(r.structured, dict) else []
    emit(
        {
            "negotiated": negotiated,
            "is_error": r.is_error,
            "progress": seen,
            "checks": len(checks),
            "error": r.text if r.is_error else None,
        }
    )


if __name__ == "__main__":
    asyncio.run(main())
