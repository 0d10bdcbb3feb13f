"""What the client scripts share: their command line, a log of what went over the wire, one
connection per library behind the same three calls, and the JSON summary line they print.

Every script takes `--library mcp|fastmcp` and `--mode legacy|auto|2026-07-28` (the libraries' own
`mode=`: `legacy` forces the 2025-11-25 `initialize` handshake, `auto` probes `server/discover`
and falls back to `initialize`, a version pins that revision). The endpoint and the bearer key come
from MCP_URL and MCP_TOKEN. The last line a script prints is its JSON summary.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx2

META_VERSION = "io.modelcontextprotocol/protocolVersion"

Progress = Callable[[float, float | None, str | None], Awaitable[None]]


def parse_args(
    description: str, library: str | None = None, flags: dict[str, str] | None = None
) -> argparse.Namespace:
    """The common options; a script for one library names it as `library`; `flags` adds on/off
    switches (name -> help)."""
    ap = argparse.ArgumentParser(description=description)
    if library is None:
        ap.add_argument("--library", choices=["mcp", "fastmcp"], required=True)
    else:
        ap.set_defaults(library=library)
    ap.add_argument("--mode", default="auto", help="legacy | auto | 2026-07-28")
    for flag, help in (flags or {}).items():
        ap.add_argument(flag, action="store_true", help=help)
    a = ap.parse_args()
    a.url = os.environ.get("MCP_URL") or ap.error("MCP_URL is not set")
    a.token = os.environ.get("MCP_TOKEN") or ap.error("MCP_TOKEN is not set")
    return a


class Wire:
    """Records each HTTP request the library sends: the JSON-RPC method, the MCP-Protocol-Version
    header, the revision stamped in the body's `_meta` (2026-07-28) and the one `initialize` asked for."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    async def record(self, request: httpx2.Request) -> None:
        try:
            body = json.loads(request.content) if request.content else {}
        except (ValueError, httpx2.RequestNotRead):
            body = {}
        params = body.get("params") if isinstance(body, dict) else None
        params = params if isinstance(params, dict) else {}
        self.requests.append(
            {
                "http": request.method,
                "method": body.get("method") if isinstance(body, dict) else None,
                "header": request.headers.get("mcp-protocol-version"),
                "mcp_name": request.headers.get("mcp-name"),
                "meta": (params.get("_meta") or {}).get(META_VERSION),
                "requested": params.get("protocolVersion"),
            }
        )

    def hook(self, client: httpx2.AsyncClient) -> httpx2.AsyncClient:
        client.event_hooks.setdefault("request", []).append(self.record)
        return client


@dataclass
class Outcome:
    """A tool result as a user reads it."""

    is_error: bool
    text: str
    structured: Any


class McpSdkSession:
    """The official SDK: `mcp.Client` over `streamable_http_client` with our own httpx2 client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    @property
    def protocol_version(self) -> str | None:
        return self.client.protocol_version

    async def tool_names(self) -> list[str]:
        return [t.name for t in (await self.client.list_tools()).tools]

    async def call(self, name: str, args: dict[str, Any], progress: Progress | None = None) -> Outcome:
        r = await self.client.call_tool(name, args, progress_callback=progress)
        return Outcome(bool(r.is_error), _text(r.content), r.structured_content)


class FastMcpSession:
    """fastmcp's `Client` over `StreamableHttpTransport` (bearer key via `auth=`)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    @property
    def protocol_version(self) -> str | None:
        return self.client.protocol_version

    async def tool_names(self) -> list[str]:
        return [t.name for t in await self.client.list_tools()]

    async def call(self, name: str, args: dict[str, Any], progress: Progress | None = None) -> Outcome:
        r = await self.client.call_tool(name, args, progress_handler=progress, raise_on_error=False)
        return Outcome(bool(r.is_error), _text(r.content), r.structured_content)


def _text(content: list[Any]) -> str:
    return "\n".join(getattr(block, "text", "") for block in content)


@contextlib.asynccontextmanager
async def connect(a: argparse.Namespace, wire: Wire, **client_kwargs: Any) -> AsyncIterator[Any]:
    """Connect with the chosen library and mode; `client_kwargs` go to the library's `Client`."""
    if a.library == "mcp":
        from mcp import Client
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        http = wire.hook(create_mcp_http_client(headers={"Authorization": f"Bearer {a.token}"}))
        async with http:
            transport = streamable_http_client(a.url, http_client=http)
            async with Client(transport, mode=a.mode, **client_kwargs) as client:
                yield McpSdkSession(client)
    else:
        from fastmcp import Client
        from fastmcp.client.transports import StreamableHttpTransport

        def factory(**kwargs: Any) -> httpx2.AsyncClient:
            kwargs.setdefault("timeout", httpx2.Timeout(30.0, read=300.0))
            return wire.hook(httpx2.AsyncClient(**kwargs))

        transport = StreamableHttpTransport(a.url, auth=a.token, httpx_client_factory=factory)
        async with Client(transport, mode=a.mode, **client_kwargs) as client:
            yield FastMcpSession(client)


def emit(summary: dict[str, Any]) -> None:
    """Print the summary as the script's last line."""
    print(json.dumps(summary, default=str), flush=True)
    sys.stdout.flush()
