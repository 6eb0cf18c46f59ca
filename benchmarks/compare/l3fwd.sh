#!/usr/bin/env bash
# L3 forwarding on one lcore, net_pcap (infinite_rx, the L3Fwd demo capture) -> net_null: PacketPlane's L3Fwd
# against DPDK's own l3fwd example, LPM and EM lookups, alternating rounds. Prints per-round rates, medians,
# the ratio and cycles per packet.
#
#   benchmarks/compare/l3fwd.sh                        # 5 rounds, 8 samples of 1 s per run
#   ROUNDS=3 SAMPLES=5 MODES="lpm" CPU=1 benchmarks/compare/l3fwd.sh
#
# Both sides run the same command line shape: -l $CPU, port 0 = net_pcap0 replaying the capture forever, port 1 =
# net_null0, -p 0x3 --config="(0,0,$CPU)". Rate = packets received on port 0 per second (everything l3fwd
# processed: forwarded, sent back out of port 0, or dropped), read once a second from each process's DPDK
# telemetry socket (/ethdev/stats,0) by the same sampler, first SKIP samples dropped (DPDK's start, .NET's JIT
# tier-up); each run ends with SIGTERM. Cycles per packet = cpu MHz (from /proc/cpuinfo) / Mpps, as one lcore polls at 100 %.
#
# DPDK's side is built from Debian's dpdk-doc sources (/usr/share/dpdk/examples/l3fwd and ../common, installed
# on this machine; nothing is fetched) in a temporary directory, with `make` against pkg-config libdpdk. DPDK
# 22.11's l3fwd requests RX checksum offload, which net_pcap and net_null lack, and exits at configure. The copy
# (in the temporary directory only, deleted on exit) is changed by two sed expressions so the requested offloads
# are masked by what the port offers, on the port and on the queue configuration:
#     local_port_conf.rxmode.offloads &= dev_info.rx_offload_capa;        (before config_port_max_pkt_len)
#     rxq_conf.offloads = port_conf.rxmode.offloads & dev_info.rx_offload_capa;
# Nothing else changes; the ports offer no checksum offload, so neither side gets one. DPDK's l3fwd also needs
# --parse-ptype on these ports (they report no packet types); PacketPlane's L3Fwd accepts it and always checks
# headers in software.
#
# What each side does per packet is not identical, and the difference is PacketPlane's extra work: it verifies the
# IPv4 header checksum, drops TTL/hop limit <= 1, decrements the IPv6 hop limit and updates the checksum by
# RFC 1624; DPDK's l3fwd does none of these (it decrements TTL and increments the checksum field). Both drop
# headers with a bad version/IHL; DPDK forwards the other malformed frames of the capture.
#
# Needs: dpdk, libdpdk-dev, dpdk-doc, pkg-config, make, cc (Debian); free 2 MiB hugepages; the .NET 10 SDK; root
# (DPDK's telemetry socket under /var/run/dpdk). The machine is shared: figures are preliminary.
#
# Ends with one RESULT line per lookup, in benchmarks/compare's shared format (see common.sh):
#   RESULT|workload|unit|DPDK|PacketPlane|ratio|DPDK cycles|PacketPlane cycles|alloc bytes/packet|GC collections|note
# The allocation and GC figures are the worst over PacketPlane's runs, from L3Fwd's exit line (the same as TestPmd's).
set -euo pipefail
source "$(dirname "$0")/common.sh"
# common.sh gains these with the all.sh summary; defined here too so the script stands alone until then.
declare -F result >/dev/null || result() { local IFS='|'; echo "RESULT|$*"; }
declare -F pp_alloc >/dev/null || pp_alloc() {
    grep -ho 'Managed allocation on forwarding lcores: [0-9]* bytes ([0-9.]* bytes/packet)' "$@" 2>/dev/null \
        | sed 's/.*(\([0-9.]*\) bytes\/packet)/\1/' | sort -g | tail -1 | grep . || echo n/a
}
declare -F pp_gc >/dev/null || pp_gc() {
    grep -ho 'GC collections during the run: gen0=[0-9]* gen1=[0-9]* gen2=[0-9]*' "$@" 2>/dev/null \
        | awk -F'[= ]' '{ print $7 + $9 + $11 }' | sort -n | tail -1 | grep . || echo n/a
}

