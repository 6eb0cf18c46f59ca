#!/bin/sh
# Compiles the XDP program and prints its instructions, the way they are embedded in
# src/PacketPlane/Drivers/AfXdp/XskRedirectProgram.cs. Needs clang and llvm-objdump (Debian: clang, llvm).
# The output object is for inspection and for other loaders (ip link ... xdp obj); it is not committed.
set -eu
cd "$(dirname "$0")"
out="${1:-/tmp/xsk_redirect.o}"
clang -O2 -target bpf -c xsk_redirect.c -o "$out"
# Raw bytes per slot: opcode, dst|src<<4, off (le16), imm (le32); relocations under the instruction they patch.
llvm-objdump -d -r "$out"
echo "object: $out"
