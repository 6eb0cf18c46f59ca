#!/usr/bin/env bash
# Every side-by-side comparison with DPDK, one after the other on this machine, and one table at the end.
#
#   benchmarks/compare/all.sh            # full run, about 50 minutes on 2 vCPUs
#   QUICK=1 benchmarks/compare/all.sh    # fewer, shorter rounds: ~19 minutes
#   ONLY="testpmd l2fwd" benchmarks/compare/all.sh   # a subset (names as in the step list below)
#   SKIP="mempool hash" benchmarks/compare/all.sh    # everything but these
#
# What it does:
#   1. installs Debian's DPDK (dpdk dpdk-dev libdpdk-dev dpdk-doc) if dpdk-testpmd, dpdk-test, libdpdk or the
#      examples' sources are missing, and reserves 1024 x 2 MiB hugepages if fewer are reserved;
#   2. builds PacketPlane (Release) once, publishes the NativeAOT samples once, and builds DPDK's examples
#      (l2fwd, l3fwd) from /usr/share/dpdk/examples in a scratch folder under /tmp (never in the repository);
#   3. runs each workload's script (each alternates DPDK and PacketPlane rounds and prints medians and the
#      ratio), saving every log under artifacts/compare/<UTC time>/;
#   4. gathers the scripts' RESULT lines into summary.md there: the table benchmarks/README.md shows.
# A step that fails or times out is listed as FAILED with its log; the others still run.
# Needs root (namespaces, hugepages, XDP), 2 CPUs, the .NET 10 SDK, gcc, make, pkg-config.
source "$(dirname "$0")/common.sh"
cd "$REPO"
QUICK=${QUICK:-0}
ONLY=${ONLY:-}
SKIP=${SKIP:-}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$REPO/artifacts/compare/$STAMP}
mkdir -p "$OUT"
[[ $(id -u) == 0 ]] || { echo "all.sh needs root (network namespaces, hugepages, XDP)" >&2; exit 1; }

ensure_dpdk() {
    if command -v dpdk-testpmd >/dev/null && command -v dpdk-test >/dev/null && pkg-config --exists libdpdk \
        && [[ -d /usr/share/dpdk/examples/l2fwd ]]; then
        return
    fi
    echo "installing Debian's DPDK packages (dpdk dpdk-dev libdpdk-dev dpdk-doc) ..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q dpdk dpdk-dev libdpdk-dev dpdk-doc make gcc pkg-config >/dev/null \
        || { apt-get update -q >/dev/null && apt-get install -y -q dpdk dpdk-dev libdpdk-dev dpdk-doc make gcc pkg-config >/dev/null; }
}

ensure_hugepages() {
    local have
    have=$(cat /proc/sys/vm/nr_hugepages)
    if ((have < 1024)); then
        echo 1024 >/proc/sys/vm/nr_hugepages
        echo "reserved hugepages: $have -> $(cat /proc/sys/vm/nr_hugepages) x 2 MiB"
    fi
}

wanted() {
    local name=$1
    if [[ -n "$ONLY" && " $ONLY " != *" $name "* ]]; then return 1; fi
    if [[ " $SKIP " == *" $name "* ]]; then return 1; fi
    return 0
}

# step NAME TIMEOUT_SECONDS COMMAND...: runs one script with a time limit, log in $OUT/NAME.log, RESULT lines kept.
step() {
    local name=$1 limit=$2
    shift 2
    wanted "$name" || return 0
    echo
    echo "=== $name: $* ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))"
    local start=$SECONDS rc
    set +e
    timeout -k 30 "$limit" "$@" 2>&1 | tee "$OUT/$name.log"
    rc=${PIPESTATUS[0]}
    set -e
    if ! grep -q '^RESULT|' "$OUT/$name.log"; then
        result "$name" FAILED "" "" "" "" "" n/a n/a "exit $rc after $((SECONDS - start)) s, see $name.log" | tee -a "$OUT/$name.log"
    fi
    grep '^RESULT|' "$OUT/$name.log" >>"$OUT/results.txt" || true
    echo "--- $name took $((SECONDS - start)) s"
}

ensure_dpdk
ensure_hugepages
export DPDK_EXAMPLES_BUILD
DPDK_EXAMPLES_BUILD=$(mktemp -d /tmp/pp-dpdk-examples.XXXXXX)
trap 'rm -rf "$DPDK_EXAMPLES_BUILD"' EXIT

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "PacketPlane vs DPDK, $( ((QUICK)) && echo QUICK || echo full) run, logs in $OUT"
echo "building PacketPlane (Release), NativeAOT samples and DPDK's examples ..."
dotnet build PacketPlane.sln -c Release -v q -nologo >"$OUT/build.log" 2>&1 || { cat "$OUT/build.log"; exit 1; }
for sample in TestPmd L2Fwd L3Fwd; do
    [[ -d samples/$sample ]] || continue
    PP_AOT=1 pp_sample_cmd "$sample" >/dev/null 2>>"$OUT/build.log" || echo "NativeAOT publish of $sample failed: see $OUT/build.log"
done
dpdk_example l2fwd >/dev/null
export SKIP_BUILD=1 NO_BUILD=1   # the scripts use what was just built