ROUNDS=${ROUNDS:-5}
SAMPLES=${SAMPLES:-8}
SKIP=${SKIP:-3}
CPU=${CPU:-1}
MODES=${MODES:-"lpm em"}
repo=$(cd "$(dirname "$0")/../.." && pwd)
capture="$repo/samples/L3Fwd/data/l3fwd-demo.pcap"
work=$(mktemp -d /tmp/l3fwd-bench.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

for tool in make cc pkg-config python3; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install build-essential pkg-config python3)" >&2; exit 1; }
done
[ -d /usr/share/dpdk/examples/l3fwd ] || { echo "DPDK's l3fwd sources not found: apt-get install dpdk-doc" >&2; exit 1; }
pkg-config --exists libdpdk || { echo "libdpdk not found by pkg-config: apt-get install libdpdk-dev" >&2; exit 1; }

echo "building DPDK's l3fwd in $work (Debian dpdk-doc sources, offload masking applied to the copy) ..."
cp -r /usr/share/dpdk/examples/l3fwd /usr/share/dpdk/examples/common "$work/"
sed -i \
    -e 's|^\(\t\t\)ret = config_port_max_pkt_len(&local_port_conf, &dev_info);|\1local_port_conf.rxmode.offloads \&= dev_info.rx_offload_capa;\n&|' \
    -e 's|rxq_conf.offloads = port_conf.rxmode.offloads;|rxq_conf.offloads = port_conf.rxmode.offloads \& dev_info.rx_offload_capa;|' \
    "$work/l3fwd/main.c"
[ "$(grep -c 'dev_info.rx_offload_capa' "$work/l3fwd/main.c")" -eq 2 ] || { echo "the offload masking did not apply to this l3fwd version" >&2; exit 1; }
make -C "$work/l3fwd" -s -j2 >/dev/null 2>"$work/make.log" || { cat "$work/make.log" >&2; exit 1; }
dpdk_l3fwd="$work/l3fwd/build/l3fwd"

echo "building PacketPlane's L3Fwd ..."
dotnet build "$repo/samples/L3Fwd/L3Fwd.csproj" -c Release -v quiet -nologo >/dev/null
ours_dll="$repo/samples/L3Fwd/bin/Release/net10.0/L3Fwd.dll"
mhz=$(awk -F: '/^cpu MHz/ { printf "%.0f", $2; exit }' /proc/cpuinfo)

# Samples port 0's ipackets once a second from a DPDK telemetry socket; prints one Mpps figure per line.
cat >"$work/sample.py" <<'EOF'
import json, socket, sys, time
path, count = sys.argv[1], int(sys.argv[2])
deadline = time.time() + 60
while True:
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(path)
        break
    except OSError:
        if time.time() > deadline:
            sys.exit(f"no telemetry socket at {path} after 60 s")
        time.sleep(0.2)
s.recv(4096)
def ipackets():
    s.send(b"/ethdev/stats,0")
    return json.loads(s.recv(1 << 16))["/ethdev/stats"]["ipackets"]
while ipackets() == 0:  # wait for forwarding to start
    time.sleep(0.1)
last, t0 = ipackets(), time.monotonic()
for _ in range(count):
    time.sleep(1)
    now, t1 = ipackets(), time.monotonic()
    print(f"{(now - last) / (t1 - t0) / 1e6:.3f}", flush=True)
    last, t0 = now, t1
EOF

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit } m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f\n", m }'; }

