#!/usr/bin/env bash
# The main job on shipped defaults: the line-side inspection daemon on the samples.
#  1. builds the sample bank from samples/bottle/train/good (once: samples/bank/bottle.pcbank);
#  2. starts the daemon on out/quickstart/inbox -> out/quickstart/outbox and drops samples/bottle/test into the inbox;
#  3. waits until every image has its record, prints the verdicts, then stops the daemon with SIGTERM.
# Pass --keep-running to leave the daemon running (Ctrl+C stops it) and drop more images into the inbox yourself.
# Pass --http to serve the HTTP API and the live page as well, on http://127.0.0.1:8080 (loopback only).
set -euo pipefail
keep_running=0 http=()
for arg in "$@"; do
  case "$arg" in
    --keep-running) keep_running=1 ;;
    --http) http=(--Inspection:Http:Urls=http://127.0.0.1:8080) ;;
    *) echo "usage: bash tools/quickstart.sh [--keep-running] [--http]" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

bank=samples/bank/bottle.pcbank
if [ ! -f "$bank" ]; then
  dotnet run --project src/PatchCore.Cli -c Release -- build --train samples/bottle/train/good --out "$bank"
fi
dotnet build src/PatchCore.Inspection -c Release -v quiet -nologo | grep -vE "^\s*$" || true

root=out/quickstart
rm -rf "$root"
mkdir -p "$root/inbox" "$root/outbox"
dotnet src/PatchCore.Inspection/bin/Release/net10.0/PatchCore.Inspection.dll \
  --Inspection:Inbox="$root/inbox" --Inspection:Bank="$bank" --Inspection:Outbox="$root/outbox" \
  --Inspection:SettleMs=500 "${http[@]}" &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null || true' EXIT

want=$(ls samples/bottle/test | wc -l)
for f in samples/bottle/test/*; do
  # write under a temporary name, then rename: the daemon takes a renamed file at once
  cp "$f" "$root/inbox/.$(basename "$f").part" && mv "$root/inbox/.$(basename "$f").part" "$root/inbox/$(basename "$f")"
done
for _ in $(seq 1 120); do
  got=$( [ -f "$root/outbox/results.jsonl" ] && wc -l < "$root/outbox/results.jsonl" || echo 0)
  [ "$got" -ge "$want" ] && break
  kill -0 $daemon 2>/dev/null || { echo "the daemon stopped early" >&2; exit 1; }
  sleep 1
done

echo
echo "Verdicts (from $root/outbox/results.jsonl):"
python3 - "$root/outbox/results.jsonl" <<'PY' 2>/dev/null || cat "$root/outbox/results.jsonl"
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    score = f"{r['score']:.3f}" if r.get('score') is not None else "-"
    print(f"  {r['verdict']:<11} score {score:>8}  {r['originalName']}  -> {r.get('path')}")
PY
echo "Sorted images: $root/outbox/ok, $root/outbox/review, $root/outbox/ng; heatmaps: $root/outbox/heatmaps; health: $root/outbox/health.json"
if [ ${#http[@]} -gt 0 ]; then
  echo "Live page: http://127.0.0.1:8080/ (results, heatmaps, counts); API: curl http://127.0.0.1:8080/v1/results?limit=5"
fi

if [ "$keep_running" = 1 ]; then
  echo "The daemon keeps running: drop images into $root/inbox; Ctrl+C stops it."
  trap - EXIT
  wait $daemon
else
  kill -TERM $daemon
  wait $daemon
  trap - EXIT
fi
