#!/usr/bin/env bash
# Builds everything and runs every test project. The README and .ci/run call exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build PatchCore.sln -c Release
dotnet test PatchCore.sln -c Release --no-build --logger "console;verbosity=normal"
