#!/usr/bin/env bash
# One command: build Release, start a private redis-server, the bare baseline, the service in memory (role all)
# and in Redis mode (two API nodes, one then two worker nodes), run every scenario, print the table and the JSON
# path, and stop everything this script started. Loopback only. Sizes: see bench/README.md (BENCH_* variables).
#   bench/run.sh                 full run (~6–8 minutes)
#   BENCH_QUICK=1 bench/run.sh   tiny sizes (~1 minute), to check the machinery
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

quick=${BENCH_QUICK:-0}
if [[ $quick == 1 ]]; then d=3; w=1; samples=5; jobs=20; files=5; big=100; conns=500; bjobs=20; fsamples=3
else d=10; w=2; samples=40; jobs=200; files=10; big=1000; conns=10000; bjobs=300; fsamples=10; fi
duration=${BENCH_DURATION:-$d}
warmup=${BENCH_WARMUP:-$w}
samples=${BENCH_SAMPLES:-$samples}
jobs=${BENCH_JOBS:-$jobs}
files=${BENCH_FILES:-$files}
big=${BENCH_BIG:-$big}
conns=${BENCH_HUB_CONNECTIONS:-$conns}
bjobs=${BENCH_BACKPLANE_JOBS:-$bjobs}
load_rps=${BENCH_LOAD_RPS:-50}
base=${BENCH_PORT_BASE:-47300}
out=${BENCH_OUT:-bench/results/latest.json}

redis_port=$base; baseline_port=$((base+1)); inmem_port=$((base+2)); api1_port=$((base+3)); api2_port=$((base+4))
worker1_port=$((base+5)); worker2_port=$((base+6))
for port in $(seq "$base" $((base+6))); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "port $port is in use: set BENCH_PORT_BASE" >&2; exit 1; fi
done

