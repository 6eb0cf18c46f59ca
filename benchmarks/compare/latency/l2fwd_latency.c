/* SPDX-License-Identifier: MIT
 *
 * DPDK half of PacketPlane's L2Fwd latency comparison (the .NET half is `PacketPlane.Benchmarks l2fwd-latency`).
 * Compiled at benchmark time by benchmarks/compare/latency.sh:
 *   gcc -O3 $(pkg-config --cflags libdpdk) l2fwd_latency.c $(pkg-config --libs libdpdk) -lrte_net_ring
 *
 * Set-up, the same on both sides:
 *
 *   main lcore (CPU 0)                         forwarding lcore (CPU 1)
 *   generator: every 1/RATE s, one 64-byte     l2fwd's loop: rx_burst(A, 32) -> rewrite both MACs ->
 *   packet stamped with the TSC -> port G       TX buffer of B (sent at 32 packets or every 100 us);
 *      G ==ring==> A                            the same for B -> A (idle here)
 *   receiver: rx_burst(S, 32), latency =           B ==ring==> S
 *   TSC now - stamp, per packet
 *
 * G/A and B/S are pairs of ports made with rte_eth_from_rings over one rte_ring per direction: what G sends, A
 * receives (PacketPlane: RingPort.CreatePair). The generator and the receiver share the main lcore so the
 * forwarding lcore has a CPU of its own on a 2-vCPU machine; the generator never blocks on the receiver.
 *
 * Usage: l2fwd_latency EAL-ARGS -- [--rate PPS] [--seconds S] [--warmup S]
 * Prints "latency_ns: p50=... p99=... p99.9=... max=... mean=..." over the packets received after the warm-up.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_eth_ring.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>
#include <rte_version.h>

#define BURST 32          /* l2fwd's MAX_PKT_BURST */
#define DRAIN_US 100      /* l2fwd's BURST_TX_DRAIN_US */
#define RING_SIZE 1024
#define POOL_SIZE 8191
#define POOL_CACHE 256
#define FRAME_LEN 64

static volatile int stop_forwarding;
static int stamp_offset;                 /* the mbuf's timestamp dynamic field (rte_mbuf_dyn_rx_timestamp) */
static uint16_t port_a, port_b;

static inline uint64_t *stamp_of(struct rte_mbuf *m)
{
    return RTE_MBUF_DYNFIELD(m, stamp_offset, uint64_t *);
}

static void fail(const char *what)
{
    fprintf(stderr, "l2fwd_latency: %s: %s\n", what, rte_strerror(rte_errno));
    exit(1);
}

/* One port over two rings, configured and started with one RX and one TX queue of RING_SIZE descriptors. */
static uint16_t ring_port(const char *name, struct rte_ring *rx, struct rte_ring *tx, struct rte_mempool *pool)
{
    struct rte_eth_conf conf;
    int port = rte_eth_from_rings(name, &rx, 1, &tx, 1, rte_socket_id());
    if (port < 0)
        fail("rte_eth_from_rings");
    memset(&conf, 0, sizeof(conf));
    if (rte_eth_dev_configure(port, 1, 1, &conf) < 0
        || rte_eth_rx_queue_setup(port, 0, RING_SIZE, rte_socket_id(), NULL, pool) < 0
        || rte_eth_tx_queue_setup(port, 0, RING_SIZE, rte_socket_id(), NULL) < 0
        || rte_eth_dev_start(port) < 0)
        fail("configuring a ring port");
    return (uint16_t)port;
}

