#!/usr/bin/python3
"""Writes l3fwd-demo.pcap, the capture L3Fwd replays when run without arguments.

    /usr/bin/python3 samples/L3Fwd/data/make_capture.py    # needs python3-scapy (Debian)

The output is deterministic (fixed seed, fixed timestamps), so running the script again reproduces the
committed file byte for byte. Frames are 64 bytes (RFC 2544's smallest, without the FCS) unless a case
needs otherwise. Addresses follow DPDK l3fwd's default routes and exact-match flows:

  LPM   198.18.X.0/24 -> port X       2001:200:0:X::/64 -> port X        (X = 0..15)
  EM    198.18.X.0 <- 198.18.X.1, UDP 9 -> 9      2001:200:0:X:: <- 2001:200:0:X::1, UDP 9 -> 9

The demo enables ports 0 (net_pcap, this file) and 1 (net_null), so X = 0 and X = 1 are forwarded for real,
X = 5 and X = 7 name ports outside the port mask, and other destinations have no route: those go back out
of the ingress port, as in DPDK's l3fwd. About one frame in twenty is one l3fwd must drop; the last
column of CASES says why (L3Fwd prints the counts when it stops).
"""
import os
import random

from scapy.all import ARP, IP, IPv6, TCP, UDP, Ether
from scapy.utils import PcapWriter

FRAME = 64
SRC_MAC = "02:00:00:00:00:aa"   # the traffic generator
DST_MAC = "02:70:63:61:70:00"   # net_pcap0's MAC (our pcap driver and DPDK's both start at 02:70:63:61:70:00)


def pad(frame, length=FRAME):
    """Pads with zero bytes after the IP datagram, as a NIC pads a short frame."""
    raw = bytes(frame)
    return raw + bytes(max(0, length - len(raw)))


def em4(x):
    """IPv4 UDP 9 -> 9 matching DPDK's default exact-match flow X (and the LPM route to port X)."""
    return Ether(src=SRC_MAC, dst=DST_MAC) / IP(src=f"198.18.{x}.1", dst=f"198.18.{x}.0", ttl=64) / UDP(sport=9, dport=9)


def em6(x):
    return (Ether(src=SRC_MAC, dst=DST_MAC) / IPv6(src=f"2001:200:0:{x:x}::1", dst=f"2001:200:0:{x:x}::", hlim=64)
            / UDP(sport=9, dport=9))


def lpm4(rng, x, proto="udp"):
    """IPv4 to a random host in 198.18.X.0/24 with random ports: an LPM hit, an exact-match miss."""
    ip = IP(src=f"10.99.{rng.randrange(256)}.{rng.randrange(1, 255)}", dst=f"198.18.{x}.{rng.randrange(1, 255)}",
            ttl=rng.randrange(2, 255))
    l4 = (UDP if proto == "udp" else TCP)(sport=rng.randrange(1024, 65535), dport=rng.randrange(1, 1024))
    return Ether(src=SRC_MAC, dst=DST_MAC) / ip / l4


def lpm6(rng, x):
    return (Ether(src=SRC_MAC, dst=DST_MAC)
            / IPv6(src=f"fd00::{rng.randrange(1, 0xffff):x}", dst=f"2001:200:0:{x:x}::{rng.randrange(1, 0xffff):x}",
                   hlim=rng.randrange(2, 255))
            / UDP(sport=rng.randrange(1024, 65535), dport=53))


def ipv4_bytes(frame, offset, value):
    """Rewrites one byte of the IPv4 header (offset from its start) without fixing the checksum."""
    raw = bytearray(pad(frame))
    raw[14 + offset] = value
    return bytes(raw)


def bad_checksum(rng):
    raw = bytearray(pad(em4(1)))
    raw[24] ^= 0x5A  # header checksum high byte
    return bytes(raw)


def ttl(value):
    p = em4(1)
    p[IP].ttl = value
    return pad(p)


def hop_limit(value):
    p = em6(1)
    p[IPv6].hlim = value
    return pad(p)


def ihl_too_small(rng):
    # IHL 4 (16 bytes) is less than the 20-byte minimum (RFC 1812 5.2.2); checksum made right for it.
    p = IP(bytes(em4(1)[IP]))
    p.ihl = 4
    del p.chksum
    return pad(Ether(src=SRC_MAC, dst=DST_MAC) / IP(bytes(p)))


