#!/usr/bin/env bash
# l2fwd side by side: DPDK's l2fwd example (built here from /usr/share/dpdk/examples against libdpdk) against
# PacketPlane's samples/L2Fwd, same ports, same lcore, same options, alternating rounds on this machine.
#
#   benchmarks/compare/l2fwd.sh                     # 3 rounds x 10 s each side
#   ROUNDS=5 DURATION=15 benchmarks/compare/l2fwd.sh
#   PP_AOT=1 benchmarks/compare/l2fwd.sh            # PacketPlane's NativeAOT build instead of the JIT one
#
# Both run:  -l 1 --vdev net_null0 --vdev net_null1 -- -p 0x3 -q 2 -T 1
# i.e. ONE lcore (CPU 1, the main lcore, which forwards as in l2fwd) polls both ports; each port's RX makes
# 64-byte packets out of the pool (net_null), l2fwd rewrites both MAC addresses, buffers them per TX port
# (bursts of 32, drained every 100 us) and the other port's TX frees them. MAC updating stays on (l2fwd's
# default), so every packet's first cache line is written, as on a real port.
# Rate: both print l2fwd's statistics block every second; each block's "Total packets received" is stamped
# with its arrival time here, and the rate is the counter's increase over the real time between two blocks.
# The median of the per-second rates after SKIP warm-up seconds is a round's figure; the median over rounds
# is printed. Cycles per packet = TSC Hz / rate (one lcore polls at 100 %); PacketPlane's own measurement
# (its lcore's loop time x TSC / packets) and its allocation and GC counts come from L2Fwd's exit lines.
# Needs root, hugepages, libdpdk-dev + dpdk-doc (for the example's source), make, gcc, the .NET 10 SDK.
source "$(dirname "$0")/common.sh"
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
SKIP=${SKIP:-3}
PORTS=${PORTS:-"--vdev net_null0 --vdev net_null1"}
APP_ARGS=${APP_ARGS:-"-p 0x3 -q 2 -T 1"}
LCORES=${LCORES:-1}
work=$(mktemp -d /tmp/pp-l2fwd.XXXXXX)

dpdk_bin=$(dpdk_example l2fwd)
pp_cmd=$(pp_sample_cmd L2Fwd)
kind=$(pp_build_kind)

# Per-second rates (packets/s) from stamped "Total packets received" lines, warm-up dropped.
rates() {
    tr -d '\033' <"$1" | awk -v skip="$SKIP" '/Total packets received:/ {
            t = $1; c = $NF
            if (n++ > 0 && t > t0) { k++; if (k > skip) printf "%.0f\n", (c - c0) / (t - t0) }
            t0 = t; c0 = c }'
}

run_dpdk() {
    # shellcheck disable=SC2086
    timeout -s INT "$DURATION" "$dpdk_bin" -l "$LCORES" --in-memory --no-pci --file-prefix pp-l2fwd $PORTS -- $APP_ARGS \
        2>&1 </dev/null | stamp_lines >"$1" || true
}

run_ours() {
    # shellcheck disable=SC2086
    timeout -s INT "$((DURATION + 30))" $pp_cmd -l "$LCORES" $PORTS -- $APP_ARGS --duration="$DURATION" \
        2>&1 </dev/null | stamp_lines >"$1" || true
}

echo "l2fwd: DPDK example vs PacketPlane L2Fwd ($kind), -l $LCORES $PORTS -- $APP_ARGS, $ROUNDS rounds x $DURATION s, TSC $(tsc_mhz) MHz, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %12s %12s %7s\n' round "DPDK Mpps" "PP Mpps" ratio
for r in $(seq 1 "$ROUNDS"); do
    run_dpdk "$work/dpdk.$r.log"
    run_ours "$work/pp.$r.log"
    d=$(rates "$work/dpdk.$r.log" | median)
    p=$(rates "$work/pp.$r.log" | median)
    echo "$d" >>"$work/dpdk.rates"
    echo "$p" >>"$work/pp.rates"
    printf '%-6s %12.2f %12.2f %7s\n' "$r" "$(awk -v x="$d" 'BEGIN{print x/1e6}')" "$(awk -v x="$p" 'BEGIN{print x/1e6}')" "$(ratio "$p" "$d")"
done
d=$(median <"$work/dpdk.rates")
p=$(median <"$work/pp.rates")
own=$(grep -ho 'CPU cycles/packet=[0-9.]*' "$work"/pp.*.log | cut -d= -f2 | median)
printf '%-6s %12.2f %12.2f %7s\n' median "$(awk -v x="$d" 'BEGIN{print x/1e6}')" "$(awk -v x="$p" 'BEGIN{print x/1e6}')" "$(ratio "$p" "$d")"
echo "cycles/packet: DPDK $(cycles_per_packet "$d"), PacketPlane $(cycles_per_packet "$p") (its own loop-time measurement: $own)"
echo "PacketPlane forwarding lcore: $(pp_alloc "$work"/pp.*.log) bytes allocated per packet, $(pp_gc "$work"/pp.*.log) GC collections (worst round)"
echo "logs: $work"
result "L2Fwd, net_null pair, 1 lcore ($kind)" Mpps "$(awk -v x="$d" 'BEGIN{printf "%.2f", x/1e6}')" "$(awk -v x="$p" 'BEGIN{printf "%.2f", x/1e6}')" \
    "$(ratio "$p" "$d")" "$(cycles_per_packet "$d")" "$(cycles_per_packet "$p")" "$(pp_alloc "$work"/pp.*.log)" "$(pp_gc "$work"/pp.*.log)"
