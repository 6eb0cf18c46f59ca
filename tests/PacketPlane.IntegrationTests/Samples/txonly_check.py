#!/usr/bin/python3
"""Checks testpmd txonly frames with scapy: for the first N frames of a pcap, rebuilds each with scapy computing
the IPv4 and UDP checksums afresh and compares them with the frame's own.

usage: txonly_check.py FILE N      prints "ok COUNT LENGTHS" or "bad INDEX WHY" and exits 1
"""
import sys

from scapy.all import IP, UDP, Ether, PcapReader

path, limit = sys.argv[1], int(sys.argv[2])
count = 0
lengths = set()
with PcapReader(path) as reader:
    for i, pkt in enumerate(reader):
        if i >= limit:
            break
        raw = bytes(pkt)
        p = Ether(raw)
        if IP not in p or UDP not in p:
            print("bad %d not IPv4/UDP: %s" % (i, p.summary()))
            sys.exit(1)
        ip_sum, udp_sum = p[IP].chksum, p[UDP].chksum
        del p[IP].chksum
        del p[UDP].chksum
        q = Ether(bytes(p))
        if q[IP].chksum != ip_sum or q[UDP].chksum != udp_sum:
            print("bad %d checksums ip 0x%04x/0x%04x udp 0x%04x/0x%04x" % (i, ip_sum, q[IP].chksum, udp_sum, q[UDP].chksum))
            sys.exit(1)
        if p[IP].len != len(raw) - 14 or p[UDP].len != len(raw) - 34:
            print("bad %d lengths ip %d udp %d frame %d" % (i, p[IP].len, p[UDP].len, len(raw)))
            sys.exit(1)
        lengths.add(len(raw))
        count += 1
print("ok %d %s" % (count, ",".join(str(n) for n in sorted(lengths))))
