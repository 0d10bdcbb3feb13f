"""The peer `bench compare` measures the control plane against: what a user would write instead.

A FastMCP server over Streamable HTTP, stateless, answering in JSON, with one tool, `list_nodes`,
that runs the Teleport CLI inline (the same argv and identity as the benchmark's own simulator
timing) and returns its parsed JSON. In "postgres" mode each call is also recorded in Postgres, as
an audit trail would be: a row inserted running, the CLI run, the row updated with the result, on a
psycopg connection pool; the table is created here, in the database the DSN names.

    python fastmcp_peer.py --mode inline|postgres --port 8765 [--dsn postgres://…]
        --tctl PATH --auth-server ADDR --identity FILE

Mode, DSN and port may also come from PEER_MODE, PEER_DSN and PEER_PORT.
"""

import argparse
import asyncio
import json
import os

from fastmcp import FastMCP
from fastmcp.exceptions import ToolError

SCHEMA = """
CREATE TABLE IF NOT EXISTS peer_operations (
    id bigserial PRIMARY KEY,
    tool text NOT NULL,
    status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    created_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz,
    exit_code int,
    result jsonb
)
"""


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=["inline", "postgres"], default=os.environ.get("PEER_MODE", "inline"))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=int(os.environ.get("PEER_PORT", "8765")))
    p.add_argument("--dsn", default=os.environ.get("PEER_DSN"))
    p.add_argument("--pool-size", type=int, default=16)
    p.add_argument("--tctl", required=True)
    p.add_argument("--auth-server", required=True)
    p.add_argument("--identity", required=True)
    args = p.parse_args()
    if args.mode == "postgres" and not args.dsn:
        p.error("--mode postgres needs --dsn (or PEER_DSN)")
    return args


def build(args, pool):
    mcp = FastMCP("fastmcp-peer")
    argv = [args.tctl, "--auth-server", args.auth_server, "-i", args.identity, "get", "nodes", "--format=json"]

    async def run_tctl():
        # argv only, no shell; the event loop keeps serving other calls while the CLI runs.
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL
        )
        out, err = await proc.communicate()
        return proc.returncode, out, err

    @mcp.tool
    async def list_nodes() -> dict:
        """List the cluster's SSH nodes (tctl get nodes)."""
        op = None
        if pool is not None:
            async with pool.connection() as conn:
                cur = await conn.execute(
                    "INSERT INTO peer_operations (tool, status) VALUES ('list_nodes', 'running') RETURNING id"
                )
                op = (await cur.fetchone())[0]
        code, out, err = await run_tctl()
        nodes = json.loads(out) if code == 0 else None
        if pool is not None:
            async with pool.connection() as conn:
                await conn.execute(
                    "UPDATE peer_operations SET status = %s, exit_code = %s, result = %s, ended_at = now() WHERE id = %s",
                    ("succeeded" if code == 0 else "failed", code, json.dumps(nodes), op),
                )
        if code != 0:
            raise ToolError(f"tctl exited with {code}: {err.decode(errors='replace')[:500]}")
        return {"nodes": nodes}

    return mcp


async def main():
    args = parse_args()
    pool = None
    if args.mode == "postgres":
        from psycopg_pool import AsyncConnectionPool

        pool = AsyncConnectionPool(args.dsn, min_size=2, max_size=args.pool_size, open=False)
        await pool.open(wait=True)
        async with pool.connection() as conn:
            await conn.execute(SCHEMA)
    mcp = build(args, pool)
    try:
        await mcp.run_async(
            transport="http",
            show_banner=False,
            host=args.host,
            port=args.port,
            path="/mcp",
            log_level="warning",
            stateless_http=True,
            json_response=True,
        )
    finally:
        if pool is not None:
            await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
