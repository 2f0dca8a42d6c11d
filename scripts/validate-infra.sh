#!/usr/bin/env bash
# Validates infra/bicep offline: fetches the Bicep CLI through NuGet (tools/bicep), then builds and lints
# main.bicep. Any error or warning fails the script (local modules only: registry modules need the network).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

version="$(dotnet msbuild tools/bicep/BicepCli.csproj -getProperty:BicepCliVersion)"
packages="${NUGET_PACKAGES:-$(dotnet nuget locals global-packages --list | sed 's/^global-packages: *//')}"
bicep="${packages%/}/azure.bicep.commandline.linux-x64/$version/tools/bicep"
if [ ! -f "$bicep" ]; then
  dotnet restore tools/bicep/BicepCli.csproj --verbosity quiet
fi
[ -x "$bicep" ] || chmod u+x "$bicep"

"$bicep" build infra/bicep/main.bicep --stdout > /dev/null
diagnostics="$("$bicep" lint infra/bicep/main.bicep 2>&1)" || { echo "$diagnostics"; exit 1; }
if [ -n "$diagnostics" ]; then
  echo "$diagnostics"
  echo "infra: bicep lint reported warnings" >&2
  exit 1
fi
echo "infra: bicep build and lint clean"
