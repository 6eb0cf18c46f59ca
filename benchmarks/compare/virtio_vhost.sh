#!/bin/bash
# Side-by-side Mpps of a vhost-user backend serving DPDK's virtio-user frontend (net_virtio_user in dpdk-testpmd):
# PacketPlane's net_vhost versus DPDK's own net_vhost, in the same run, interleaved.
#
#   receive:  DPDK's frontend sends 64-byte frames (txonly); the backend under test drains them (rxonly). The
#             frontend's Tx-pps counts what the backend took.
#   transmit: the backend under test sends (txonly) into the frontend's receive ring; the frontend (rxonly)
#             counts them: its Rx-pps.
#
# The frontend's forwarding lcore runs on CPU 0, the backend under test on CPU 1. See virtio_user.sh for PP_CMD.
source "$(dirname "$0")/common.sh"
cd "$REPO"

PP_CMD=${PP_CMD:-$(pp_sample_cmd TestPmd)}   # PP_AOT=1: the NativeAOT build
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
QUEUE_SIZE=${QUEUE_SIZE:-1024}
PACKED=${PACKED:-0}
WORK=$(mktemp -d /tmp/ppvhost.XXXXXX)
SOCK=$WORK/vhost.sock
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

MHZ=$(tsc_mhz)


# run_case NAME BACKEND_KIND BACKEND_MODE FRONTEND_MODE COUNTER
run_case() {
    local name=$1 kind=$2 be_mode=$3 fe_mode=$4 counter=$5
    local fe_log=$WORK/fe.log be_log=$WORK/be.log
    rm -f "$SOCK"
    if [ "$kind" = dpdk ]; then
        dpdk-testpmd -l 0-1 --main-lcore 0 --no-pci --in-memory --file-prefix ppbench-be \
            --vdev "net_vhost0,iface=$SOCK" -- --forward-mode="$be_mode" --stats-period=1 \
            --total-num-mbufs=8192 --txpkts=64 > "$be_log" 2>&1 &
    else
        $PP_CMD -l 0-1 --main-lcore 0 --vdev "net_vhost0,iface=$SOCK" \
            -- --forward-mode="$be_mode" --stats-period=1 --duration=$((DURATION + 5)) --total-num-mbufs=8192 --txpkts=64 > "$be_log" 2>&1 &
    fi
    local be=$!
    for _ in $(seq 200); do [ -S "$SOCK" ] && break; sleep 0.1; done
    timeout $((DURATION + 30)) dpdk-testpmd -l 0-1 --main-lcore 1 --no-pci --in-memory --single-file-segments \
        --file-prefix ppbench-fe --vdev "net_virtio_user0,path=$SOCK,queue_size=$QUEUE_SIZE,packed_vq=$PACKED" \
        -- --forward-mode="$fe_mode" --stats-period=1 --total-num-mbufs=8192 --txpkts=64 > "$fe_log" 2>&1 &
    local fe=$!
    sleep "$DURATION"
    kill -INT $fe 2>/dev/null || true
    wait $fe 2>/dev/null || true
    kill -INT $be 2>/dev/null || true
    wait $be 2>/dev/null || true
    local pps
    pps=$(mean_pps "$fe_log" "$counter")
    # The frontend needs ~3 s to start on a loaded 2-vCPU machine and the first 2 samples are dropped: with too
    # short a DURATION nothing is left to average, which must not pass for a measured 0.
    if [ "$pps" = 0 ]; then
        echo "  $name $kind: no $counter sample after the first 2 in $fe_log (DURATION=$DURATION too short, or no traffic)" >&2
        grep -E "pps|rror" "$fe_log" | tail -4 >&2 || true
    fi
    echo "$name $kind $pps" >> "$WORK/results"
    if [ "$kind" = packetplane ]; then cat "$be_log" >> "$WORK/pp_$name.log"; fi
    printf '  %-9s %-11s %8.3f Mpps  %6.0f cycles/packet\n' "$name" "$kind" "$(echo "$pps / 1000000" | bc -l)" \
        "$(echo "if ($pps > 0) $MHZ * 1000000 / $pps else 0" | bc -l)"
}

echo "vhost-user backends serving DPDK net_virtio_user: $DURATION s x $ROUNDS rounds, 64-byte frames, queue_size=$QUEUE_SIZE, packed_vq=$PACKED, cpu MHz $MHZ"
: > "$WORK/results"
for round in $(seq "$ROUNDS"); do
    echo "round $round"
    for kind in dpdk packetplane; do
        run_case receive "$kind" rxonly txonly Tx-pps
        run_case transmit "$kind" txonly rxonly Rx-pps
    done
done
echo "mean over rounds (PacketPlane / DPDK):"
for name in receive transmit; do
    d=$(awk -v n=$name '$1==n && $2=="dpdk" {s+=$3; c++} END {printf "%.0f\n", (c ? s/c : 0)}' "$WORK/results")
    p=$(awk -v n=$name '$1==n && $2=="packetplane" {s+=$3; c++} END {printf "%.0f\n", (c ? s/c : 0)}' "$WORK/results")
    printf '  %-9s DPDK %7.3f Mpps  PacketPlane %7.3f Mpps  ratio %.2f\n' "$name" "$(echo "$d/1000000" | bc -l)" \
        "$(echo "$p/1000000" | bc -l)" "$(echo "if ($d > 0) $p/$d else 0" | bc -l)"
done
for name in receive transmit; do
    d=$(awk -v n=$name '$1==n && $2=="dpdk" {s+=$3; c++} END {printf "%.0f\n", (c ? s/c : 0)}' "$WORK/results")
    p=$(awk -v n=$name '$1==n && $2=="packetplane" {s+=$3; c++} END {printf "%.0f\n", (c ? s/c : 0)}' "$WORK/results")
    result "vhost-user backend vs DPDK virtio-user, $name, packed_vq=$PACKED ($(pp_build_kind))" Mpps "$(awk -v x="$d" 'BEGIN{printf "%.3f", x/1e6}')" \
        "$(awk -v x="$p" 'BEGIN{printf "%.3f", x/1e6}')" "$(ratio "$p" "$d")" "$(cycles_per_packet "$d")" "$(cycles_per_packet "$p")" \
        "$(pp_alloc "$WORK/pp_$name.log")" "$(pp_gc "$WORK/pp_$name.log")" "mean over rounds; the DPDK peer polls on the other vCPU"
done
