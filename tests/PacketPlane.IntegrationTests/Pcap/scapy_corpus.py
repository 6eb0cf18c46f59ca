#!/usr/bin/python3
"""Writes a corpus of packets built by scapy, and what scapy says about each, for PacketPlane's parser and
checksum tests. Nothing here is a hard-coded answer: every expected value is read back from scapy's own build.

usage: scapy_corpus.py OUTDIR
writes OUTDIR/corpus_{us,ns}_{le,be}.pcap (the same packets in the four pcap variants) and OUTDIR/expected.jsonl
"""
import json
import random
import sys

from scapy.all import (AH, ARP, ICMP, IP, IPOption_NOP, IPOption_RR, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, Ether, Dot1Q, Dot1AD, PcapWriter, Raw, TCP, UDP,
                       ICMPv6EchoRequest, SCTP)

out = sys.argv[1]
rnd = random.Random(20241122)


def payload(n):
    return Raw(bytes(rnd.randrange(256) for _ in range(n)))


def l2(tags):
    base = Ether(src="02:00:00:00:00:0a", dst="02:00:00:00:00:0b")
    if tags == 1:
        return base / Dot1Q(vlan=rnd.randrange(1, 4095), prio=rnd.randrange(8))
    if tags == 2:
        return base / Dot1AD(vlan=rnd.randrange(1, 4095)) / Dot1Q(vlan=rnd.randrange(1, 4095))
    return base


def v4():
    return IP(src="10.99.%d.%d" % (rnd.randrange(256), rnd.randrange(1, 255)), dst="10.99.1.%d" % rnd.randrange(1, 255),
              ttl=rnd.randrange(1, 256), id=rnd.randrange(65536))


def v6():
    return IPv6(src="fd00::%x" % rnd.randrange(1, 65535), dst="fd00:1::%x" % rnd.randrange(1, 65535),
                hlim=rnd.randrange(1, 256))


def tcp():
    options = rnd.choice([[], [("MSS", 1460)], [("MSS", 1460), ("WScale", 7), ("SAckOK", b""), ("Timestamp", (1, 2))],
                          [("NOP", None), ("NOP", None), ("Timestamp", (rnd.randrange(1 << 32), 0))]])
    return TCP(sport=rnd.randrange(1, 65535), dport=rnd.randrange(1, 65535), seq=rnd.randrange(1 << 32), flags="PA",
               options=options)


def udp():
    return UDP(sport=rnd.randrange(1, 65535), dport=rnd.randrange(1, 65535))


packets = []
for tags in (0, 1, 2):
    for n in (0, 1, 17, 100, 1400):
        packets.append(l2(tags) / v4() / udp() / payload(n))
        packets.append(l2(tags) / v4() / tcp() / payload(n))
        packets.append(l2(tags) / v6() / udp() / payload(n))
        packets.append(l2(tags) / v6() / tcp() / payload(n))
    packets.append(l2(tags) / IP(src="10.99.0.1", dst="10.99.0.2", options=[IPOption_RR(routers=["10.99.0.9"]), IPOption_NOP()]) / udp() / payload(33))
    packets.append(l2(tags) / IP(src="10.99.0.1", dst="10.99.0.2", options=[IPOption_NOP()] * 4) / tcp() / payload(9))
    packets.append(l2(tags) / v4() / ICMP(id=7, seq=1) / payload(56))
    packets.append(l2(tags) / v6() / ICMPv6EchoRequest(id=7, seq=1, data=bytes(range(40))))
    packets.append(l2(tags) / v4() / SCTP(sport=5000, dport=5001) / payload(20))
    # IPv4 fragments: first (MF) and a later one.
    packets.append(l2(tags) / IP(src="10.99.0.1", dst="10.99.0.2", flags="MF") / udp() / payload(64))
    packets.append(l2(tags) / IP(src="10.99.0.1", dst="10.99.0.2", frag=100, proto=17) / payload(64))
    # IPv6 extension headers, each kind and a chain.
    packets.append(l2(tags) / v6() / IPv6ExtHdrHopByHop() / udp() / payload(30))
    packets.append(l2(tags) / v6() / IPv6ExtHdrDestOpt() / tcp() / payload(30))
    packets.append(l2(tags) / v6() / IPv6ExtHdrRouting(addresses=[]) / udp() / payload(30))
    # scapy leaves AH's next header and length for the caller (RFC 4302: length in 4-byte words minus 2).
    packets.append(l2(tags) / v6() / AH(nh=6, payloadlen=4, spi=1, seq=2, icv=b"\x00" * 12) / tcp() / payload(30))
    packets.append(l2(tags) / v6() / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / IPv6ExtHdrRouting(addresses=[])
                   / IPv6ExtHdrFragment(m=0, offset=0, id=5) / AH(nh=60, payloadlen=4, spi=1, seq=2, icv=b"\x00" * 12) / IPv6ExtHdrDestOpt()
                   / udp() / payload(44))
    packets.append(l2(tags) / v6() / IPv6ExtHdrFragment(m=1, offset=0, id=6) / udp() / payload(64))
    packets.append(l2(tags) / v6() / IPv6ExtHdrFragment(m=0, offset=50, id=6, nh=17) / payload(64))
