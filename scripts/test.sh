#!/usr/bin/env bash
# Installs everything the tests need on a fresh machine of this kind, validates infra/bicep, then runs every test.
#   Debian packages: redis-server, chromium (the console's browser tests) and fonts-inter (the console's font, so
#   screenshots look as designed); into .tools/node: Azurite, the reference MCP server ("server-everything"), the
#   TypeScript MCP SDK and the peer gateways used by the benchmarks.
# Then the official MCP conformance suite, directly and through the gateway (scripts/conformance.sh, which installs
# the runner and its Node 22 into .tools/conformance).
# Extra arguments go to `dotnet test` (e.g. --filter "FullyQualifiedName~Admin") and skip the conformance runs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -d /usr/share/fonts/opentype/inter ] || missing+=(fonts-inter)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

tools="$root/.tools/node"
mkdir -p "$tools"
if ! cmp -s tests/node/package.json "$tools/package.json" || [ ! -d "$tools/node_modules" ]; then
  cp tests/node/package.json "$tools/package.json"
  (cd "$tools" && npm install --no-package-lock --no-audit --no-fund --loglevel=error)
fi
export MCP_TEST_NODE_MODULES="$tools/node_modules"

# The Azure infrastructure must build and lint clean (Bicep CLI from NuGet, offline).
./scripts/validate-infra.sh

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
dotnet test "$root/McpServerless.sln" -c Release "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if [ $# -eq 0 ]; then
  ./scripts/conformance.sh || status=1
fi
set -e

# One plain summary line over all test assemblies.
awk '/(Passed|Failed)!/ {
       for (i = 1; i <= NF; i++) {
         if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1)
       }
     }
     END { gsub(",", "", p); printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
