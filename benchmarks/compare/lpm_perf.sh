#!/usr/bin/env bash
# Runs DPDK's lpm_perf_autotest (dpdk-test) and PacketPlane's equivalent (PacketPlane.Benchmarks lpm-perf)
# alternately on this machine and prints cycles per lookup of both and the ratio (ours / DPDK; below 1 = faster).
# Both build the identical ~1.08M-route table and time lookups of 1024 x 4096 random addresses per mode.
#
#   benchmarks/compare/lpm_perf.sh            # 3 rounds
#   ROUNDS=5 benchmarks/compare/lpm_perf.sh
#
# Needs: dpdk-test (Debian package dpdk), free 2 MiB hugepages (both sides use them), the .NET SDK.
# Each DPDK round takes about two minutes: its rule table makes add and delete quadratic.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-3}
OUT=$(mktemp -d /tmp/lpm_perf.XXXXXX)
BENCH=benchmarks/PacketPlane.Benchmarks/bin/Release/net10.0/PacketPlane.Benchmarks.dll

[ -n "${NO_BUILD:-}" ] || dotnet build benchmarks/PacketPlane.Benchmarks -c Release -v q -nologo >/dev/null
command -v dpdk-test >/dev/null || { echo "dpdk-test not found: apt-get install dpdk" >&2; exit 1; }

for round in $(seq 1 "$ROUNDS"); do
    echo "round $round/$ROUNDS: DPDK lpm_perf_autotest ..." >&2
    echo lpm_perf_autotest | dpdk-test --no-pci --in-memory -l 0 --file-prefix "lpmperf$$" >"$OUT/dpdk.$round" 2>&1
    echo "round $round/$ROUNDS: PacketPlane lpm-perf ..." >&2
    dotnet "$BENCH" lpm-perf >"$OUT/ours.$round" 2>&1
done

/usr/bin/python3 - "$OUT" "$ROUNDS" <<'PY'
import re, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
rows = [("single", "Average LPM Lookup"), ("bulk", "BULK LPM Lookup"), ("x4", "LPM LookupX4"), ("x8", "LPM LookupX8")]
def parse(path):
    text = open(path).read()
    vals = {name: float(m.group(1)) for name, label in rows for m in [re.search(re.escape(label) + r": ([0-9.]+) cycles", text)] if m}
    added = re.search(r"Unique added entries = (\d+)", text)
    return vals, added.group(1) if added else "?"
dpdk = [parse(f"{out}/dpdk.{r}") for r in range(1, rounds + 1)]
ours = [parse(f"{out}/ours.{r}") for r in range(1, rounds + 1)]
print(f"lpm_perf: cycles per lookup (TSC), {rounds} interleaved round(s); route table entries added: DPDK {dpdk[0][1]}, ours {ours[0][1]}")
print(f"{'mode':8}{'DPDK':>10}{'ours':>10}{'ours/DPDK':>11}   per-round DPDK | ours")
for name, _ in rows:
    d = [v[name] for v, _ in dpdk if name in v]
    o = [v[name] for v, _ in ours if name in v]
    if not o:
        continue
    ref = d if d else [v["x4"] for v, _ in dpdk]   # DPDK has no x8: compare with its x4
    md, mo = statistics.median(ref), statistics.median(o)
    label = name if d else name + "*"
    print(f"{label:8}{md:10.1f}{mo:10.1f}{mo / md:11.2f}   {' '.join(f'{x:.1f}' for x in ref)} | {' '.join(f'{x:.1f}' for x in o)}")
print("* DPDK has no x8 lookup; compared with its x4. Medians over rounds. Raw output in " + out)
for name, label in (("bulk", "LPM lookup bulk"), ("x4", "LPM lookup x4")):
    d = [v[name] for v, _ in dpdk if name in v]
    o = [v[name] for v, _ in ours if name in v]
    if d and o:
        md, mo = statistics.median(d), statistics.median(o)
        print(f"RESULT|{label}, ~1.08M routes|cycles/lookup|{md:.1f}|{mo:.1f}|{md / mo:.2f}|{md:.1f}|{mo:.1f}|n/a|n/a|dpdk-test lpm_perf_autotest")
PY
