# Shared helpers for the side-by-side scripts. Source it; do not run it.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENCH_DLL="$REPO/benchmarks/PacketPlane.Benchmarks/bin/Release/net10.0/PacketPlane.Benchmarks.dll"

need() { command -v "$1" >/dev/null || { echo "missing $1: $2" >&2; exit 1; }; }

# DPDK's TSC frequency, so both sides convert time to cycles with the same figure.
dpdk_tsc_hz() {
    echo quit | dpdk-test --no-pci --in-memory -l 0 --log-level=lib.eal:debug 2>&1 \
        | sed -n 's/.*TSC frequency is ~\([0-9]*\) KHz.*/\1/p' | head -1 | awk '{print $1 * 1000}'
}

build_benchmarks() {
    dotnet build "$REPO/benchmarks/PacketPlane.Benchmarks" -c Release -v q -nologo >/dev/null
}

machine_line() {
    echo "$(date -u +%Y-%m-%d) | $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) | $(nproc) cores | $(uname -r)"
}
