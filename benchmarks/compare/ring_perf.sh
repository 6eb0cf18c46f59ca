#!/usr/bin/env bash
# Side by side: DPDK 22.11 `dpdk-test ring_perf_autotest` against PacketPlane's equivalent
# (benchmarks/PacketPlane.Benchmarks Perf/RingPerf.cs: same ring size, same loops, same metric), run
# alternately ROUNDS times on lcores 0-1; prints the median of each figure and the ratio
# PacketPlane/DPDK (cycles: below 1.0 means PacketPlane is faster).
#   usage: benchmarks/compare/ring_perf.sh [ROUNDS]
source "$(dirname "$0")/common.sh"
ROUNDS="${1:-${ROUNDS:-5}}"
need dpdk-test "apt-get install dpdk"
build_benchmarks
export PP_TSC_HZ="$(dpdk_tsc_hz)"
out="$(mktemp -d)"
for r in $(seq 1 "$ROUNDS"); do
    echo ring_perf_autotest | dpdk-test --no-pci --in-memory -l 0-1 --log-level=lib.eal:error >"$out/dpdk.$r" 2>&1
    dotnet "$BENCH_DLL" ring_perf >"$out/pp.$r" 2>&1
done
echo "ring_perf: $(machine_line) | TSC ${PP_TSC_HZ} Hz | ${ROUNDS} rounds, medians"
python3 - "$out" "$ROUNDS" <<'PY'
import re, statistics, sys, collections
out, rounds = sys.argv[1], int(sys.argv[2])
line_re = re.compile(r'^((?:legacy APIs|elem APIs: element size 16B): (?:SP/SC|MP/MC): (?:single|bulk \(size: \d+\)|burst \(size: \d+\))): ([0-9.]+)$')
def collect(prefix):
    vals = collections.OrderedDict()
    for r in range(1, rounds + 1):
        section = None
        for line in open(f"{out}/{prefix}.{r}"):
            line = line.strip()
            if line.startswith('###'):
                section = line.strip('# ').strip()
                continue
            m = line_re.match(line)
            if m and section and 'all worker' not in section:
                vals.setdefault((section, m.group(1)), []).append(float(m.group(2)))
    return vals
dpdk, pp = collect('dpdk'), collect('pp')
print(f"| test | figure | DPDK cycles | PacketPlane cycles | ratio |")
print(f"|---|---|---:|---:|---:|")
for key, d in dpdk.items():
    if key not in pp: continue
    dm, pm = statistics.median(d), statistics.median(pp[key])
    print(f"| {key[0]} | {key[1]} | {dm:.2f} | {pm:.2f} | {pm/dm:.2f}x |")
# Headline rows for all.sh (ratio = DPDK cycles / PacketPlane cycles: above 1 PacketPlane is faster).
headline = [("Testing bulk enq/deq", "legacy APIs: SP/SC: bulk (size: 32)", "ring SP/SC bulk 32, one lcore"),
            ("Testing bulk enq/deq", "legacy APIs: MP/MC: bulk (size: 32)", "ring MP/MC bulk 32, one lcore"),
            ("Testing using two physical cores", "legacy APIs: SP/SC: bulk (size: 32)", "ring SP/SC bulk 32, two lcores")]
for section, figure, name in headline:
    key = (section, figure)
    if key in dpdk and key in pp:
        dm, pm = statistics.median(dpdk[key]), statistics.median(pp[key])
        print(f"RESULT|{name}|cycles/element|{dm:.2f}|{pm:.2f}|{dm/pm:.2f}|{dm:.2f}|{pm:.2f}|n/a|n/a|dpdk-test ring_perf_autotest")
PY
rm -rf "$out"
