# Shared helpers for the side-by-side scripts. Source it; do not run it.
#
# Every script ends with one or more machine-readable lines that all.sh gathers into the table of
# benchmarks/README.md (see `result` below):
#   RESULT|workload|unit|DPDK|PacketPlane|ratio|DPDK cycles|PacketPlane cycles|alloc bytes/packet|GC collections|note
# ratio is always "how fast PacketPlane is next to DPDK": PacketPlane/DPDK for rates, DPDK/PacketPlane for
# cycles per operation, so above 1.00 PacketPlane is faster and below 1.00 it is slower, in every row.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENCH_DLL="$REPO/benchmarks/PacketPlane.Benchmarks/bin/Release/net10.0/PacketPlane.Benchmarks.dll"

need() { command -v "$1" >/dev/null || { echo "missing $1: $2" >&2; exit 1; }; }

# DPDK's TSC frequency, so both sides convert time to cycles with the same figure.
dpdk_tsc_hz() {
    echo quit | dpdk-test --no-pci --in-memory -l 0 --log-level=lib.eal:debug 2>&1 \
        | sed -n 's/.*TSC frequency is ~\([0-9]*\) KHz.*/\1/p' | head -1 | awk '{printf "%.0f\n", $1 * 1000}'
}

# TSC frequency in MHz as /proc/cpuinfo gives it (what rte_get_tsc_hz reports on these VMs, invariant TSC).
# mean_pps LOG COUNTER: mean of testpmd's per-second COUNTER ("Rx-pps" or "Tx-pps") figures in LOG, skipping the
# first 2 (ramp-up)
mean_pps() {
    grep -o "$2: *[0-9]*" "$1" | awk '{print $2}' | tail -n +3 | awk '{s+=$1; n++} END {if (n) printf "%.0f", s/n; else print 0}'
}
tsc_mhz() { awk -F: '/^cpu MHz/ { printf "%.0f", $2; exit }' /proc/cpuinfo; }

build_benchmarks() {
    dotnet build "$REPO/benchmarks/PacketPlane.Benchmarks" -c Release -v q -nologo >/dev/null
}

machine_line() {
    echo "$(date -u +%Y-%m-%d) | $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) | $(nproc) cores | $(uname -r)"
}

# The command that runs sample $1 (TestPmd, L2Fwd, L3Fwd), built if needed. PP_AOT=1 picks the NativeAOT
# binary (published once into artifacts/aot/NAME), otherwise the JIT build under `dotnet`.
# SKIP_BUILD=1 uses whatever is there.
pp_sample_cmd() {
    local name=$1
    if [[ "${PP_AOT:-0}" == 1 ]]; then
        local bin="$REPO/artifacts/aot/$name/$name"
        if [[ -z "${SKIP_BUILD:-}" || ! -x "$bin" ]]; then
            dotnet publish "$REPO/samples/$name" -c Release -r linux-x64 -p:PublishAot=true \
                -o "$REPO/artifacts/aot/$name" -v q -nologo >&2
        fi
        echo "$bin"
    else
        [[ -n "${SKIP_BUILD:-}" ]] || dotnet build "$REPO/samples/$name" -c Release -v q -nologo >/dev/null
        echo "dotnet $REPO/samples/$name/bin/Release/net10.0/$name.dll"
    fi
}

# Builds DPDK's example $1 (l2fwd, l3fwd, ...) from /usr/share/dpdk/examples (Debian's dpdk-doc) against
# libdpdk (pkg-config) in a scratch folder, never inside the repository, and prints the binary's path. The
# examples' shared ../common folder is copied beside it (l3fwd includes from it). Built once per folder:
# DPDK_EXAMPLES_BUILD (default /tmp/pp-dpdk-examples) keeps the build for later scripts of the same run.
dpdk_example() {
    local name=$1 dir=${DPDK_EXAMPLES_BUILD:-/tmp/pp-dpdk-examples}
    if [[ ! -x "$dir/$name/build/$name" ]]; then
        [[ -d /usr/share/dpdk/examples/$name ]] || { echo "no /usr/share/dpdk/examples/$name: apt-get install dpdk-doc" >&2; return 1; }
        pkg-config --exists libdpdk || { echo "pkg-config finds no libdpdk: apt-get install libdpdk-dev" >&2; return 1; }
        mkdir -p "$dir"
        rm -rf "${dir:?}/$name"
        cp -r "/usr/share/dpdk/examples/$name" "$dir/"
        [[ -d "$dir/common" ]] || cp -r /usr/share/dpdk/examples/common "$dir/"
        make -C "$dir/$name" -j2 >"$dir/$name.build.log" 2>&1 \
            || { echo "building DPDK's $name example failed: see $dir/$name.build.log" >&2; return 1; }
    fi
    echo "$dir/$name/build/$name"
}

# Prefixes each line of stdin with the wall-clock time it arrived (seconds, microseconds), so rates can be
# computed from counters over the real interval between two printouts, whoever printed them.
stamp_lines() { while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done; }

# "JIT" or "AOT", for labels.
pp_build_kind() { [[ "${PP_AOT:-0}" == 1 ]] && echo AOT || echo JIT; }

# Median of the numbers on stdin, one a line ("nan" when there are none).
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m }'
}

# Cycles per packet of one forwarding lcore that polls at 100 %: TSC Hz / packets per second.
cycles_per_packet() { awk -v pps="$1" -v mhz="$(tsc_mhz)" 'BEGIN { if (pps > 0) printf "%.1f\n", mhz * 1e6 / pps; else print "nan" }'; }

# a / b with two decimals, "nan" when b is 0 or not a number.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a != "nan") printf "%.2f\n", a / b; else print "nan" }'; }

# PacketPlane's cost lines (TestPmd, L2Fwd and L3Fwd print them identically at exit):
#   Managed allocation on forwarding lcores: N bytes (X bytes/packet); GC collections during the run: gen0=a gen1=b gen2=c
# pp_alloc LOG -> the largest X over the runs in LOG ("n/a" if none); pp_gc LOG -> the largest a+b+c.
pp_alloc() {
    grep -ho 'Managed allocation on forwarding lcores: [0-9]* bytes ([0-9.]* bytes/packet)' "$@" 2>/dev/null \
        | sed 's/.*(\([0-9.]*\) bytes\/packet)/\1/' | sort -g | tail -1 | grep . || echo n/a
}
pp_gc() {
    grep -ho 'GC collections during the run: gen0=[0-9]* gen1=[0-9]* gen2=[0-9]*' "$@" 2>/dev/null \
        | awk -F'[= ]' '{ print $7 + $9 + $11 }' | sort -n | tail -1 | grep . || echo n/a
}

# result WORKLOAD UNIT DPDK PP RATIO DPDK_CYCLES PP_CYCLES ALLOC GC [NOTE]: the line all.sh collects.
result() {
    local IFS='|'
    echo "RESULT|$*"
}
