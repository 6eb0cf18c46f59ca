// SPDX-License-Identifier: MIT OR GPL-2.0
//
// PacketPlane's AF_XDP redirect program: every frame that arrives on an interface queue with an AF_XDP
// socket in xsks_map goes to that socket; frames on any other queue continue to the kernel stack.
//
// The driver does NOT compile this at run time: its instructions are embedded in
// src/PacketPlane/Drivers/AfXdp/XskRedirectProgram.cs and loaded with a raw bpf(BPF_PROG_LOAD) call.
// This file is their source of truth. Build (see README.md):
//
//     clang -O2 -target bpf -c xsk_redirect.c -o xsk_redirect.o
//
// The test XskRedirectProgramTests compiles it and compares the instructions with the embedded ones.
//
// It is self-contained on purpose (no <linux/bpf.h>, no libbpf headers): with -target bpf clang does not
// search the multiarch include directory that <asm/types.h> lives in, and the few definitions below are
// stable kernel ABI (values from <linux/bpf.h>, checked against the Debian 12 headers).

typedef unsigned int __u32;
typedef unsigned long long __u64;

// struct xdp_md from <linux/bpf.h>: the program's context. rx_queue_index is at offset 16.
struct xdp_md {
	__u32 data;
	__u32 data_end;
	__u32 data_meta;
	__u32 ingress_ifindex;
	__u32 rx_queue_index;
	__u32 egress_ifindex;
};

#define SEC(name) __attribute__((section(name), used))

#define BPF_MAP_TYPE_XSKMAP 17		// enum bpf_map_type
#define XDP_PASS 2			// enum xdp_action
#define BPF_FUNC_redirect_map 51	// enum bpf_func_id

// The XSKMAP, declared the way libbpf 1.x reads maps (SEC(".maps"), attributes encoded in BTF as in
// libbpf's bpf_helpers.h __uint()). PacketPlane's loader does not read these attributes: it creates the
// XSKMAP itself (max_entries = the interface's queue count) and patches the map load with its fd. They
// matter to other loaders, e.g. iproute2 with an object built with -g:
//     clang -O2 -g -target bpf -c xsk_redirect.c -o xsk_redirect.o && ip link set dev X xdp obj xsk_redirect.o sec xdp
#define __uint(name, val) int (*name)[val]
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 64);
} xsks_map SEC(".maps");

// long bpf_redirect_map(void *map, u64 key, u64 flags): the lower two bits of flags are the action
// returned when map[key] is empty (Linux 5.3+), so queues without a socket pass to the kernel.
static long (*bpf_redirect_map)(void *map, __u64 key, __u64 flags) = (void *)BPF_FUNC_redirect_map;

SEC("xdp")
int xsk_redirect(struct xdp_md *ctx)
{
	return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
}

char _license[] SEC("license") = "Dual MIT/GPL";
