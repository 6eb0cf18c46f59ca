#!/usr/bin/env bash
# AF_XDP io forwarding, PacketPlane against DPDK, on the same veth testbed in the same run (interleaved).
#
#   benchmarks/compare/af_xdp_fwd.sh [ROUNDS=3] [SECONDS=20]
#
# Testbed (created here, removed on exit; nothing outside these namespaces is touched):
#
#   netns ppxgen                      netns ppxfwd
#   dpdk-testpmd txonly  gen0 <====> fwd0  \  forwarder under test, io mode,
#   (the traffic generator)                 >  net_af_xdp on fwd0 and fwd1,
#                        gen1 <====> fwd1  /   fwd0 -> fwd1 (and fwd1 -> fwd0)
#
# The generator sends 64-byte frames as fast as it can on gen0; the forwarder receives them on fwd0 (native
# XDP on veth, AF_XDP copy mode) and sends them out fwd1. The figure is the forwarder's port-1 TX rate in
# steady state (median of its 1-second samples, the first 3 dropped), under overload: frames the forwarder
# cannot take are dropped by the kernel and counted as RX-missed.
#
# Forwarders, each given the same EAL arguments (lcore 1 forwards, lcore 0 is the main lcore):
#   DPDK:        ${DPDK_TESTPMD:-dpdk-testpmd} ... -- --forward-mode=io --stats-period=1 (stopped with SIGINT)
#   PacketPlane: $PP_FWD_CMD ... -- --forward-mode=io --stats-period=1 --duration=S
# PP_FWD_CMD defaults to samples/TestPmd (built here if needed; PP_AOT=1 for its NativeAOT build).
#
# Needs root, dpdk-testpmd (Debian: dpdk), iproute2, 2 CPUs. DPDK needs a hugetlbfs mount: a private one is
# mounted under /tmp for the run. Numbers on a shared 2-vCPU VM are preliminary: compare ratios, not absolutes.
source "$(dirname "$0")/common.sh"

ROUNDS=${1:-${ROUNDS:-3}}
DURATION=${2:-${DURATION:-20}}
WARMUP_SAMPLES=3
DPDK_TESTPMD=${DPDK_TESTPMD:-dpdk-testpmd}
NS_GEN=ppxgen
NS_FWD=ppxfwd
HUGE_DIR=/tmp/pp-afxdp-fwd-huge.$$
LOG_DIR=${LOG_DIR:-/tmp/pp-afxdp-fwd.$$}

if [[ -z "${PP_FWD_CMD:-}" ]]; then
    PP_FWD_CMD=$(pp_sample_cmd TestPmd)
fi

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    ip netns del "$NS_GEN" 2>/dev/null || true
    ip netns del "$NS_FWD" 2>/dev/null || true
    umount "$HUGE_DIR" 2>/dev/null && rmdir "$HUGE_DIR" || true
}
trap cleanup EXIT

setup() {
    ip netns add "$NS_GEN"
    ip netns add "$NS_FWD"
    for i in 0 1; do
        ip link add "ppxg$i" type veth peer name "ppxf$i"
        ip link set "ppxg$i" netns "$NS_GEN" name "gen$i"
        ip link set "ppxf$i" netns "$NS_FWD" name "fwd$i"
        ip netns exec "$NS_GEN" sysctl -qw "net.ipv6.conf.gen$i.disable_ipv6=1"
        ip netns exec "$NS_FWD" sysctl -qw "net.ipv6.conf.fwd$i.disable_ipv6=1"
        ip -n "$NS_GEN" link set "gen$i" up
        ip -n "$NS_FWD" link set "fwd$i" up
    done
    mkdir -p "$HUGE_DIR" "$LOG_DIR"
    mount -t hugetlbfs -o pagesize=2M none "$HUGE_DIR"
}

# Median of port 1's Tx-pps samples in a testpmd-style log, warm-up samples and the idle tail dropped.
median_tx_pps() {
    awk -v skip="$WARMUP_SAMPLES" '
        /statistics for port/ { match($0, /port [0-9]+/); port = substr($0, RSTART + 5, RLENGTH - 5) + 0 }
        /Tx-pps:/ && port == 1 { v[n++] = $2 + 0 }
        END {
            while (n > 0 && v[n - 1] == 0) n--;          # generator stopped
            m = 0; for (i = skip; i < n; i++) s[m++] = v[i];
            if (m == 0) { print 0; exit }
            for (i = 1; i < m; i++) { x = s[i]; for (j = i - 1; j >= 0 && s[j] > x; j--) s[j + 1] = s[j]; s[j + 1] = x }
            print (m % 2) ? s[(m - 1) / 2] : int((s[m / 2 - 1] + s[m / 2]) / 2)
        }' "$1"
}