def wrong_version(rng):
    raw = bytearray(pad(em4(0)))
    raw[14] = 0x55  # version 5, IHL 5; the checksum no longer matters
    return bytes(raw)


def truncated(rng):
    # Total length 200, but only 50 bytes of datagram arrived.
    p = em4(1)
    p[IP].len = 200
    return pad(p)


def short_header(rng):
    # An Ethernet frame that says IPv4 but carries only 12 bytes of it (a runt cut inside the header).
    return bytes(Ether(src=SRC_MAC, dst=DST_MAC, type=0x0800)) + bytes(pad(em4(1)))[14:26]


def ipv6_truncated(rng):
    p = em6(0)
    p[IPv6].plen = 400
    return pad(p)


def arp(rng):
    return pad(Ether(src=SRC_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="198.18.0.1", pdst="198.18.0.2", hwsrc=SRC_MAC))


def with_options(rng):
    # IHL 6: a 4-byte option (NOP, NOP, NOP, EOL). LPM forwards it; exact match looks up only plain headers.
    p = Ether(src=SRC_MAC, dst=DST_MAC) / IP(src="198.18.1.1", dst="198.18.1.9", options=b"\x01\x01\x01\x00") / UDP(sport=9, dport=9)
    return pad(p, 68)


# (weight, builder, what l3fwd does with it)
CASES = [
    (22, lambda r: pad(em4(0)), "forward to port 0 (EM and LPM)"),
    (22, lambda r: pad(em4(1)), "forward to port 1 (EM and LPM)"),
    (8, lambda r: pad(lpm4(r, 0)), "LPM: port 0; EM: miss, back out of port 0"),
    (8, lambda r: pad(lpm4(r, 1, "tcp")), "LPM: port 1; EM: miss, back out of port 0"),
    (18, lambda r: pad(em6(0)), "forward to port 0 (EM and LPM)"),
    (18, lambda r: pad(em6(1)), "forward to port 1 (EM and LPM)"),
    (6, lambda r: pad(lpm6(r, 1)), "LPM: port 1; EM: miss, back out of port 0"),
    (2, lambda r: pad(em4(5)), "route to port 5, outside -p 0x3: back out of port 0"),
    (2, lambda r: pad(em6(7)), "route to port 7, outside -p 0x3: back out of port 0"),
    (2, lambda r: pad(Ether(src=SRC_MAC, dst=DST_MAC) / IP(src="10.99.0.1", dst="10.99.1.1") / UDP(sport=9, dport=9)),
     "no route: back out of port 0"),
    (2, lambda r: pad(Ether(src=SRC_MAC, dst=DST_MAC) / IPv6(src="fd00::1", dst="2001:db8::1") / UDP(sport=9, dport=9)),
     "no route: back out of port 0"),
    (2, with_options, "LPM: port 1; EM: miss, back out of port 0"),
    (1, bad_checksum, "drop: bad IPv4 header checksum"),
    (1, lambda r: ttl(1), "drop: TTL 1 (would leave with 0)"),
    (1, lambda r: ttl(0), "drop: TTL 0"),
    (1, lambda r: hop_limit(1), "drop: hop limit 1"),
    (1, lambda r: hop_limit(0), "drop: hop limit 0"),
    (1, ihl_too_small, "drop: IHL below 5"),
    (1, wrong_version, "drop: IP version 5 in an IPv4 frame"),
    (1, truncated, "drop: total length beyond the frame"),
    (1, short_header, "drop: frame ends inside the IPv4 header"),
    (1, ipv6_truncated, "drop: IPv6 payload length beyond the frame"),
    (1, arp, "drop: not IP (ARP)"),
]

COUNT = 1024


def main():
    rng = random.Random(20251122)
    weights = [w for w, _, _ in CASES]
    frames = [rng.choices(CASES, weights)[0][1](rng) for _ in range(COUNT)]
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "l3fwd-demo.pcap")
    writer = PcapWriter(out, linktype=1, sync=False)
    writer.write_header(None)  # write_packet alone does not write the file header
    for i, frame in enumerate(frames):
        # Raw bytes, so scapy does not rebuild (and "fix") the malformed ones; fixed timestamps 1 us apart.
        writer.write_packet(frame, sec=1_700_000_000, usec=i)
    writer.close()
    print(f"wrote {out}: {COUNT} frames")


if __name__ == "__main__":
    main()
