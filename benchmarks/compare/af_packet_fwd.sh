#!/usr/bin/env bash
# AF_PACKET io forwarding, DPDK's dpdk-testpmd against PacketPlane, on the same veth testbed in the same run.
#
#   generator netns ppb_gen:   dpdk-testpmd --forward-mode=txonly on net_af_packet(gen0)   [CPU 0]
#        gen0 <-veth-> fwd0
#   forwarder netns ppb_fwd:   port 0 = net_af_packet(fwd0), port 1 = net_af_packet(fwd1), io forwarding [CPU 1]
#        fwd1 <-veth-> sink0
#   sink netns ppb_sink:       sink0 drops everything (no listener)
#
# The forwarded rate is port 1's TX rate in the forwarder (what left fwd1), from the forwarder's own
# per-second counters; the median of the steady-state seconds is reported, with cycles per packet
# (CPU MHz / Mpps, one forwarding core). DPDK and PacketPlane alternate for ROUNDS rounds so both see
# the same machine state. With 2 vCPUs shared by the generator, the forwarder and the kernel's softirq
# work (veth delivery runs in the sender's context), the figures are indicative only.
#
# Environment:
#   DURATION=15          seconds each forwarder runs (the first 3 are discarded as warm-up)
#   ROUNDS=2             DPDK/PacketPlane alternations
#   PKT_SIZE=64          generator frame size
#   FWD_ARGS=            extra net_af_packet arguments for the forwarder's ports, e.g. ",framecnt=2048"
#   PP_CMD=...           the PacketPlane forwarder, called with DPDK-style arguments:
#                        $PP_CMD -l 0,1 --main-lcore 0 --vdev net_af_packet0,iface=fwd0 --vdev net_af_packet1,iface=fwd1 \
#                                -- --forward-mode=io --stats-period=1 --duration=S
#                        Default: samples/TestPmd (built here if needed; PP_AOT=1 for its NativeAOT build).
#                        PP_CMD=none runs the DPDK side only.
# Needs root, dpdk-testpmd (Debian package dpdk), iproute2, hugepages (echo 1024 > /proc/sys/vm/nr_hugepages).
source "$(dirname "$0")/common.sh"
cd "$REPO"
ROOT=$PWD
DURATION=${DURATION:-15}
ROUNDS=${ROUNDS:-2}
PKT_SIZE=${PKT_SIZE:-64}
FWD_ARGS=${FWD_ARGS:-}
WARMUP=3
OUT=$(mktemp -d /tmp/pp_afp_bench.XXXXXX)
MHZ=$(awk -F: '/cpu MHz/ {print $2; exit}' /proc/cpuinfo | tr -d ' ')

if [[ -z "${PP_CMD:-}" ]]; then
    PP_CMD=$(pp_sample_cmd TestPmd)   # PP_AOT=1: the NativeAOT build
fi

GEN_PID=
cleanup() {
    if [[ -n "$GEN_PID" ]]; then kill -INT "$GEN_PID" 2>/dev/null || true; wait "$GEN_PID" 2>/dev/null || true; GEN_PID=; fi
    for ns in ppb_gen ppb_fwd ppb_sink; do ip netns del $ns 2>/dev/null || true; done
}
trap cleanup EXIT