eal_fwd="-l 0,1 --main-lcore 0 --in-memory --no-pci --vdev net_af_xdp0,iface=fwd0 --vdev net_af_xdp1,iface=fwd1"

run_generator() {
    ip netns exec "$NS_GEN" timeout -s INT "$((DURATION + 2))" "$DPDK_TESTPMD" -l 0,1 --main-lcore 1 --in-memory \
        --huge-dir "$HUGE_DIR" --file-prefix ppxgen --no-pci --vdev net_af_xdp0,iface=gen0 -- \
        --forward-mode=txonly --stats-period=1 --total-num-mbufs=8192 --nb-cores=1 >"$1" 2>&1 </dev/null || true
}

run_dpdk() {
    local log=$1
    ip netns exec "$NS_FWD" timeout -s INT "$((DURATION + 8))" "$DPDK_TESTPMD" $eal_fwd --huge-dir "$HUGE_DIR" \
        --file-prefix ppxfwd -- --forward-mode=io --stats-period=1 --total-num-mbufs=8192 --nb-cores=1 --rxd=1024 --txd=1024 >"$log" 2>&1 </dev/null &
    pids+=($!); local fwd=$!
    sleep 4
    run_generator "$log.gen"
    wait "$fwd" || true
}

run_packetplane() {
    local log=$1
    ip netns exec "$NS_FWD" timeout -s INT "$((DURATION + 30))" $PP_FWD_CMD $eal_fwd -- \
        --forward-mode=io --stats-period=1 --rxd=1024 --txd=1024 --duration="$((DURATION + 6))" >"$log" 2>&1 </dev/null &
    pids+=($!); local fwd=$!
    sleep 4
    run_generator "$log.gen"
    wait "$fwd" || true
}

command -v "$DPDK_TESTPMD" >/dev/null || { echo "needs $DPDK_TESTPMD (apt-get install dpdk)"; exit 1; }
[[ $(id -u) == 0 ]] || { echo "needs root (network namespaces, XDP)"; exit 1; }
setup
mhz=$(awk -F: '/cpu MHz/ { print $2 + 0; exit }' /proc/cpuinfo)
echo "AF_XDP io forwarding over veth, 64-byte frames, $ROUNDS round(s) x ${DURATION} s, CPU ${mhz} MHz"
echo "PacketPlane: $PP_FWD_CMD"
echo "DPDK:        $($DPDK_TESTPMD --version 2>/dev/null | head -1 || true)$(dpkg-query -W -f=' (Debian dpdk ${Version})' dpdk 2>/dev/null || true)"
printf '%-6s %14s %14s %7s %12s %12s\n' round dpdk_pps pp_pps ratio dpdk_cyc/pkt pp_cyc/pkt
ratios=()
dall=()
pall=()
for r in $(seq 1 "$ROUNDS"); do
    run_dpdk "$LOG_DIR/dpdk.$r.log"
    run_packetplane "$LOG_DIR/pp.$r.log"
    d=$(median_tx_pps "$LOG_DIR/dpdk.$r.log")
    p=$(median_tx_pps "$LOG_DIR/pp.$r.log")
    ratio=$(awk -v a="$p" -v b="$d" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    cd_=$(awk -v m="$mhz" -v x="$d" 'BEGIN { printf "%.0f", (x > 0 ? m * 1e6 / x : 0) }')
    cp_=$(awk -v m="$mhz" -v x="$p" 'BEGIN { printf "%.0f", (x > 0 ? m * 1e6 / x : 0) }')
    printf '%-6s %14s %14s %7s %12s %12s\n' "$r" "$d" "$p" "$ratio" "$cd_" "$cp_"
    ratios+=("$ratio")
    dall+=("$d")
    pall+=("$p")
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[n++] = $1 } END { printf "median ratio PacketPlane/DPDK: %s (cycles per packet = forwarding lcore clock / forwarded pps)\n", (n % 2) ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2 }'
echo "logs: $LOG_DIR"
d=$(printf '%s\n' "${dall[@]}" | median)
p=$(printf '%s\n' "${pall[@]}" | median)
echo "PacketPlane forwarding lcore: $(pp_alloc "$LOG_DIR"/pp.*.log) bytes allocated per packet, $(pp_gc "$LOG_DIR"/pp.*.log) GC collections (worst round)"
result "AF_XDP io fwd over veth (copy mode), 1 lcore ($(pp_build_kind))" Mpps "$(awk -v x="$d" 'BEGIN{printf "%.3f", x/1e6}')" \
    "$(awk -v x="$p" 'BEGIN{printf "%.3f", x/1e6}')" "$(ratio "$p" "$d")" "$(cycles_per_packet "$d")" "$(cycles_per_packet "$p")" \
    "$(pp_alloc "$LOG_DIR"/pp.*.log)" "$(pp_gc "$LOG_DIR"/pp.*.log)" "generator: dpdk-testpmd txonly on the other vCPU"
