#!/usr/bin/env bash
# Side by side: DPDK 22.11's mempool_perf_autotest against PacketPlane's equivalent (Perf/MempoolPerf.cs: one
# lcore, n_keep objects got in bulks of n_get_bulk and put back in bulks of n_put_bulk, pool of
# lcores*(128+512)-1 objects, cache 512 or none), in cycles per object with the ratio PacketPlane/DPDK.
#   usage: benchmarks/compare/mempool_perf.sh [SECONDS_PER_CASE]      (default 1; about 40 s a side a round)
# By default DPDK's side is mempool/mempool_1core.c, the autotest's one-lcore cases alone, compiled here against
# libdpdk with the C flags Debian built dpdk-test with (dpkg-buildflags: -O2), and the two sides run in ROUNDS
# (default 3) alternating rounds, so both see the same machine state; medians over the rounds. The twin gives the
# autotest's figures within run-to-run noise (benchmarks/README.md shows the check). DPDK_CFLAGS replaces the
# Debian flags (say "-O3", as DPDK's own examples build).
# Knobs: MAIN_LCORE=1 runs both sides' one-core cases on CPU 1 (--main-lcore 1), leaving CPU 0 to other work;
# both sides still get lcores 0-1, which sizes the pool. KEEP_LOGS=DIR keeps the raw outputs in DIR.
# AUTOTEST=1 runs the real `dpdk-test mempool_perf_autotest` instead of the twin: every pool type and core count,
# ~70 minutes, our side before and after it. DPDK_LOG=FILE re-measures only our side against a DPDK output kept
# earlier (DIR/dpdk.1 from KEEP_LOGS); the header line then gives that output's time, and figures must say so.
source "$(dirname "$0")/common.sh"
SECONDS_PER_CASE="${1:-1}"
ROUNDS="${ROUNDS:-3}"
need dpdk-test "apt-get install dpdk"
build_benchmarks
export PP_TSC_HZ="$(dpdk_tsc_hz)"
dpdk_main=()
if [[ -n "${MAIN_LCORE:-}" ]]; then
    dpdk_main=(--main-lcore "$MAIN_LCORE")
    export PP_MAIN_LCORE="$MAIN_LCORE"
fi
out="$(mktemp -d)"
# Run from a private copy so that a rebuild of the tree during a long run cannot change a later round.
cp -r "$(dirname "$BENCH_DLL")" "$out/bench"
bench="$out/bench/$(basename "$BENCH_DLL")"
ours() { dotnet "$bench" mempool_perf "$SECONDS_PER_CASE" >"$out/pp.$1" 2>&1; }
if [[ -n "${DPDK_LOG:-}" ]]; then
    cp "$DPDK_LOG" "$out/dpdk.1"
    dpdk_when="DPDK output from an earlier run, $(date -u -r "$DPDK_LOG" +%Y-%m-%dT%H:%MZ)"
    ours 1 && ours 2
    dpdk_note="dpdk-test mempool_perf_autotest (earlier output), n_keep=128, one lcore"
elif [[ "${AUTOTEST:-0}" == 1 ]]; then
    ours 1
    echo mempool_perf_autotest | dpdk-test --no-pci --in-memory -l 0-1 "${dpdk_main[@]}" --log-level=lib.eal:error >"$out/dpdk.1" 2>&1
    ours 2
    dpdk_when="dpdk-test mempool_perf_autotest, same run"
    dpdk_note="dpdk-test mempool_perf_autotest, n_keep=128, one lcore"
else
    pkg-config --exists libdpdk || { echo "pkg-config finds no libdpdk: apt-get install libdpdk-dev" >&2; exit 1; }
    need gcc "apt-get install gcc"
    cflags="${DPDK_CFLAGS:-$(dpkg-buildflags --get CFLAGS)}"
    # shellcheck disable=SC2046,SC2086 # word splitting of the flag lists is intended
    gcc $cflags -Wall -Wextra -Werror $(pkg-config --cflags libdpdk) "$REPO/benchmarks/compare/mempool/mempool_1core.c" \
        -o "$out/mempool_1core" $(pkg-config --libs libdpdk)
    for ((round = 1; round <= ROUNDS; round++)); do
        ours "$round"
        "$out/mempool_1core" --no-pci --in-memory -l 0-1 "${dpdk_main[@]}" --log-level=lib.eal:error -- "$SECONDS_PER_CASE" \
            >"$out/dpdk.$round" 2>&1 || { cat "$out/dpdk.$round" >&2; exit 1; }
    done
    dpdk_when="mempool_1core.c (the autotest's one-lcore cases, C flags: $cflags), $ROUNDS alternating rounds"
    dpdk_note="mempool_perf_autotest's one-lcore loop (mempool_1core.c), n_keep=128, $ROUNDS alternating rounds"
fi
if [[ -n "${KEEP_LOGS:-}" ]]; then
    mkdir -p "$KEEP_LOGS" && cp "$out"/pp.* "$out"/dpdk.* "$KEEP_LOGS/"
fi
echo "mempool_perf: $(machine_line) | TSC ${PP_TSC_HZ} Hz | medians | DPDK: $dpdk_when"
python3 - "$out" "$PP_TSC_HZ" "${dpdk_note:-}" <<'PY'
import glob, re, statistics, sys
out, hz, note = sys.argv[1], float(sys.argv[2]), sys.argv[3]
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
dpdk = collect(sorted(glob.glob(f"{out}/dpdk.*")))
pp = collect(sorted(glob.glob(f"{out}/pp.*")))
# PacketPlane/DPDK as in every other table: above 1 PacketPlane is faster (DPDK's cycles over ours).
print("| cache | get | put | keep | DPDK objects/s | DPDK cycles/object | PacketPlane objects/s | PacketPlane cycles/object | PacketPlane/DPDK |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for key, d in dpdk.items():
    if key not in pp: continue
    dr, pr = statistics.median(d), statistics.median(pp[key])
    print(f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | {dr:,.0f} | {hz/dr:.2f} | {pr:,.0f} | {hz/pr:.2f} | {pr/dr:.2f} |")
# Headline rows for all.sh: ratio = DPDK cycles / PacketPlane cycles (above 1 PacketPlane is faster).
for key, name in ((("512", "32", "32", "128"), "mempool get/put bulk 32, cache 512"), (("0", "32", "32", "128"), "mempool get/put bulk 32, no cache"),
                  (("512", "1", "1", "128"), "mempool get/put bulk 1, cache 512"), (("0", "1", "1", "128"), "mempool get/put bulk 1, no cache")):
    if key in dpdk and key in pp:
        dr, pr = statistics.median(dpdk[key]), statistics.median(pp[key])
        print(f"RESULT|{name}|cycles/object|{hz/dr:.2f}|{hz/pr:.2f}|{pr/dr:.2f}|{hz/dr:.2f}|{hz/pr:.2f}|n/a|n/a|{note}")
PY
rm -rf "$out"