testbed() {
    cleanup
    for ns in ppb_gen ppb_fwd ppb_sink; do ip netns add $ns; ip -n $ns link set lo up; done
    ip link add gen0 netns ppb_gen type veth peer name fwd0 netns ppb_fwd
    ip link add fwd1 netns ppb_fwd type veth peer name sink0 netns ppb_sink
    for pair in ppb_gen:gen0 ppb_fwd:fwd0 ppb_fwd:fwd1 ppb_sink:sink0; do
        ns=${pair%%:*}; dev=${pair##*:}
        ip netns exec $ns sysctl -qw net.ipv6.conf.$dev.disable_ipv6=1
        ip -n $ns link set $dev multicast off up
    done
}

start_generator() {
    # Forwarding lcore 0 on CPU 0; the main lcore (CPU 1) only prints stats.
    ip netns exec ppb_gen dpdk-testpmd -l 0,1 --main-lcore 1 --in-memory --file-prefix=ppb_gen --no-pci \
        --vdev "net_af_packet0,iface=gen0" -- --forward-mode=txonly --txpkts="$PKT_SIZE" --txonly-multi-flow \
        --total-num-mbufs=8192 --stats-period=5 >"$OUT/gen.log" 2>&1 &
    GEN_PID=$!
    sleep 4
}

stop_generator() {
    kill -INT "$GEN_PID" 2>/dev/null || true
    wait "$GEN_PID" 2>/dev/null || true
    GEN_PID=
}

# Median of port 1's Tx-pps over the steady-state seconds of a testpmd-format log.
median_tx_pps() {
    awk -v skip=$WARMUP '
        /NIC statistics for port 1/ { p1 = 1; next }
        /NIC statistics for port/   { p1 = 0 }
        p1 && /Tx-pps:/ { n++; if (n > skip) print $2 }' "$1" | sort -n | awk '{a[NR]=$1} END { if (NR == 0) print 0; else print a[int((NR+1)/2)] }'
}

run_forwarder() { # name command...
    local name=$1; shift
    ip netns exec ppb_fwd timeout -s INT $((DURATION + 2)) "$@" >"$OUT/$name.log" 2>&1 || true
    median_tx_pps "$OUT/$name.log"
}

dpdk_forwarder() {
    run_forwarder "dpdk_$1" dpdk-testpmd -l 0,1 --main-lcore 0 --in-memory --file-prefix=ppb_fwd --no-pci \
        --vdev "net_af_packet0,iface=fwd0$FWD_ARGS" --vdev "net_af_packet1,iface=fwd1$FWD_ARGS" \
        -- --forward-mode=io --total-num-mbufs=8192 --stats-period=1
}

pp_forwarder() {
    # shellcheck disable=SC2086
    run_forwarder "pp_$1" $PP_CMD -l 0,1 --main-lcore 0 \
        --vdev "net_af_packet0,iface=fwd0$FWD_ARGS" --vdev "net_af_packet1,iface=fwd1$FWD_ARGS" \
        -- --forward-mode=io --stats-period=1 --duration="$DURATION"
}

testbed
start_generator
declare -a DPDK PP
for r in $(seq 1 "$ROUNDS"); do
    DPDK+=("$(dpdk_forwarder "$r")")
    if [[ "$PP_CMD" != none ]]; then PP+=("$(pp_forwarder "$r")"); fi
done
stop_generator
GEN_PPS=$(awk '/Tx-pps:/ {v=$2} END {print v+0}' "$OUT/gen.log")

fmt() { awk -v pps="$1" -v mhz="$MHZ" 'BEGIN { if (pps > 0) printf "%.3f Mpps (%.0f cycles/packet)", pps/1e6, mhz*1e6/pps; else printf "no traffic" }'; }
median_of() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "AF_PACKET io forwarding over veth, ${PKT_SIZE}-byte frames, ${DURATION}s x ${ROUNDS} rounds, CPU ${MHZ} MHz (logs: $OUT)"
echo "generator (dpdk-testpmd txonly) last rate: $(fmt "$GEN_PPS")"
echo "dpdk-testpmd rounds: ${DPDK[*]}"
echo "dpdk-testpmd:  $(fmt "$(median_of "${DPDK[@]}")")"
if [[ "$PP_CMD" != none ]]; then
    echo "PacketPlane rounds: ${PP[*]}  ($PP_CMD)"
    echo "PacketPlane:   $(fmt "$(median_of "${PP[@]}")")"
    awk -v a="$(median_of "${PP[@]}")" -v b="$(median_of "${DPDK[@]}")" 'BEGIN { if (b > 0) printf "ratio PacketPlane / DPDK: %.2f\n", a/b }'
    d=$(median_of "${DPDK[@]}"); p=$(median_of "${PP[@]}")
    echo "PacketPlane forwarding lcore: $(pp_alloc "$OUT"/pp_*.log) bytes allocated per packet, $(pp_gc "$OUT"/pp_*.log) GC collections (worst round)"
    result "AF_PACKET io fwd over veth, 1 lcore ($(pp_build_kind))" Mpps "$(awk -v x="$d" 'BEGIN{printf "%.3f", x/1e6}')" \
        "$(awk -v x="$p" 'BEGIN{printf "%.3f", x/1e6}')" "$(ratio "$p" "$d")" "$(cycles_per_packet "$d")" "$(cycles_per_packet "$p")" \
        "$(pp_alloc "$OUT"/pp_*.log)" "$(pp_gc "$OUT"/pp_*.log)" "generator: dpdk-testpmd txonly on the other vCPU"
fi
