#!/usr/bin/env bash
# The test command (README, .ci/run): installs missing Debian packages, builds everything, runs every test project.
# Projects run one after another: two torch/OpenMP workloads at once on a 2-core machine run several times slower.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build PatchCore.sln -c Release
failed=0
for project in tests/*/*.csproj; do
  echo "=== $project"
  # detailed: passed tests' output (accuracy figures, timings, memory) appears in the log
  dotnet test "$project" -c Release --no-build --logger "console;verbosity=detailed" || failed=1
done
exit $failed
