#!/usr/bin/env bash
# Where one big job's time goes in Redis mode. Starts a private redis-server and one service node in role all from a
# Release build (folder $1, default this checkout's: run bench/run.sh or `dotnet build Downloads.Api -c Release` first),
# zero delay, 1 KB files; runs one warm-up job, then one job of BENCH_BIG (1000) files and collects while it runs:
# Redis INFO commandstats / cpu / SLOWLOG (over 1 ms), 3 s of MONITOR, dotnet-counters (System.Runtime), a
# dotnet-trace sample (BENCH_TRACE_SECONDS, 8, from BENCH_TRACE_DELAY, 2 s in), and the CPU time of both processes;
# BENCH_PROFILE_WARMUP the warm-up jobs' sizes (10; 1000,1000,1000 to profile the code warm). Prints a summary; raw files stay in
# BENCH_PROFILE_OUT (default /tmp/downloads-profile). Needs: dotnet tool install -g dotnet-counters dotnet-trace
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_PROFILE_WARMUP=${BENCH_PROFILE_WARMUP:-10}
api_dir=$(realpath "${1:-Downloads.Api/bin/Release/net10.0}")
out=$(realpath -m "${BENCH_PROFILE_OUT:-/tmp/downloads-profile}")
base=${BENCH_PORT_BASE:-47400}; redis_port=$base; api_port=$((base+1))
big=${BENCH_BIG:-1000}; size=${BENCH_SIZE_BYTES:-1024}
export PATH=$PATH:$HOME/.dotnet/tools
for tool in dotnet-counters dotnet-trace redis-server curl; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (dotnet tool install -g dotnet-counters dotnet-trace)" >&2; exit 1; }
done
rm -rf "$out"; mkdir -p "$out"
pids=()
trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait' EXIT INT TERM

redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$out" --save "" --appendonly yes --appendfsync everysec \
  --maxmemory-policy noeviction >"$out/redis.log" 2>&1 &