static struct rte_ring *ring(const char *name)
{
    struct rte_ring *r = rte_ring_create(name, RING_SIZE, rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (r == NULL)
        fail("rte_ring_create");
    return r;
}

/* l2fwd_mac_updating: destination 02:00:00:00:00:<tx port>, source the TX port's MAC. */
static inline void rewrite_macs(struct rte_mbuf *m, uint16_t tx_port, const struct rte_ether_addr *tx_mac)
{
    struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
    uint64_t dst = 0x000000000002ULL | ((uint64_t)tx_port << 40);   /* 02:00:00:00:00:xx in memory order */
    memcpy(&eth->dst_addr, &dst, 6);
    rte_ether_addr_copy(tx_mac, &eth->src_addr);
}

/* l2fwd_main_loop for two ports polled by one lcore (-q 2): A -> B and B -> A. */
static int forward(void *unused)
{
    struct rte_mbuf *burst[BURST];
    struct rte_eth_dev_tx_buffer *buffers[2];
    struct rte_ether_addr macs[2];
    uint16_t rx_ports[2] = { port_a, port_b }, tx_ports[2] = { port_b, port_a };
    const uint64_t drain_tsc = (rte_get_tsc_hz() + US_PER_S - 1) / US_PER_S * DRAIN_US;
    uint64_t prev = rte_rdtsc();
    (void)unused;
    for (int i = 0; i < 2; i++) {
        buffers[i] = rte_zmalloc_socket("tx_buffer", RTE_ETH_TX_BUFFER_SIZE(BURST), 0, rte_socket_id());
        if (buffers[i] == NULL || rte_eth_tx_buffer_init(buffers[i], BURST) != 0)
            fail("tx buffer");
        rte_eth_macaddr_get(tx_ports[i], &macs[i]);
    }
    while (!stop_forwarding) {
        uint64_t now = rte_rdtsc();
        if (now - prev > drain_tsc) {
            for (int i = 0; i < 2; i++)
                rte_eth_tx_buffer_flush(tx_ports[i], 0, buffers[i]);
            prev = now;
        }
        for (int i = 0; i < 2; i++) {
            uint16_t n = rte_eth_rx_burst(rx_ports[i], 0, burst, BURST);
            for (uint16_t j = 0; j < n; j++) {
                rte_prefetch0(rte_pktmbuf_mtod(burst[j], void *));
                rewrite_macs(burst[j], tx_ports[i], &macs[i]);
                rte_eth_tx_buffer(tx_ports[i], 0, buffers[i], burst[j]);
            }
        }
    }
    for (int i = 0; i < 2; i++)
        rte_eth_tx_buffer_flush(tx_ports[i], 0, buffers[i]);
    return 0;
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The nearest-rank percentile of sorted values. */
static uint32_t percentile(const uint32_t *sorted, uint64_t n, double p)
{
    uint64_t rank = (uint64_t)(p / 100.0 * (double)n + 0.999999999);
    return sorted[rank == 0 ? 0 : rank - 1];
}

int main(int argc, char **argv)
{
    double rate = 1e6, seconds = 10, warmup = 2;
    uint64_t rx_flag;
    int used = rte_eal_init(argc, argv);
    if (used < 0)
        fail("rte_eal_init");
    for (int i = used + 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--rate") == 0)
            rate = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--warmup") == 0)
            warmup = atof(argv[i + 1]);
        else {
            fprintf(stderr, "l2fwd_latency: unknown option %s (accepted: --rate PPS --seconds S --warmup S)\n", argv[i]);
            return 2;
        }
    }
    unsigned worker = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
    if (worker >= RTE_MAX_LCORE) {
        fprintf(stderr, "l2fwd_latency: needs two lcores (-l 0,1)\n");
        return 2;
    }
    if (rte_mbuf_dyn_rx_timestamp_register(&stamp_offset, &rx_flag) != 0)
        fail("timestamp field");
    struct rte_mempool *pool = rte_pktmbuf_pool_create("latency_pool", POOL_SIZE, POOL_CACHE, 0,
                                                       RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
    if (pool == NULL)
        fail("rte_pktmbuf_pool_create");
    struct rte_ring *g_to_a = ring("g_to_a"), *a_to_g = ring("a_to_g"), *b_to_s = ring("b_to_s"), *s_to_b = ring("s_to_b");
    uint16_t port_g = ring_port("gen", a_to_g, g_to_a, pool);
    port_a = ring_port("a", g_to_a, a_to_g, pool);
    port_b = ring_port("b", s_to_b, b_to_s, pool);
    uint16_t port_s = ring_port("sink", b_to_s, s_to_b, pool);

    uint64_t capacity = (uint64_t)(rate * seconds * 1.05) + 1024, recorded = 0, received = 0, sent = 0, dropped = 0, late = 0;
    uint32_t *samples = malloc(capacity * sizeof(uint32_t));
    if (samples == NULL) {
        fprintf(stderr, "l2fwd_latency: no memory for %" PRIu64 " samples\n", capacity);
        return 1;
    }
    memset(samples, 0, capacity * sizeof(uint32_t));   /* touch every page before measuring */
    rte_eal_remote_launch(forward, NULL, worker);

    const double hz = (double)rte_get_tsc_hz(), ns_per_tick = 1e9 / hz, period = hz / rate;
    const uint64_t start = rte_rdtsc(), record_from = start + (uint64_t)(warmup * hz), end = record_from + (uint64_t)(seconds * hz);
    double next = (double)start;
    struct rte_mbuf *burst[BURST];
    double sum_ns = 0;
    uint32_t max_ns = 0;
    for (;;) {
        uint64_t now = rte_rdtsc();
        if (now >= end)
            break;
        if ((double)now >= next) {
            /* More than 100 periods behind (the thread was descheduled): restart the schedule, do not burst. */
            if ((double)now - next > 100 * period) {
                next = (double)now;
                late++;
            }
            next += period;
            struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
            if (m != NULL) {
                m->data_len = FRAME_LEN;
                m->pkt_len = FRAME_LEN;
                *stamp_of(m) = rte_rdtsc();
                if (rte_eth_tx_burst(port_g, 0, &m, 1) == 1)
                    sent++;
                else {
                    rte_pktmbuf_free(m);
                    dropped++;
                }
            } else
                dropped++;
        }
        uint16_t n = rte_eth_rx_burst(port_s, 0, burst, BURST);
        if (n == 0)
            continue;
        uint64_t arrived = rte_rdtsc();
        for (uint16_t i = 0; i < n; i++) {
            uint64_t stamp = *stamp_of(burst[i]);
            if (stamp >= record_from && recorded < capacity) {
                double ns = (double)(arrived - stamp) * ns_per_tick;
                uint32_t v = ns > 4e9 ? UINT32_MAX : (uint32_t)ns;
                samples[recorded++] = v;
                sum_ns += v;
                if (v > max_ns)
                    max_ns = v;
            }
        }
        received += n;
        rte_pktmbuf_free_bulk(burst, n);
    }
    stop_forwarding = 1;
    rte_eal_mp_wait_lcore();

    printf("l2fwd latency (DPDK %s): rate=%.0f pps seconds=%.1f warmup=%.1f sent=%" PRIu64 " received=%" PRIu64
           " dropped=%" PRIu64 " late=%" PRIu64 " recorded=%" PRIu64 "\n",
           rte_version(), rate, seconds, warmup, sent, received, dropped, late, recorded);
    if (recorded == 0) {
        printf("latency_ns: none recorded\n");
        return 1;
    }
    qsort(samples, recorded, sizeof(uint32_t), compare_u32);
    printf("latency_ns: p50=%u p99=%u p99.9=%u max=%u mean=%.0f\n", percentile(samples, recorded, 50),
           percentile(samples, recorded, 99), percentile(samples, recorded, 99.9), max_ns, sum_ns / (double)recorded);
    free(samples);
    rte_eal_cleanup();
    return 0;
}
