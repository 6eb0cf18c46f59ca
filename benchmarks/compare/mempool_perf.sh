#!/usr/bin/env bash
# Side by side: DPDK 22.11 `dpdk-test mempool_perf_autotest` against PacketPlane's equivalent
# (Perf/MempoolPerf.cs: one lcore, n_keep objects got in bulks of n_get_bulk and put back in bulks of
# n_put_bulk, pool of lcores*(128+512)-1 objects, cache 512 or none). DPDK's autotest runs ~70 minutes
# (5 s per case over every pool type and core count); this script keeps only the one-core cases it shares
# with ours and prints rate (objects/s) and cycles per object, with the ratio PacketPlane/DPDK in cycles.
#   usage: benchmarks/compare/mempool_perf.sh [SECONDS_PER_CASE]
# Knobs: MAIN_LCORE=1 runs both sides' one-core cases on CPU 1 (dpdk-test --main-lcore 1), leaving CPU 0 to other
# work during the 70 minutes; both sides still get lcores 0-1, because DPDK's cached pool needs two lcores' worth of
# objects. KEEP_LOGS=DIR keeps the raw outputs (pp.1, dpdk, pp.2) in DIR. DPDK_LOG=FILE re-measures only our side
# against a DPDK output kept earlier (KEEP_LOGS=DIR gives DIR/dpdk), for a change to our side without another
# 70 minutes; the header line then gives the time of that DPDK run, and published figures must say so.
source "$(dirname "$0")/common.sh"
SECONDS_PER_CASE="${1:-5}"
need dpdk-test "apt-get install dpdk"
build_benchmarks
export PP_TSC_HZ="$(dpdk_tsc_hz)"
dpdk_main=()
if [[ -n "${MAIN_LCORE:-}" ]]; then
    dpdk_main=(--main-lcore "$MAIN_LCORE")
    export PP_MAIN_LCORE="$MAIN_LCORE"
fi
out="$(mktemp -d)"
# Run from a private copy so that a rebuild of the tree during DPDK's 70 minutes cannot change our second round.
cp -r "$(dirname "$BENCH_DLL")" "$out/bench"
bench="$out/bench/$(basename "$BENCH_DLL")"
dotnet "$bench" mempool_perf "$SECONDS_PER_CASE" >"$out/pp.1" 2>&1
if [[ -n "${DPDK_LOG:-}" ]]; then
    cp "$DPDK_LOG" "$out/dpdk"
    dpdk_when="DPDK output from an earlier run, $(date -u -r "$DPDK_LOG" +%Y-%m-%dT%H:%MZ)"
else
    echo mempool_perf_autotest | dpdk-test --no-pci --in-memory -l 0-1 "${dpdk_main[@]}" --log-level=lib.eal:error >"$out/dpdk" 2>&1
    dpdk_when="same run"
fi
dotnet "$bench" mempool_perf "$SECONDS_PER_CASE" >"$out/pp.2" 2>&1
if [[ -n "${KEEP_LOGS:-}" ]]; then
    mkdir -p "$KEEP_LOGS" && cp "$out/pp.1" "$out/dpdk" "$out/pp.2" "$KEEP_LOGS/"
fi
echo "mempool_perf: $(machine_line) | TSC ${PP_TSC_HZ} Hz | PacketPlane before and after DPDK, median | $dpdk_when"
python3 - "$out" "$PP_TSC_HZ" <<'PY'
import re, statistics, sys
out, hz = sys.argv[1], float(sys.argv[2])
rx = re.compile(r'mempool_autotest cache=(\d+) cores=1 n_get_bulk=(\d+) n_put_bulk=(\d+) n_keep=(\d+)(?: constant_n=0)? rate_persec=(\d+)')
def collect(files):
    vals = {}
    section = None
    for f in files:
        for line in open(f):
            if line.startswith('start performance test'):
                section = line.strip()
            m = rx.search(line)
            # DPDK's second pool type (default ops, no cache) is not one we model; keep only plain no-cache and cache.
            if m and section and 'for ' not in section and 'user-owned' not in section:
                vals.setdefault(m.groups()[:4], []).append(int(m.group(5)))
    return vals
dpdk = collect([f"{out}/dpdk"])
pp = collect([f"{out}/pp.1", f"{out}/pp.2"])
# PacketPlane/DPDK as in every other table: above 1 PacketPlane is faster (DPDK's cycles over ours).
print("| cache | get | put | keep | DPDK objects/s | DPDK cycles/object | PacketPlane objects/s | PacketPlane cycles/object | PacketPlane/DPDK |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for key, d in dpdk.items():
    if key not in pp: continue
    dr, pr = statistics.median(d), statistics.median(pp[key])
    print(f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | {dr:,.0f} | {hz/dr:.2f} | {pr:,.0f} | {hz/pr:.2f} | {pr/dr:.2f} |")
# Headline rows for all.sh: ratio = DPDK cycles / PacketPlane cycles (above 1 PacketPlane is faster).
for key, name in ((("512", "32", "32", "128"), "mempool get/put bulk 32, cache 512"), (("0", "32", "32", "128"), "mempool get/put bulk 32, no cache")):
    if key in dpdk and key in pp:
        dr, pr = statistics.median(dpdk[key]), statistics.median(pp[key])
        print(f"RESULT|{name}|cycles/object|{hz/dr:.2f}|{hz/pr:.2f}|{pr/dr:.2f}|{hz/dr:.2f}|{hz/pr:.2f}|n/a|n/a|dpdk-test mempool_perf_autotest, n_keep=128, one lcore")
PY
rm -rf "$out"