packets.append(Ether(src="02:00:00:00:00:0a", dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.99.0.1", pdst="10.99.0.2"))


def header_length(layer):
    """Bytes scapy builds for this layer alone (its payload excluded)."""
    return len(bytes(layer)) - len(bytes(layer.payload))


def describe(p):
    """What scapy built: layer kinds from the layers we stacked, lengths and checksums from scapy's built bytes."""
    wire = bytes(p)
    tags = 0
    layer = p.payload
    while isinstance(layer, (Dot1Q, Dot1AD)):
        tags += 1
        layer = layer.payload
    d = {"length": len(wire), "l2": 14 + 4 * tags, "tags": tags, "l3": 0, "l4": 0, "l3kind": "none", "l4kind": "none",
         "ip_checksum": None, "l4_checksum": None, "l4_offset": None, "l4_length": None}
    if isinstance(layer, ARP):
        d["l2kind"] = "arp"
        return d
    d["l2kind"] = ["ether", "vlan", "qinq"][tags]
    l3 = d["l2"]
    if isinstance(layer, IP):
        d["l3"] = header_length(layer)
        d["l3kind"] = "ipv4" if d["l3"] == 20 else "ipv4ext"
        d["ip_checksum"] = int.from_bytes(wire[l3 + 10:l3 + 12], "big")
        if layer.flags.MF or layer.frag:
            d["l4kind"] = "frag"
            return d
        upper = layer.payload
    else:
        upper = layer.payload
        ext = False
        while isinstance(upper, (IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting, IPv6ExtHdrFragment, AH)):
            ext = True
            frag = isinstance(upper, IPv6ExtHdrFragment) and (upper.m or upper.offset)
            upper = upper.payload
            if frag:
                d["l3kind"] = "ipv6ext"
                d["l3"] = len(bytes(layer)) - len(bytes(upper))
                d["l4kind"] = "frag"
                return d
        d["l3kind"] = "ipv6ext" if ext else "ipv6"
        d["l3"] = len(bytes(layer)) - len(bytes(upper))
    l4 = l3 + d["l3"]
    d["l4_offset"] = l4
    d["l4_length"] = len(bytes(upper))
    field = None
    if isinstance(upper, UDP):
        d["l4kind"], d["l4"], field = "udp", 8, 6
    elif isinstance(upper, TCP):
        d["l4kind"], d["l4"], field = "tcp", header_length(upper), 16
    elif isinstance(upper, SCTP):
        d["l4kind"], d["l4"] = "sctp", 12
    elif isinstance(upper, ICMP):
        d["l4kind"], field = "icmp", 2
    elif isinstance(upper, ICMPv6EchoRequest):
        d["l4kind"], field = "icmpv6", 2
    else:
        d["l4kind"] = "nonfrag"
    # scapy computes an L4 checksum only when the layer below is IP, IPv6 or an IPv6 extension header other than
    # AH; after AH it leaves 0, so there is nothing of scapy's to compare with.
    if field is not None and not isinstance(upper.underlayer, AH):
        d["l4_checksum"] = int.from_bytes(wire[l4 + field:l4 + field + 2], "big")
    return d


for i, p in enumerate(packets):
    p.time = 1_700_000_000 + i + rnd.randrange(1_000_000) / 1_000_000  # microsecond precision: same in all files

for unit, nano in (("us", False), ("ns", True)):
    for order, endian in (("le", "<"), ("be", ">")):
        w = PcapWriter("%s/corpus_%s_%s.pcap" % (out, unit, order), nano=nano, endianness=endian, sync=True)
        for p in packets:
            w.write(p)
        w.close()

with open(out + "/expected.jsonl", "w") as f:
    for p in packets:
        d = describe(p)
        d["time_us"] = int(round(float(p.time) * 1_000_000))
        f.write(json.dumps(d) + "\n")
print(len(packets))
