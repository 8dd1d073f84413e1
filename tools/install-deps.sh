#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need when missing: FAISS headers and static library,
# OpenBLAS, g++; the browser the daemon's live-page test drives (chromium with its chromium-driver, run headless);
# the Mosquitto MQTT broker and its command-line clients, which the daemon's MQTT tests start on loopback.
# Runs apt-get update once, only if something is missing.
set -euo pipefail
need=()
[ -f /usr/include/faiss/index_factory.h ] && [ -f /usr/lib/x86_64-linux-gnu/libfaiss.a ] || need+=(libfaiss-dev)
dpkg -s libopenblas-dev >/dev/null 2>&1 || need+=(libopenblas-dev)
command -v g++ >/dev/null 2>&1 || need+=(g++)
# The live page's browser test (tests/PatchCore.Inspection.Tests/Web): Debian's build, never a downloaded one.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
# The MQTT tests' broker (tests/PatchCore.Inspection.Tests/Mqtt), started by the tests on loopback.
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_sub >/dev/null 2>&1 || need+=(mosquitto-clients)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "Missing Debian packages: ${need[*]}. Install them: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
  echo "Installing ${need[*]} ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
