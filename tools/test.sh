#!/usr/bin/env bash
# The test command (README, .ci/run): installs missing Debian packages, builds everything, runs every test project.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build PatchCore.sln -c Release
dotnet test PatchCore.sln -c Release --no-build --logger "console;verbosity=normal"