pids+=($!); redis_pid=$!
for _ in $(seq 1 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
(
  cd "$api_dir"
  export ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS="http://127.0.0.1:$api_port" Downloads__Role=all ConnectionStrings__Redis=127.0.0.1:$redis_port
  export Downloads__Links__SigningKey=bench-link-signing-key-0123456789abcdef-0123456789 Downloads__Webhooks__SigningSecret=whsec_YmVuY2gtd2ViaG9vay1zaWduaW5nLXNlY3JldC0wMTIzNDU2Nzg5
  export Downloads__Processing__DelayMinMs=0 Downloads__Processing__DelayMaxMs=0 Downloads__RateLimiting__InitiatePerMinute=0 Downloads__RateLimiting__MaxActiveJobsPerClient=0 Downloads__RateLimiting__MaxActiveFilesPerClient=0
  export Downloads__RateLimiting__ControlPerMinute=0 Downloads__RateLimiting__MaxConnectionsPerClient=0
  export Downloads__Storage__SyntheticSizeBytes=$size Serilog__MinimumLevel__Default=Warning
  exec dotnet Downloads.Api.dll
) >"$out/node.log" 2>&1 &
pids+=($!); node_pid=$!
api=http://127.0.0.1:$api_port
for _ in $(seq 1 600); do curl -fs -o /dev/null "$api/health/ready" && break; sleep 0.1; done

job() { # files → job id, once it has ended; seconds from send to end on stdout's second word
  local ids start id state
  ids=$(seq 70000 7 $((70000 + 7 * ($1 - 1))) | paste -sd,)
  start=$(date +%s.%N)
  id=$(curl -fs -H 'Content-Type: application/json' -d "{\"file_ids\":[$ids]}" "$api/v1/download/initiate" | sed -E 's/.*"job_id":"([^"]+)".*/\1/')
  for _ in $(seq 1 6000); do
    state=$(curl -fs "$api/v1/download/status/$id" | sed -E 's/.*"status":"([a-z]+)".*/\1/')
    [[ $state == completed || $state == failed || $state == cancelled ]] && break
    sleep 0.1
  done
  echo "$id $(echo "$(date +%s.%N) - $start" | bc) $state"
}
cpu() { awk '{ print ($14 + $15) / 100 }' "/proc/$1/stat"; } # user + system seconds (USER_HZ 100)
threads() { # pid → "name ticks" per thread (names with digits folded: .NET TP Worker, hangfire-enqueue-3…)
  for t in /proc/"$1"/task/*; do
    sed -E 's/^[0-9]+ \((.*)\) [A-Z] (([^ ]+ ){10})([0-9]+) ([0-9]+).*/\1 \4 \5/' "$t/stat" 2>/dev/null
  done | awk '{ t = $(NF-1) + $NF; $NF = ""; $(NF-1) = ""; n = $0; gsub(/[0-9]+/, "#", n); gsub(/ +$/, "", n); gsub(/ /, "_", n); print n, t }'
}

# Warm-up jobs (sizes, comma-separated): JIT, connections, Hangfire queues. A young process still re-JITs its hot path to
# tier 1 for thousands of files: 1000,1000,1000 profiles it warm.
for warm in ${BENCH_PROFILE_WARMUP//,/ }; do job "$warm" >/dev/null; done
redis-cli -p "$redis_port" config resetstat >/dev/null
redis-cli -p "$redis_port" config set slowlog-log-slower-than 1000 >/dev/null
redis-cli -p "$redis_port" slowlog reset >/dev/null
node_cpu=$(cpu "$node_pid"); redis_cpu=$(cpu "$redis_pid"); load=$(cut -d' ' -f1-3 /proc/loadavg)
threads "$node_pid" >"$out/threads-before.txt"
dotnet-counters collect -p "$node_pid" --counters System.Runtime --format csv -o "$out/counters.csv" >/dev/null 2>&1 &
counters_pid=$!; pids+=($counters_pid)
( sleep 2; timeout 3 redis-cli -p "$redis_port" monitor >"$out/monitor.txt" || true ) &
trace_seconds=${BENCH_TRACE_SECONDS:-08}
[[ $trace_seconds == 0 || $trace_seconds == 00 ]] || ( sleep "${BENCH_TRACE_DELAY:-2}"; dotnet-trace collect -p "$node_pid" --duration "00:00:00:${BENCH_TRACE_SECONDS:-08}" -o "$out/trace.nettrace" >"$out/trace.log" 2>&1 || true ) &
trace_pid=$!
read -r id seconds state < <(job "$big")
threads "$node_pid" >"$out/threads-after.txt"
node_cpu=$(echo "$(cpu "$node_pid") - $node_cpu" | bc); redis_cpu=$(echo "$(cpu "$redis_pid") - $redis_cpu" | bc)
kill "$counters_pid" 2>/dev/null || true
wait "$trace_pid" || true
redis-cli -p "$redis_port" info commandstats >"$out/commandstats.txt"
redis-cli -p "$redis_port" slowlog get 20 >"$out/slowlog.txt"
redis-cli -p "$redis_port" info cpu >"$out/redis-cpu.txt"

echo "one $big-file job ($size-byte files), $id: $state in $seconds s; load average before: $load"
echo "CPU during the job: service $node_cpu s, redis-server $redis_cpu s"
echo "Service CPU by thread during the job (threads of one name summed; seconds):"
awk 'NR == FNR { b[$1] += $2; next } { a[$1] += $2 } END { for (k in a) if (a[k] - b[k] > 0) printf "  %-40s %6.2f\n", k, (a[k] - b[k]) / 100 }' \
  "$out/threads-before.txt" "$out/threads-after.txt" | sort -k2 -rn | head -12
echo "Redis commands (calls, total ms, µs per call), most time first:"
sed -nE 's/^cmdstat_([a-z|_]+):calls=([0-9]+),usec=([0-9]+),usec_per_call=([0-9.]+).*/\3 \1 \2 \4/p' "$out/commandstats.txt" \
  | sort -rn | head -15 | awk '{ printf "  %-18s %8d calls %9.1f ms %8.1f µs\n", $2, $3, $1 / 1000, $4 }'
echo "MONITOR, 3 s mid-job: commands by name (per second)"
awk '/^[0-9]/ { c = tolower($4); gsub(/"/, "", c); if ($3 == "lua]") c = "(script) " c; n[c]++ } END { for (k in n) printf "  %-18s %8.0f/s\n", k, n[k] / 3 }' "$out/monitor.txt" | sort -k2 -rn | head -12
echo "dotnet-counters (System.Runtime), mean over the job:"
awk -F, 'NR > 1 { k = $3; s[k] += $5; n[k]++ } END { for (k in s) printf "  %-70s %14.2f\n", k, s[k] / n[k] }' "$out/counters.csv" | sort | head -40
echo "SLOWLOG entries over 1 ms: $(grep -c '^[0-9]' "$out/slowlog.txt" || true) lines (see $out/slowlog.txt)"
if [[ -s $out/trace.nettrace ]]; then
  echo "dotnet-trace, 8 s of thread-time samples: top methods, exclusive then inclusive"
  dotnet-trace report "$out/trace.nettrace" topN -n 15 2>&1 | tail -n +1
  dotnet-trace report "$out/trace.nettrace" topN -n 25 --inclusive 2>&1 | tail -n +1
fi
echo "raw files: $out"