# Many hub connections need many descriptors (raise the hard limit too where allowed, e.g. as root).
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d /tmp/downloads-bench.XXXXXX)
pids=()
cleanup() {
  if [[ -n ${bench_pid:-} ]]; then kill "$bench_pid" 2>/dev/null || true; fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "== build (Release)"
for project in Downloads.Api bench/Baseline bench/Downloads.Bench; do
  dotnet build "$project" -c Release -p:SkipClientBuild=true -nologo -v quiet >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
done
api_dir=$root/Downloads.Api/bin/Release/net10.0
bench_dll=$root/bench/Downloads.Bench/bin/Release/net10.0/Downloads.Bench.dll
# A scenario that fails is reported and the run goes on with the next one.
# In the background and waited for, so that Ctrl-C stops it at once (the trap runs during a wait).
bench_pid=
run_bench() {
  dotnet "$bench_dll" "$@" >/dev/null &
  bench_pid=$!
  wait "$bench_pid" || echo "   !! scenario $1 failed (exit $?)" >&2
  bench_pid=
}

wait_http() { # url name
  for _ in $(seq 1 300); do
    if curl -fs -o /dev/null "$1"; then return 0; fi
    sleep 0.1
  done
  echo "$2 did not answer at $1; its log:" >&2; tail -30 "$work/$2.log" >&2; exit 1
}

# A node of the service: name port role [redis]; production settings, logs at Warning, files with no delay.
node() {
  local name=$1 port=$2 role=$3 redis=${4:-}
  (
    cd "$api_dir"
    export ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS="http://127.0.0.1:$port" Downloads__Role=$role
    export Downloads__Links__SigningKey=bench-link-signing-key-0123456789abcdef-0123456789 Downloads__Webhooks__SigningSecret=whsec_YmVuY2gtd2ViaG9vay1zaWduaW5nLXNlY3JldC0wMTIzNDU2Nzg5
    export Downloads__Processing__DelayMinMs=0 Downloads__Processing__DelayMaxMs=0 Downloads__RateLimiting__InitiatePerMinute=0 Downloads__RateLimiting__MaxActiveJobsPerClient=0
    export Serilog__MinimumLevel__Default=Warning
    if [[ -n $redis ]]; then export ConnectionStrings__Redis=$redis; fi
    exec dotnet Downloads.Api.dll
  ) >"$work/$name.log" 2>&1 &
  pids+=($!)
  eval "${name}_pid=$!"
  wait_http "http://127.0.0.1:$port/health" "$name"
}

echo "== start redis-server :$redis_port, baseline, in-memory node, two API nodes"
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work" --save "" --appendonly yes --appendfsync everysec \
  --maxmemory-policy noeviction >"$work/redis.log" 2>&1 &
pids+=($!)
redis="127.0.0.1:$redis_port"
for _ in $(seq 1 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
(cd "$root/bench/Baseline/bin/Release/net10.0" && exec env ASPNETCORE_URLS="http://127.0.0.1:$baseline_port" dotnet Baseline.dll) >"$work/baseline.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$baseline_port/health" baseline
node inmem "$inmem_port" all
node api1 "$api1_port" api "$redis"
node api2 "$api2_port" api "$redis"
api1=http://127.0.0.1:$api1_port; api2=http://127.0.0.1:$api2_port; inmem=http://127.0.0.1:$inmem_port

# Waits until no Hangfire job is queued or running (the previous scenario's work is done), at most 120 s.
drain() {
  for _ in $(seq 1 1200); do
    queued=$(redis-cli -p "$redis_port" llen "downloads:hangfire:queue:downloads")
    running=$(redis-cli -p "$redis_port" llen "downloads:hangfire:queue:downloads:dequeued")
    [[ $queued == 0 && $running == 0 ]] && return 0
    sleep 0.1
  done
  echo "(queue still not drained: $queued queued, $running running)" >&2
}

echo "== 1. initiate (Redis mode without a worker: the request path alone; then in memory, role all)"
run_bench initiate --reset --out "$out" --connections 64,256 --duration "$duration" --warmup "$warmup" \
  --targets "baseline=http://127.0.0.1:$baseline_port,redis-api=$api1,inmem-all=$inmem"
echo "   in-memory node RSS after: $(grep VmRSS /proc/$inmem_pid/status)"
kill "$inmem_pid"
# The queued pile of scenario 1 is dropped: no Hangfire server has run on this Redis yet.
redis-cli -p "$redis_port" flushall

echo "== start worker 1"
node worker1 "$worker1_port" worker "$redis"
wait_http "http://127.0.0.1:$worker1_port/health/ready" worker1

echo "== 2. initiate -> first progress (1 worker), idle and under $load_rps initiates/s"
run_bench first-progress --out "$out" --api "$api1" --samples "$samples" --budget 30
drain
run_bench first-progress --out "$out" --api "$api1" --samples "$samples" --load-rps "$load_rps" --budget 30
drain

echo "== 5. files/s, 1 worker"
run_bench files --out "$out" --api "$api1" --jobs "$jobs" --files "$files" --label "1 worker"
drain

echo "== start worker 2"
node worker2 "$worker2_port" worker "$redis"
wait_http "http://127.0.0.1:$worker2_port/health/ready" worker2
echo "== 5. files/s, 2 workers"
run_bench files --out "$out" --api "$api1" --jobs "$jobs" --files "$files" --label "2 workers"
drain

echo "== 3. backplane: clients on both API nodes, 2 workers"
run_bench backplane --out "$out" --api "$api1" --api2 "$api2" --redis "$redis" --prefix downloads: \
  --jobs "$bjobs" --files "$files" --events-per-second 2000
drain

echo "== 6. fairness (2 workers)"
run_bench fairness --out "$out" --api "$api1" --big "$big" --samples "$fsamples"
drain

echo "== 4. hub connections held by API node 1 (ulimit -n $(ulimit -n))"
run_bench connections --out "$out" --api "$api1" --pid "$api1_pid" --count "$conns" --jobs 100 --budget 180

echo "== redis: $(redis-cli -p "$redis_port" info memory | grep used_memory_human)"
dotnet "$bench_dll" report --out "$out"
echo "JSON: $out"
