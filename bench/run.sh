#!/usr/bin/env bash
# One command: builds the service in Release twice — this checkout ("after") and a baseline git ref ("before", from a
# temporary git worktree) — runs the same scenarios against each build, one build after the other on the same ports,
# prints both tables and the before/after table, writes the JSON, and stops everything it started. Loopback only.
#   bench/run.sh                   full run (~20 minutes on 2 quiet cores)
#   BENCH_QUICK=1 bench/run.sh     tiny sizes (~5 minutes), checks the machinery, not the service
#   BENCH_BEFORE=<ref>             the baseline (default 03ea1ad); BENCH_BEFORE=none measures this checkout only
# Other knobs (BENCH_*): see bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

quick=${BENCH_QUICK:-0}
if [[ $quick == 1 ]]; then d=3; w=1; samples=5; jobs=20; files=5; big=100; conns=500; bjobs=20; fsamples=3; djobs=200
else d=10; w=2; samples=40; jobs=200; files=10; big=1000; conns=10000; bjobs=300; fsamples=10; djobs=2000; fi
duration=${BENCH_DURATION:-$d}
warmup=${BENCH_WARMUP:-$w}
samples=${BENCH_SAMPLES:-$samples}
jobs=${BENCH_JOBS:-$jobs}
files=${BENCH_FILES:-$files}
big=${BENCH_BIG:-$big}
conns=${BENCH_HUB_CONNECTIONS:-$conns}
bjobs=${BENCH_BACKPLANE_JOBS:-$bjobs}
djobs=${BENCH_DRAIN_JOBS:-$djobs}
dcallers=${BENCH_DRAIN_CALLERS:-32}
load_rps=${BENCH_LOAD_RPS:-50}
size=${BENCH_SIZE_BYTES:-1024}
before_ref=${BENCH_BEFORE:-03ea1ad}
base=${BENCH_PORT_BASE:-47300}
out=${BENCH_OUT:-bench/results/latest.json}
out_before=${out%.json}-before.json
cache=${BENCH_CACHE:-/tmp/downloads-bench-cache}
logs=${out%.json}-logs # every process's output, kept after the run

redis_port=$base; baseline_port=$((base+1)); inmem_port=$((base+2)); api1_port=$((base+3)); api2_port=$((base+4))
worker1_port=$((base+5)); worker2_port=$((base+6)); all_port=$((base+7))
for port in $(seq "$base" $((base+7))); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "port $port is in use: set BENCH_PORT_BASE" >&2; exit 1; fi
done

# Many hub connections need many descriptors (raise the hard limit too where allowed, e.g. as root).
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d /tmp/downloads-bench.XXXXXX)
rm -rf "$logs"; mkdir -p "$logs"
pids=()
cleanup() {
  if [[ -n ${bench_pid:-} ]]; then kill "$bench_pid" 2>/dev/null || true; fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ -d $work/before ]]; then git worktree remove --force "$work/before" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

build() { # project folder
  dotnet build "$1" -c Release -p:SkipClientBuild=true -nologo -v quiet >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
}
echo "== build this checkout (Release)"
for project in Downloads.Api bench/Baseline bench/Downloads.Bench; do build "$root/$project"; done
after_build="after: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!bench/results' || echo ' + uncommitted changes')"
bench_dll=$root/bench/Downloads.Bench/bin/Release/net10.0/Downloads.Bench.dll

if [[ $before_ref != none ]]; then
  echo "== build the baseline $before_ref (Release, temporary worktree; the build is kept in $cache)"
  git worktree add --quiet --detach "$work/before" "$before_ref"
  before_build="before: $(git -C "$work/before" rev-parse --short HEAD)"
  # A baseline from before the fixed-size setting gets it (only that commit's service code), so both builds
  # hash the same 1 KB files; without it the "before" would pay for megabytes the "after" does not.
  if ! grep -q SyntheticSizeBytes "$work/before/Downloads.Jobs/Storage/StorageOptions.cs"; then
    commit=$(git log --reverse --format=%H -S SyntheticSizeBytes -- Downloads.Jobs/Storage/StorageOptions.cs | head -1)
    if [[ -n $commit ]] && git diff "$commit^" "$commit" -- Downloads.Jobs | git -C "$work/before" apply; then
      before_build+=" + SyntheticSizeBytes (${commit:0:7})"
    else
      before_build+=" (WITHOUT SyntheticSizeBytes: its files have default sizes)"
      echo "   !! could not give $before_ref the SyntheticSizeBytes setting: its files keep default sizes" >&2
    fi
  fi
  # The build is kept, keyed by the commit and the patch, so that the next run with this baseline skips it.
  before_dir=$cache/$(git -C "$work/before" rev-parse HEAD)-$(git -C "$work/before" diff | sha1sum | cut -c1-12)
  if [[ -f $before_dir/Downloads.Api.dll ]]; then
    echo "   (already built: $before_dir)"
  else
    build "$work/before/Downloads.Api"
    rm -rf "$before_dir.tmp"; mkdir -p "$before_dir.tmp"
    cp -r "$work/before/Downloads.Api/bin/Release/net10.0/." "$before_dir.tmp/" && mv "$before_dir.tmp" "$before_dir"
  fi
  git worktree remove --force "$work/before"
