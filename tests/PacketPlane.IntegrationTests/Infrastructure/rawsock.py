#!/usr/bin/python3
"""Test traffic for PacketPlane integration tests, run inside a peer network namespace.

  rawsock.py send IFACE COUNT SIZE SEED [PPS]    send COUNT test frames (TestFrames.Build in C# makes the same bytes)
  rawsock.py recv IFACE COUNT TIMEOUT_S OUTFILE  write received test frames as hex lines; stops at COUNT or timeout
  rawsock.py count IFACE TIMEOUT_S              print how many distinct test frame sequence numbers arrived

Only frames with EtherType 0x88b5 (IEEE local experimental) are test frames; anything else is ignored.
"""
import socket, sys, time, struct

ETHERTYPE = 0x88B5

def frame(i, size, seed):
    hdr = bytes([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01]) + struct.pack('>H', ETHERTYPE)
    seq = struct.pack('>I', i)
    body_len = max(size - len(hdr) - 4, 0)
    body = bytes(((i * 31 + j * 7 + seed) & 0xFF) for j in range(body_len))
    return hdr + seq + body

def send(iface, count, size, seed, pps):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    interval = 1.0 / pps if pps > 0 else 0
    start = time.perf_counter()
    for i in range(count):
        f = frame(i, size, seed)
        while True:
            try:
                s.send(f)
                break
            except OSError:  # ENOBUFS: qdisc full, retry shortly
                time.sleep(0.0005)
        if interval:
            ahead = start + (i + 1) * interval - time.perf_counter()
            if ahead > 0:
                time.sleep(ahead)

def recv(iface, count, timeout, outfile):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETHERTYPE))
    s.bind((iface, 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.settimeout(0.2)
    deadline = time.time() + timeout
    got = []
    while len(got) < count and time.time() < deadline:
        try:
            data, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        got.append(data.hex())
    with open(outfile, 'w') as f:
        f.write('\n'.join(got))

def main():
    cmd = sys.argv[1]
    if cmd == 'send':
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]) if len(sys.argv) > 6 else 0)
    elif cmd == 'recv':
        # Signal readiness on stdout so the test starts transmitting only once the socket is bound.
        recv(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
    else:
        sys.exit('unknown command ' + cmd)

if __name__ == '__main__':
    main()
