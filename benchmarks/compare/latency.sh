#!/usr/bin/env bash
# Per-packet latency through an l2fwd forwarding loop over ring-backed ports: PacketPlane's samples/L2Fwd loop
# (PacketPlane.Benchmarks l2fwd-latency) against our C twin on DPDK (latency/l2fwd_latency.c, compiled here with
# gcc against libdpdk), alternating rounds. Both: generator and receiver on the main lcore (CPU 0), l2fwd's loop
# (-q 2, bursts of 32, TX drained every 100 us) on lcore 1 (CPU 1), G==ring==>A -> l2fwd -> B==ring==>S.
#
#   benchmarks/compare/latency.sh                          # 3 rounds at 1 Mpps and 0.1 Mpps, 10 s each
#   ROUNDS=1 SECONDS_PER_RUN=5 benchmarks/compare/latency.sh
#   GC_TABLE=1 benchmarks/compare/latency.sh               # also PacketPlane under several GC settings
#
# Prints p50, p99, p99.9 and max in microseconds (median over rounds) and RESULT lines (speed vs DPDK = DPDK
# latency / PacketPlane latency: above 1.00 PacketPlane's packets arrive sooner).
# Needs root, hugepages, gcc, pkg-config, libdpdk-dev (rte_eth_ring.h, librte_net_ring), the .NET 10 SDK.
source "$(dirname "$0")/common.sh"
ROUNDS=${ROUNDS:-3}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
WARMUP=${WARMUP:-2}
RATES=${RATES:-"1000000 100000"}
GC_TABLE=${GC_TABLE:-0}
work=$(mktemp -d /tmp/pp-latency.XXXXXX)

need gcc "apt-get install gcc"
pkg-config --exists libdpdk || { echo "pkg-config finds no libdpdk: apt-get install libdpdk-dev" >&2; exit 1; }
gcc -O3 -Wall -Wextra -Werror $(pkg-config --cflags libdpdk) "$REPO/benchmarks/compare/latency/l2fwd_latency.c" \
    -o "$work/l2fwd_latency" $(pkg-config --libs libdpdk) -lrte_net_ring
[[ -n "${NO_BUILD:-}" ]] || build_benchmarks

run_dpdk() { # rate log
    "$work/l2fwd_latency" -l 0,1 --in-memory --no-pci --file-prefix pp-latency --log-level=lib.eal:error -- \
        --rate "$1" --seconds "$SECONDS_PER_RUN" --warmup "$WARMUP" >"$2" 2>&1 || true
}

run_ours() { # rate log [extra args]
    local rate=$1 log=$2
    shift 2
    dotnet "$BENCH_DLL" l2fwd-latency --rate "$rate" --seconds "$SECONDS_PER_RUN" --warmup "$WARMUP" "$@" >"$log" 2>&1 || true
}

# field LOG NAME -> the value of NAME= on the latency_ns line, in microseconds
field() { sed -n "s/.*latency_ns:.* $2=\([0-9]*\).*/\1/p; s/.*latency_ns: $2=\([0-9]*\).*/\1/p" "$1" | head -1 | awk '{ printf "%.1f\n", $1 / 1000 }'; }

echo "l2fwd latency over ring ports: $ROUNDS rounds x ${SECONDS_PER_RUN} s (+${WARMUP} s warm-up) per rate, load $(cut -d' ' -f1-3 /proc/loadavg)"
for rate in $RATES; do
    for r in $(seq 1 "$ROUNDS"); do
        run_dpdk "$rate" "$work/dpdk.$rate.$r.log"
        run_ours "$rate" "$work/pp.$rate.$r.log"
    done
    mpps=$(awk -v r="$rate" 'BEGIN { printf "%g", r / 1e6 }')
    printf '\n%s Mpps offered   %10s %10s %10s %10s   (microseconds, median of %s rounds)\n' "$mpps" p50 p99 p99.9 max "$ROUNDS"
    for side in dpdk pp; do
        row=()
        for f in p50 p99 p99.9 max; do
            row+=("$(for r in $(seq 1 "$ROUNDS"); do field "$work/$side.$rate.$r.log" "$f"; done | median)")
        done
        printf '  %-17s %10s %10s %10s %10s\n' "$([[ $side == dpdk ]] && echo DPDK || echo PacketPlane)" "${row[@]}"
        eval "${side}_row=(\"\${row[@]}\")"
    done
    i=0
    for f in p50 p99 p99.9 max; do
        # shellcheck disable=SC2154
        result "L2Fwd latency $f, ring ports, ${mpps} Mpps" us "${dpdk_row[$i]}" "${pp_row[$i]}" "$(ratio "${dpdk_row[$i]}" "${pp_row[$i]}")" \
            n/a n/a n/a "$(grep -ho 'gc=[0-9/]*' "$work"/pp."$rate".*.log | sed 's/gc=//; s/\// + /g' | awk '{ s = $1 + $3 + $5; if (s > m) m = s } END { print m + 0 }')" \
            "generator+receiver on CPU 0, forwarding on CPU 1; speed = DPDK latency / PacketPlane latency"
        i=$((i + 1))
    done
done

if [[ "$GC_TABLE" == 1 ]]; then
    rate=${GC_RATE:-100000}
    echo
    echo "PacketPlane latency under GC settings, $(awk -v r="$rate" 'BEGIN { printf "%g", r / 1e6 }') Mpps, ${SECONDS_PER_RUN} s each;"
    echo "'alloc' = the generator thread allocates 1 KiB of garbage per packet (~$((rate / 1000)) MB/s), so collections happen"
    printf '| %-44s | %-5s | %8s | %8s | %8s | %8s | %-9s |\n' setting alloc p50 p99 p99.9 max "GCs 0/1/2"
    printf '|%s|%s|%s|%s|%s|%s|%s|\n' "----------------------------------------------" "-------" "---------:" "---------:" "---------:" "---------:" "-----------"
    variants=(
        "default (workstation, SustainedLowLatency)|"
        "LatencyMode=Batch|--latency-mode Batch"
        "LatencyMode=Interactive|--latency-mode Interactive"
        "DOTNET_gcServer=1|env DOTNET_gcServer=1"
        "DOTNET_gcConcurrent=0|env DOTNET_gcConcurrent=0"
        "DOTNET_GCgen0size=0x10000000 (256 MiB)|env DOTNET_GCgen0size=0x10000000"
        "DOTNET_TieredCompilation=0|env DOTNET_TieredCompilation=0"
    )
    for v in "${variants[@]}"; do
        label=${v%%|*}
        spec=${v#*|}
        envs=()
        args=()
        if [[ $spec == env\ * ]]; then envs=("${spec#env }"); elif [[ -n $spec ]]; then read -ra args <<<"$spec"; fi
        for alloc in 0 1024; do
            log="$work/gc.$(echo "$label" | tr -c 'A-Za-z0-9' _).$alloc.log"
            env "${envs[@]}" dotnet "$BENCH_DLL" l2fwd-latency --rate "$rate" --seconds "$SECONDS_PER_RUN" --warmup "$WARMUP" \
                --alloc-per-packet "$alloc" "${args[@]}" >"$log" 2>&1 || true
            printf '| %-44s | %-5s | %8s | %8s | %8s | %8s | %-9s |\n' "$label" "$([[ $alloc == 0 ]] && echo none || echo 1KiB)" \
                "$(field "$log" p50)" "$(field "$log" p99)" "$(field "$log" p99.9)" "$(field "$log" max)" "$(grep -o 'gc=[0-9/]*' "$log" | cut -d= -f2)"
        done
    done
    echo "(microseconds)"
fi
echo "logs: $work"
