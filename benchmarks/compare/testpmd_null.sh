#!/usr/bin/env bash
# io forwarding between two net_null ports on one forwarding lcore: PacketPlane's TestPmd against
# dpdk-testpmd on the same machine, alternating rounds. Prints a table of per-round medians, the overall
# medians, cycles per packet and the ratio.
#
#   benchmarks/compare/testpmd_null.sh                 # 5 rounds of 10 s each side
#   ROUNDS=3 DURATION=6 SKIP=2 benchmarks/compare/testpmd_null.sh
#
# Rate = Rx-pps of port 0 + Rx-pps of port 1 from each side's "--stats-period 1" output (both print testpmd's
# NIC statistics block), first SKIP samples dropped (warm-up: DPDK's first display is 0, .NET's JIT tiers up).
# Cycles per packet = TSC Hz / rate, as one lcore forwards at 100 % (cpu MHz from /proc/cpuinfo).
# PP_AOT=1 runs PacketPlane's NativeAOT build of TestPmd instead of the JIT one (published into artifacts/aot).
# Needs: dpdk-testpmd (apt-get install dpdk), free 2 MiB hugepages, the .NET 10 SDK. Run as root.
source "$(dirname "$0")/common.sh"

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
SKIP=${SKIP:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

need dpdk-testpmd "apt-get install dpdk"
ours_cmd=$(pp_sample_cmd TestPmd)
kind=$(pp_build_kind)
mhz=$(tsc_mhz)

run_dpdk() {
    timeout -s INT "$((DURATION + 3))" dpdk-testpmd --no-pci --in-memory -l 0-1 --vdev net_null0 --vdev net_null1 -- \
        --forward-mode=io --stats-period 1 --nb-cores=1 --total-num-mbufs=8192 >"$1" 2>&1 || true
}

run_ours() {
    $ours_cmd -l 0-1 --vdev net_null0 --vdev net_null1 -- \
        --forward-mode=io --stats-period 1 --nb-cores=1 --duration "$DURATION" >"$1" 2>&1
}

# Per-second total rate (port 0 + port 1), warm-up dropped, median printed in Mpps.
median_mpps() {
    grep -o 'Rx-pps: *[0-9]*' "$1" | awk '{ print $2 }' | paste - - | awk -v skip="$SKIP" 'NR > skip { print $1 + $2 }' \
        | sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit } m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f\n", m / 1e6 }'
}

median_of() { sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f\n", m }'; }

echo "io forwarding ($kind), net_null0 <-> net_null1, 1 forwarding lcore, ${ROUNDS} rounds x ${DURATION} s, TSC ${mhz} MHz, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %14s %14s %8s\n' round "DPDK Mpps" "PacketPlane" ratio
: >"$work/dpdk.txt"
: >"$work/costs.log"
: >"$work/ours.txt"
for round in $(seq 1 "$ROUNDS"); do
    run_dpdk "$work/dpdk.log"
    d=$(median_mpps "$work/dpdk.log")
    run_ours "$work/ours.log"
    o=$(median_mpps "$work/ours.log")
    cat "$work/ours.log" >>"$work/costs.log"
    echo "$d" >>"$work/dpdk.txt"
    echo "$o" >>"$work/ours.txt"
    printf '%-6s %14s %14s %8s\n' "$round" "$d" "$o" "$(awk -v a="$o" -v b="$d" 'BEGIN { printf "%.2f", a / b }')"
done
dm=$(median_of <"$work/dpdk.txt")
om=$(median_of <"$work/ours.txt")
printf '%-6s %14s %14s %8s\n' median "$dm" "$om" "$(awk -v a="$om" -v b="$dm" 'BEGIN { printf "%.2f", a / b }')"
printf '%-6s %14s %14s\n' cyc/pkt "$(awk -v r="$dm" -v m="$mhz" 'BEGIN { printf "%.1f", m / r }')" "$(awk -v r="$om" -v m="$mhz" 'BEGIN { printf "%.1f", m / r }')"
grep -E 'Managed allocation|CPU cycles/packet' "$work/ours.log" | sed 's/^ */last PacketPlane run: /'
result "testpmd io, net_null pair, 1 lcore ($kind)" Mpps "$dm" "$om" "$(ratio "$om" "$dm")" \
    "$(awk -v r="$dm" -v m="$mhz" 'BEGIN { printf "%.1f", m / r }')" "$(awk -v r="$om" -v m="$mhz" 'BEGIN { printf "%.1f", m / r }')" \
    "$(pp_alloc "$work/costs.log")" "$(pp_gc "$work/costs.log")"