# run SIDE MODE: starts one side, samples it, stops it with SIGINT; leaves the median of the kept samples in
# $work/SIDE-MODE.median (not run in a subshell, so the cleanup trap knows the pid).
run() {
    local side=$1 mode=$2 prefix="l3fwdbench$$"
    local eal=(-l "$CPU" --vdev "net_pcap0,rx_pcap=$capture,infinite_rx=1" --vdev net_null0)
    local app=(-p 0x3 "--config=(0,0,$CPU)" --parse-ptype "--lookup=$mode")
    if [ "$side" = dpdk ]; then
        "$dpdk_l3fwd" "${eal[@]}" --no-pci --in-memory --file-prefix "$prefix" -- "${app[@]}" >"$work/$side-$mode.log" 2>&1 &
    else
        dotnet "$ours_dll" "${eal[@]}" --telemetry --file-prefix "$prefix" -- "${app[@]}" --stats-period 0 >"$work/$side-$mode.log" 2>&1 &
    fi
    local pid=$!
    pids+=("$pid")
    python3 "$work/sample.py" "/var/run/dpdk/$prefix/dpdk_telemetry.v2" "$((SAMPLES + SKIP))" >"$work/$side-$mode.samples" \
        || { kill -9 "$pid" 2>/dev/null; cat "$work/$side-$mode.log" >&2; exit 1; }
    kill -TERM "$pid" # not INT: a background job of a script starts with SIGINT ignored, and .NET keeps it so
    wait "$pid" || true
    cat "$work/$side-$mode.log" >>"$work/$side-$mode.costs"
    tail -n +"$((SKIP + 1))" "$work/$side-$mode.samples" | median >"$work/$side-$mode.median"
}

echo "l3fwd, net_pcap0 (infinite_rx, $(basename "$capture")) -> net_null0, 1 lcore on CPU $CPU, ${ROUNDS} rounds x ${SAMPLES} s (+${SKIP} s warm-up), cpu ${mhz} MHz, load $(cut -d' ' -f1-3 /proc/loadavg)"
results=()
for mode in $MODES; do
    printf '\n%-6s %-5s %12s %12s %8s\n' round mode "DPDK Mpps" "PacketPlane" ratio
    : >"$work/dpdk-$mode.all"
    : >"$work/ours-$mode.all"
    for round in $(seq 1 "$ROUNDS"); do
        run dpdk "$mode"
        run ours "$mode"
        d=$(cat "$work/dpdk-$mode.median")
        o=$(cat "$work/ours-$mode.median")
        echo "$d" >>"$work/dpdk-$mode.all"
        echo "$o" >>"$work/ours-$mode.all"
        printf '%-6s %-5s %12s %12s %8s\n' "$round" "$mode" "$d" "$o" "$(awk -v a="$o" -v b="$d" 'BEGIN { printf "%.2f", a / b }')"
    done
    dm=$(median <"$work/dpdk-$mode.all")
    om=$(median <"$work/ours-$mode.all")
    printf '%-6s %-5s %12s %12s %8s\n' median "$mode" "$dm" "$om" "$(awk -v a="$om" -v b="$dm" 'BEGIN { printf "%.2f", a / b }')"
    dc=$(awk -v r="$dm" -v m="$mhz" 'BEGIN { printf "%.1f", m / r }')
    oc=$(awk -v r="$om" -v m="$mhz" 'BEGIN { printf "%.1f", m / r }')
    printf '%-6s %-5s %12s %12s\n' cyc/pkt "$mode" "$dc" "$oc"
    results+=("$(result "l3fwd $mode, net_pcap (infinite_rx) -> net_null, 1 lcore (JIT)" Mpps "$dm" "$om" \
        "$(awk -v a="$om" -v b="$dm" 'BEGIN { printf "%.2f", a / b }')" "$dc" "$oc" \
        "$(pp_alloc "$work/ours-$mode.costs")" "$(pp_gc "$work/ours-$mode.costs")" \
        "PacketPlane also checks IPv4 checksums and TTL; ${ROUNDS}x${SAMPLES} s, load $(cut -d' ' -f1 /proc/loadavg)")")
done
echo
printf '%s\n' "${results[@]}"