fi

# A scenario that fails is reported and the run goes on with the next one.
# In the background and waited for, so that Ctrl-C stops it at once (the trap runs during a wait).
bench_pid=
run_bench() {
  dotnet "$bench_dll" "$@" --out "$pass_out" --build "$pass_build" >/dev/null &
  bench_pid=$!
  wait "$bench_pid" || echo "   !! scenario $1 failed (exit $?)" >&2
  bench_pid=
}

wait_http() { # url name
  for _ in $(seq 1 300); do
    if curl -fs -o /dev/null "$1"; then return 0; fi
    sleep 0.1
  done
  echo "$2 did not answer at $1; its log:" >&2; tail -30 "$logs/$pass_name-$2.log" >&2; exit 1
}

# A node of the service from $api_dir: name port role [file size]; Redis mode, production settings, logs at
# Warning, files with no delay, per-client limits off.
node() {
  local name=$1 port=$2 role=$3 file_size=${4-$size}
  (
    cd "$api_dir"
    export ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS="http://127.0.0.1:$port" Downloads__Role=$role
    export Downloads__Links__SigningKey=bench-link-signing-key-0123456789abcdef-0123456789 Downloads__Webhooks__SigningSecret=whsec_YmVuY2gtd2ViaG9vay1zaWduaW5nLXNlY3JldC0wMTIzNDU2Nzg5
    export Downloads__Processing__DelayMinMs=0 Downloads__Processing__DelayMaxMs=0 Downloads__RateLimiting__InitiatePerMinute=0 Downloads__RateLimiting__MaxActiveJobsPerClient=0 Downloads__RateLimiting__MaxActiveFilesPerClient=0
    export Downloads__RateLimiting__ControlPerMinute=0 Downloads__RateLimiting__MaxConnectionsPerClient=0
    export Serilog__MinimumLevel__Default=Warning
    if [[ -n $file_size ]]; then export Downloads__Storage__SyntheticSizeBytes=$file_size; fi
    if [[ $name != inmem ]]; then export ConnectionStrings__Redis=$redis; fi
    exec dotnet Downloads.Api.dll
  ) >"$logs/$pass_name-$name.log" 2>&1 &
  pids+=($!)
  eval "${name}_pid=$!"
  wait_http "http://127.0.0.1:$port/health" "$name"
  if [[ $role != api ]]; then wait_http "http://127.0.0.1:$port/health/ready" "$name"; fi
}

stop() { # names; each is forgotten too, so the exit trap never signals a recycled pid
  local name pid_var pid p kept
  for name in "$@"; do
    pid_var=${name}_pid
    pid=${!pid_var}
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    kept=()
    for p in "${pids[@]}"; do [[ $p == "$pid" ]] || kept+=("$p"); done
    pids=("${kept[@]}")
  done
}

# Waits until no Hangfire run is queued or running (the previous scenario's work is done), at most 120 s.
wait_idle() {
  local queues busy
  for _ in $(seq 1 1200); do
    queues=$(redis-cli -p "$redis_port" --scan --pattern 'downloads:hangfire:queue:*')
    busy=0
    for queue in $queues; do busy=$((busy + $(redis-cli -p "$redis_port" llen "$queue"))); done
    [[ $busy == 0 ]] && return 0
    sleep 0.1
  done
  echo "   (Hangfire queues still not empty: $busy runs)" >&2
}

flush() { redis-cli -p "$redis_port" flushall >/dev/null; }

echo "== start the bare baseline endpoint :$baseline_port"
pass_name=run
(cd "$root/bench/Baseline/bin/Release/net10.0" && exec env ASPNETCORE_URLS="http://127.0.0.1:$baseline_port" dotnet Baseline.dll) >"$logs/run-baseline.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$baseline_port/health" baseline
bare=http://127.0.0.1:$baseline_port; api1=http://127.0.0.1:$api1_port; api2=http://127.0.0.1:$api2_port
inmem=http://127.0.0.1:$inmem_port; all=http://127.0.0.1:$all_port

