#!/usr/bin/env bash
# The main job on shipped defaults: build the sample bank from samples/bottle/train/good (once), then score
# samples/bottle/test, writing heatmaps to out/heatmaps.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
bank=samples/bank/bottle.pcbank
if [ ! -f "$bank" ]; then
  dotnet run --project src/PatchCore.Cli -c Release -- build --train samples/bottle/train/good --out "$bank"
fi
dotnet run --project src/PatchCore.Cli -c Release -- score --bank "$bank" samples/bottle/test --heatmaps out/heatmaps
