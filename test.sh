#!/usr/bin/env bash
# The one test command: installs what the tests need (when it can), starts the Redis they share, runs
# `dotnet test Downloads.sln` with this script's arguments (so `--filter` works), and stops what it started.
#
#   ./test.sh                          everything
#   ./test.sh --filter "FullyQualifiedName~Redis"
#   ./test.sh --check                  list what is present and what would be installed; install and run nothing
set -euo pipefail
# Run from the repository root whatever the caller's folder (and with no PATH, as the script's own check does).
case "$0" in */*) cd "${0%/*}" ;; esac

# command -> the Debian package that provides it
tools=(redis-server:redis-server redis-cli:redis-tools nginx:nginx chromium:chromium node:nodejs npm:npm)

missing=()
for entry in "${tools[@]}"; do
  command="${entry%%:*}" package="${entry#*:}"
  if path=$(command -v "$command"); then
    [ "${1:-}" = --check ] && echo "found   $command: $path"
  else
    [ "${1:-}" = --check ] && echo "missing $command (Debian package $package)"
    [[ " ${missing[*]-} " == *" $package "* ]] || missing+=("$package")
  fi
done
install_line="apt-get install -y --no-install-recommends ${missing[*]-}"

if [ "${1:-}" = --check ]; then
  if [ ${#missing[@]} -eq 0 ]; then echo "nothing to install"; else echo "would run: $install_line"; fi
  exit 0
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif sudo -n true 2>/dev/null; then
    sudo=(sudo)
  else
    echo "The tests need: ${missing[*]}. Install them, then run ./test.sh again:" >&2
    echo "  sudo apt-get update && sudo $install_line" >&2
    exit 2
  fi
  echo "Installing ${missing[*]}…"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's nginx starts a default site on port 80 at install; the tests run their own instances.
  if [[ " ${missing[*]} " == *" nginx "* ]]; then
    ("${sudo[@]}" service nginx stop || "${sudo[@]}" pkill -x nginx || true) >/dev/null 2>&1
  fi
fi

# One Redis on loopback shared by the tests (each app uses its own key prefix); they find it through DOWNLOADS_TEST_REDIS.
# A caller that already has one (DOWNLOADS_TEST_REDIS set) keeps it.
if [ -z "${DOWNLOADS_TEST_REDIS:-}" ]; then
  redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 6390)
  redis_dir=$(mktemp -d)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --dir "$redis_dir" \
    --maxmemory-policy noeviction --logfile "$redis_dir/redis.log" --pidfile "$redis_dir/redis.pid"
  trap 'redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$redis_dir"' EXIT
  for _ in $(seq 1 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  export DOWNLOADS_TEST_REDIS="127.0.0.1:${redis_port}"
fi

# The S3 tests' server: s3rver (npm, pinned in tools/s3rver/package-lock.json), where Downloads.Tests/Infrastructure/S3rverServer.cs looks for it.
[ -f tools/s3rver/node_modules/s3rver/bin/s3rver.js ] || npm ci --prefix tools/s3rver --no-audit --no-fund --loglevel=error

dotnet test Downloads.sln "$@"