# Every scenario against one build: pass name api_dir build_label json. Its own redis-server, stopped at the end.
pass() {
  pass_name=$1
  api_dir=$2; pass_build="$3; files of $size bytes unless the setting says default sizes"; pass_out=$4
  echo "==== $3"
  mkdir -p "$work/redis-$pass_name"
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work/redis-$pass_name" --save "" --appendonly yes --appendfsync everysec \
    --maxmemory-policy noeviction >"$logs/$pass_name-redis.log" 2>&1 &
  pids+=($!)
  redis_pid=$!
  redis="127.0.0.1:$redis_port"
  for _ in $(seq 1 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

  echo "== 1. initiate: bare, Redis API node without a worker (the request path alone), in memory (role all)"
  node inmem "$inmem_port" all
  node api1 "$api1_port" api
  node api2 "$api2_port" api
  run_bench initiate --reset --connections 64,256 --duration "$duration" --warmup "$warmup" \
    --targets "baseline=$bare,redis-api=$api1,inmem-all=$inmem"
  echo "   in-memory node RSS after: $(grep VmRSS "/proc/$inmem_pid/status")"
  stop inmem
  # The queued pile is dropped: no Hangfire server has run on this Redis yet.
  flush

  echo "== 1. initiate: bare, one Redis node in role all (its workers run what it accepts)"
  node all "$all_port" all
  run_bench initiate --connections 64,256 --duration "$duration" --warmup "$warmup" --targets "baseline=$bare,redis-all=$all" --label "role all"
  stop all
  flush

  # The drain and one big job, on one Redis node in role all: with fixed-size files, then with default sizes.
  local sizes
  for sizes in "$size" ""; do
    local label="role all, default sizes"
    if [[ -n $sizes ]]; then label="role all, $sizes-byte files"; fi
    echo "== 7. drain: $djobs one-file jobs from $dcallers callers; 6. fairness and one $big-file job ($label)"
    node all "$all_port" all "$sizes"
    run_bench drain --api "$all" --jobs "$djobs" --callers "$dcallers" --label "$label"
    wait_idle
    run_bench fairness --api "$all" --big "$big" --samples "$fsamples" --label "$label"
    wait_idle
    stop all
    flush
  done

  echo "== start worker 1"
  node worker1 "$worker1_port" worker
  echo "== 2. initiate -> first progress (1 worker), idle and under $load_rps initiates/s"
  run_bench first-progress --api "$api1" --samples "$samples" --budget 30
  wait_idle
  run_bench first-progress --api "$api1" --samples "$samples" --load-rps "$load_rps" --budget 30
  wait_idle

  echo "== 5. files/s, 1 worker"
  run_bench files --api "$api1" --jobs "$jobs" --files "$files" --label "1 worker"
  wait_idle

  echo "== start worker 2"
  node worker2 "$worker2_port" worker
  echo "== 5. files/s, 2 workers"
  run_bench files --api "$api1" --jobs "$jobs" --files "$files" --label "2 workers"
  wait_idle

  echo "== 3. backplane: clients on both API nodes, 2 workers"
  run_bench backplane --api "$api1" --api2 "$api2" --redis "$redis" --prefix downloads: \
    --jobs "$bjobs" --files "$files" --events-per-second 2000
  wait_idle

  echo "== 6. fairness (2 workers)"
  run_bench fairness --api "$api1" --big "$big" --samples "$fsamples"
  wait_idle

  echo "== 4. hub connections held by API node 1 (ulimit -n $(ulimit -n))"
  run_bench connections --api "$api1" --pid "$api1_pid" --count "$conns" --jobs 100 --budget 180

  echo "== redis: $(redis-cli -p "$redis_port" info memory | grep used_memory_human)"
  stop api1 api2 worker1 worker2 redis
  dotnet "$bench_dll" report --out "$pass_out"
}

if [[ $before_ref != none ]]; then
  pass before "$before_dir" "$before_build" "$out_before"
fi
pass after "$root/Downloads.Api/bin/Release/net10.0" "$after_build" "$out"
if [[ $before_ref != none ]]; then
  echo "==== before / after"
  dotnet "$bench_dll" compare --before "$out_before" --after "$out" | tee "${out%.json}-compare.md"
  echo "JSON: $out_before (before), $out (after); table: ${out%.json}-compare.md; logs: $logs"
else
  echo "JSON: $out; logs: $logs"
fi