if ((QUICK)); then
    step testpmd      300 env ROUNDS=3 DURATION=6 SKIP=2 benchmarks/compare/testpmd_null.sh
    step testpmd-aot  300 env PP_AOT=1 ROUNDS=3 DURATION=6 SKIP=2 benchmarks/compare/testpmd_null.sh
    step l2fwd        300 env ROUNDS=3 DURATION=6 SKIP=2 benchmarks/compare/l2fwd.sh
    step l2fwd-aot    300 env PP_AOT=1 ROUNDS=3 DURATION=6 SKIP=2 benchmarks/compare/l2fwd.sh
    L3FWD_ENV=(ROUNDS=2 SAMPLES=5)   # l3fwd.sh: SAMPLES seconds measured per run after its SKIP warm-up
    step af_xdp       300 env ROUNDS=1 DURATION=10 benchmarks/compare/af_xdp_fwd.sh
    step af_packet    300 env ROUNDS=1 DURATION=10 benchmarks/compare/af_packet_fwd.sh
    step virtio_user  300 env ROUNDS=1 DURATION=10 benchmarks/compare/virtio_user.sh
    step virtio_vhost 300 env ROUNDS=1 DURATION=10 benchmarks/compare/virtio_vhost.sh
    step latency      400 env SECONDS_PER_RUN=5 GC_TABLE=0 benchmarks/compare/latency.sh
    step ring         300 env ROUNDS=1 benchmarks/compare/ring_perf.sh
    step lpm          400 env ROUNDS=1 benchmarks/compare/lpm_perf.sh
    step mempool      300 env ROUNDS=1 benchmarks/compare/mempool_perf.sh 1
else
    step testpmd      600 env ROUNDS=5 DURATION=10 benchmarks/compare/testpmd_null.sh
    step testpmd-aot  600 env PP_AOT=1 ROUNDS=3 DURATION=10 benchmarks/compare/testpmd_null.sh
    step l2fwd        600 env ROUNDS=5 DURATION=10 benchmarks/compare/l2fwd.sh
    step l2fwd-aot    600 env PP_AOT=1 ROUNDS=3 DURATION=10 benchmarks/compare/l2fwd.sh
    L3FWD_ENV=(ROUNDS=3 SAMPLES=8)
    step af_xdp       600 env ROUNDS=3 DURATION=20 benchmarks/compare/af_xdp_fwd.sh
    step af_packet    600 env ROUNDS=3 DURATION=15 benchmarks/compare/af_packet_fwd.sh
    step virtio_user  900 env ROUNDS=2 DURATION=10 benchmarks/compare/virtio_user.sh
    step virtio_vhost 900 env ROUNDS=2 DURATION=10 benchmarks/compare/virtio_vhost.sh
    step latency      900 env SECONDS_PER_RUN=10 GC_TABLE=1 benchmarks/compare/latency.sh
    step ring         900 env ROUNDS=3 benchmarks/compare/ring_perf.sh
    step lpm          900 env ROUNDS=2 benchmarks/compare/lpm_perf.sh
    # The autotest's one-lcore cases (mempool/mempool_1core.c) against ours, 3 alternating rounds of 2 s a case;
    # AUTOTEST=1 benchmarks/compare/mempool_perf.sh runs DPDK's whole 70-minute autotest instead.
    step mempool      900 env ROUNDS=3 benchmarks/compare/mempool_perf.sh 2
fi
# L3Fwd (LPM and EM) comes from its own script (samples/L3Fwd's branch); it reports the same RESULT lines.
if wanted l3fwd; then
    if [[ -x benchmarks/compare/l3fwd.sh ]]; then
        step l3fwd 1200 env "${L3FWD_ENV[@]}" benchmarks/compare/l3fwd.sh
    else
        result "L3Fwd LPM and EM" "not yet available" "" "" "" "" "" n/a n/a "benchmarks/compare/l3fwd.sh is not in this tree yet" | tee -a "$OUT/results.txt"
    fi
fi
step hash    900 env ROUNDS=1 benchmarks/compare/hash_perf.sh

# The table, in the README's column order (benchmarks/README.md, "Results"): table.md is only the table, ready to
# paste; summary.md adds the run's conditions above it.
{
    echo "| benchmark | unit | PacketPlane | DPDK | PacketPlane/DPDK | PacketPlane cycles/packet | DPDK cycles/packet | PP bytes allocated/packet | PP GC collections | note |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"
    # RESULT|workload|unit|DPDK|PacketPlane|ratio|DPDK cycles|PacketPlane cycles|alloc|GC|note (common.sh)
    awk -F'|' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $2, $3, $5, $4, $6, $8, $7, $9, $10, $11 }' "$OUT/results.txt"
} >"$OUT/table.md"
{
    echo "Run: $STAMP, $( ((QUICK)) && echo "QUICK mode" || echo "full mode"), $((SECONDS / 60)) min $((SECONDS % 60)) s"
    echo
    echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) vCPUs, TSC $(tsc_mhz) MHz, kernel $(uname -r)," \
        "DPDK $(dpkg-query -W -f='${Version}' dpdk 2>/dev/null || echo '?') (Debian packages, examples built with pkg-config's flags)," \
        ".NET $(dotnet --version)"
    echo
    echo "Load average (1, 5, 15 min): $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
    echo
    cat "$OUT/table.md"
    echo
    echo "PacketPlane/DPDK is throughput: PacketPlane's rate / DPDK's rate, or DPDK's cycles (or latency) / PacketPlane's"
    echo "for rows measured in cycles or microseconds; above 1.00 PacketPlane is faster, below 1.00 slower, in every row."
    echo "Cycles per packet of a forwarding row = TSC Hz / rate of the one forwarding lcore that polls at 100 %;"
    echo "perf rows give cycles per object, element, lookup or operation, as their unit says."
} >"$OUT/summary.md"
echo
echo "=== summary ($OUT/summary.md; the table alone, to paste into benchmarks/README.md: $OUT/table.md)"
cat "$OUT/summary.md"
