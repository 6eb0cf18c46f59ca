#!/bin/bash
# Side-by-side Mpps of a virtio-user frontend against DPDK's vhost-user backend (net_vhost in dpdk-testpmd):
# PacketPlane's net_virtio_user versus DPDK's own net_virtio_user, in the same run, interleaved.
#
#   transmit: the frontend sends 64-byte frames (txonly), DPDK's backend counts them (rxonly): its Rx-pps.
#   receive:  DPDK's backend sends (txonly) into the frontend's receive ring (rxonly): its Tx-pps counts what fit.
#
# The backend's forwarding lcore runs on CPU 0, the frontend under test on CPU 1. Needs root (hugepages for DPDK),
# dpdk-testpmd (apt-get install dpdk) and a Release build (dotnet build PacketPlane.sln -c Release).
#
# PP_CMD runs PacketPlane's side (default: samples/TestPmd); it takes testpmd-style arguments: EAL arguments,
# then "--", then --forward-mode=txonly|rxonly|io --stats-period=1 --duration=S. Like DPDK's side it gets lcores
# 0-1 with the main (statistics) lcore on CPU 0, so its forwarding lcore runs on CPU 1.
source "$(dirname "$0")/common.sh"
cd "$REPO"

PP_CMD=${PP_CMD:-$(pp_sample_cmd TestPmd)}   # PP_AOT=1: the NativeAOT build
DURATION=${DURATION:-10}      # seconds each measurement runs
ROUNDS=${ROUNDS:-3}           # interleaved rounds per case
QUEUE_SIZE=${QUEUE_SIZE:-1024}
PACKED=${PACKED:-0}           # 1: packed rings on both frontends
WORK=$(mktemp -d /tmp/ppvirtio.XXXXXX)
SOCK=$WORK/vhost.sock
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

MHZ=$(tsc_mhz)


# run_case NAME PEER_MODE FRONTEND_KIND FRONTEND_MODE COUNTER
run_case() {
    local name=$1 peer_mode=$2 kind=$3 fe_mode=$4 counter=$5
    local peer_log=$WORK/peer.log fe_log=$WORK/fe.log
    rm -f "$SOCK"
    dpdk-testpmd -l 0-1 --main-lcore 1 --no-pci --in-memory --file-prefix ppbench-be \
        --vdev "net_vhost0,iface=$SOCK" -- --forward-mode="$peer_mode" --stats-period=1 \
        --total-num-mbufs=8192 --txpkts=64 > "$peer_log" 2>&1 &
    local peer=$!
    for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
    if [ "$kind" = dpdk ]; then
        timeout $((DURATION + 30)) dpdk-testpmd -l 0-1 --main-lcore 0 --no-pci --in-memory --single-file-segments \
            --file-prefix ppbench-fe --vdev "net_virtio_user0,path=$SOCK,queue_size=$QUEUE_SIZE,packed_vq=$PACKED" \
            -- --forward-mode="$fe_mode" --stats-period=1 --total-num-mbufs=8192 --txpkts=64 > "$fe_log" 2>&1 &
        local fe=$!
        sleep "$DURATION"
        kill -INT $fe 2>/dev/null || true
        wait $fe 2>/dev/null || true
    else
        timeout $((DURATION + 60)) $PP_CMD -l 0-1 --main-lcore 0 --vdev "net_virtio_user0,path=$SOCK,queue_size=$QUEUE_SIZE,packed_vq=$PACKED" \
            -- --forward-mode="$fe_mode" --stats-period=1 --duration="$DURATION" --total-num-mbufs=8192 --txpkts=64 > "$fe_log" 2>&1 || true
    fi
    kill -INT $peer 2>/dev/null || true
    wait $peer 2>/dev/null || true
    local pps
    pps=$(mean_pps "$peer_log" "$counter")
    echo "$name $kind $pps" >> "$WORK/results"
    if [ "$kind" = packetplane ]; then cat "$fe_log" >> "$WORK/pp_$name.log"; fi
    printf '  %-9s %-11s %8.3f Mpps  %6.0f cycles/packet\n' "$name" "$kind" "$(echo "$pps / 1000000" | bc -l)" \
        "$(echo "if ($pps > 0) $MHZ * 1000000 / $pps else 0" | bc -l)"
    if [ "$kind" = packetplane ]; then grep -h 'Managed allocation' "$fe_log" | sed 's/^/            /' || true; fi
}

echo "virtio-user frontends against DPDK net_vhost: $DURATION s x $ROUNDS rounds, 64-byte frames, queue_size=$QUEUE_SIZE, packed_vq=$PACKED, cpu MHz $MHZ"
: > "$WORK/results"
for round in $(seq "$ROUNDS"); do
    echo "round $round"
    for kind in dpdk packetplane; do
        run_case transmit rxonly "$kind" txonly Rx-pps
        run_case receive txonly "$kind" rxonly Tx-pps
    done
done
echo "mean over rounds (PacketPlane / DPDK):"
for name in transmit receive; do
    d=$(awk -v n=$name '$1==n && $2=="dpdk" {s+=$3; c++} END {printf "%.0f\n", (c ? s/c : 0)}' "$WORK/results")
    p=$(awk -v n=$name '$1==n && $2=="packetplane" {s+=$3; c++} END {printf "%.0f\n", (c ? s/c : 0)}' "$WORK/results")
    printf '  %-9s DPDK %7.3f Mpps  PacketPlane %7.3f Mpps  ratio %.2f\n' "$name" "$(echo "$d/1000000" | bc -l)" \
        "$(echo "$p/1000000" | bc -l)" "$(echo "if ($d > 0) $p/$d else 0" | bc -l)"
done
for name in transmit receive; do
    d=$(awk -v n=$name '$1==n && $2=="dpdk" {s+=$3; c++} END {printf "%.0f\n", (c ? s/c : 0)}' "$WORK/results")
    p=$(awk -v n=$name '$1==n && $2=="packetplane" {s+=$3; c++} END {printf "%.0f\n", (c ? s/c : 0)}' "$WORK/results")
    result "virtio-user frontend vs DPDK vhost, $name, packed_vq=$PACKED ($(pp_build_kind))" Mpps "$(awk -v x="$d" 'BEGIN{printf "%.3f", x/1e6}')" \
        "$(awk -v x="$p" 'BEGIN{printf "%.3f", x/1e6}')" "$(ratio "$p" "$d")" "$(cycles_per_packet "$d")" "$(cycles_per_packet "$p")" \
        "$(pp_alloc "$WORK/pp_$name.log")" "$(pp_gc "$WORK/pp_$name.log")" "mean over rounds; the DPDK peer polls on the other vCPU"
done
