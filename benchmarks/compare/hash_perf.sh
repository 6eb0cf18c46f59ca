#!/usr/bin/env bash
# Runs DPDK's hash_perf_autotest (dpdk-test) and PacketPlane's equivalent (PacketPlane.Benchmarks hash-perf)
# alternately and prints, for the "Without locks in the code" tables (2^19 entries, 75 % full, jhash, keys of
# 4..64 bytes), cycles per operation of both and the ratio (ours / DPDK; below 1 = faster).
#
#   benchmarks/compare/hash_perf.sh           # 1 round (DPDK's autotest alone takes about 4 minutes)
#   ROUNDS=3 benchmarks/compare/hash_perf.sh
#
# Needs: dpdk-test (Debian package dpdk), free 2 MiB hugepages, the .NET SDK.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-1}
OUT=$(mktemp -d /tmp/hash_perf.XXXXXX)
BENCH=benchmarks/PacketPlane.Benchmarks/bin/Release/net10.0/PacketPlane.Benchmarks.dll

[ -n "${NO_BUILD:-}" ] || dotnet build benchmarks/PacketPlane.Benchmarks -c Release -v q -nologo >/dev/null
command -v dpdk-test >/dev/null || { echo "dpdk-test not found: apt-get install dpdk" >&2; exit 1; }

for round in $(seq 1 "$ROUNDS"); do
    echo "round $round/$ROUNDS: DPDK hash_perf_autotest ..." >&2
    echo hash_perf_autotest | dpdk-test --no-pci --in-memory -l 0 --file-prefix "hashperf$$" >"$OUT/dpdk.$round" 2>&1
    echo "round $round/$ROUNDS: PacketPlane hash-perf ..." >&2
    dotnet "$BENCH" hash-perf >"$OUT/ours.$round" 2>&1
done

/usr/bin/python3 - "$OUT" "$ROUNDS" <<'PY'
import math, re, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
OPS = ["Add", "Lookup", "Lookup_bulk", "Delete"]

def parse(path):
    """{(pushes, data, hash, keysize): [add, lookup, bulk, delete]} from the 'Without locks' section."""
    text = open(path).read()
    text = text.split("With locks in the code")[0]
    result = {}
    for pushes, part in enumerate(re.split(r"ELEMENTS IN PRIMARY OR SECONDARY LOCATION", text.split("ALL ELEMENTS IN PRIMARY LOCATION", 1)[1])):
        for data, dpart in enumerate(re.split(r"Operations with 8-byte data", part)):
            for hashed, hpart in enumerate(re.split(r"With pre-computed hash values", dpart)):
                for m in re.finditer(r"^(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$", hpart, re.M):
                    result[(pushes, data, hashed, int(m.group(1)))] = [int(m.group(i)) for i in range(2, 6)]
    return result

dpdk = [parse(f"{out}/dpdk.{r}") for r in range(1, rounds + 1)]
ours = [parse(f"{out}/ours.{r}") for r in range(1, rounds + 1)]
keys = sorted(dpdk[0].keys() & ours[0].keys())
def med(runs, key, op):
    return statistics.median(r[key][op] for r in runs if key in r)

print(f"hash_perf, without locks: cycles per operation (TSC), median of {rounds} interleaved round(s)")
for pushes in (0, 1):
    for data in (0, 1):
        for hashed in (0, 1):
            print()
            print(("all keys in primary bucket" if pushes == 0 else "keys in primary or secondary bucket")
                  + (", 8-byte data" if data else ", no data") + (", precomputed hash" if hashed else ", hash computed"))
            print(f"{'keysize':>8}" + "".join(f"{op + ' D/ours/ratio':>28}" for op in OPS))
            for k in sorted(ks for (p, d, h, ks) in keys if (p, d, h) == (pushes, data, hashed)):
                key = (pushes, data, hashed, k)
                cells = []
                for op in range(4):
                    d, o = med(dpdk, key, op), med(ours, key, op)
                    cells.append(f"{d:>9.0f}{o:>9.0f}{o / d if d else float('nan'):>10.2f}")
                print(f"{k:>8}" + "".join(cells))
for op, name in ((1, "Lookup"), (2, "Lookup_bulk")):
    ratios = [med(ours, key, op) / med(dpdk, key, op) for key in keys if med(dpdk, key, op) > 0]
    print(f"\n{name}: geometric mean of ours/DPDK over {len(ratios)} cells = {math.exp(sum(map(math.log, ratios)) / len(ratios)):.2f}")
    l3 = [med(ours, key, op) / med(dpdk, key, op) for key in keys if key[3] in (16, 40, 48)]
    g3 = math.exp(sum(map(math.log, l3)) / len(l3))
    print(f"{name}: key sizes 16/40/48 (l3fwd's IPv4 and IPv6 5-tuples) = {g3:.2f}")
    # all.sh's row: the cell nearest l3fwd's IPv4 5-tuple lookup (16-byte key, all keys in their primary bucket,
    # no data, hash computed), with the geometric-mean ratio over the 16/40/48-byte cells in the note.
    key = (0, 0, 0, 16)
    if key in keys:
        d, o = med(dpdk, key, op), med(ours, key, op)
        print(f"RESULT|hash {name}, 16-byte key, 2^19 entries 75 % full|cycles/op|{d:.0f}|{o:.0f}|{d / o:.2f}|{d:.0f}|{o:.0f}|n/a|n/a|"
              f"dpdk-test hash_perf_autotest; geometric mean of DPDK/ours over 16/40/48-byte keys {1 / g3:.2f}")
print("Raw output in " + out)
PY
