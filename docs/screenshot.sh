#!/usr/bin/env bash
# Regenerates docs/screenshot.png: the page at 1200x900 with one completed and one running job.
# Not part of the test suite (tests never write into the repository). Needs Node and /usr/bin/chromium;
# drives chromium with the playwright-core that the Microsoft.Playwright package copies into the tests' bin/.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${PORT:-5399}"
base="http://127.0.0.1:${port}"

dotnet build Downloads.Tests -nologo -v quiet

# Files slow enough that the second job is caught mid-way; two at a time so the table shows every state.
(
  cd Downloads.Api
  ASPNETCORE_ENVIRONMENT=Development \
  Downloads__Processing__DelayMinMs=2500 Downloads__Processing__DelayMaxMs=2500 \
  Downloads__Processing__MaxParallelFilesPerJob=2 \
  Serilog__MinimumLevel__Default=Warning \
  exec dotnet bin/Debug/net10.0/Downloads.Api.dll --urls "$base"
) &
api_pid=$!
trap 'kill "$api_pid" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do curl -fs "$base/health" >/dev/null && break; sleep 0.2; done
curl -fs "$base/health" >/dev/null

node docs/screenshot.mjs "$base" docs/screenshot.png
echo "wrote docs/screenshot.png"
