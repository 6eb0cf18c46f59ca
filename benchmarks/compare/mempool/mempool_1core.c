/*
 * DPDK side of benchmarks/compare/mempool_perf.sh: the one-lcore cases of dpdk-test's mempool_perf_autotest
 * (DPDK 22.11), and nothing else, so that a comparison takes minutes instead of the autotest's 70 and both sides
 * can run in alternating rounds on the same machine state.
 *
 * What it keeps from the autotest, so that its figures stand for the autotest's (benchmarks/README.md compares
 * them with a kept autotest output: within 0.89 to 1.04):
 *   - pools from rte_mempool_create: lcores * (128 + 512) - 1 objects of 2048 bytes, cache 512 or none;
 *   - the lcore's default cache (rte_mempool_default_cache), looked up once per case;
 *   - the loop: get n_keep objects in bulks of n_get_bulk with rte_mempool_generic_get, put them back in bulks of
 *     n_put_bulk with rte_mempool_generic_put, 65536 objects per round, rounds until the time is up; bulk sizes
 *     are run-time values, inlined into the loop (the autotest's test_loop is always_inline);
 *   - the printed line, "mempool_autotest cache=C cores=1 n_get_bulk=G n_put_bulk=P n_keep=K rate_persec=R".
 * One difference: the rate is objects over the measured time, where the autotest divides by its nominal 5 s.
 *
 *   usage: mempool_1core EAL_ARGS -- [SECONDS_PER_CASE [CACHE/GET/PUT/KEEP]]     (run with -l 0-1 as the autotest is)
 * The optional case (say 512/1/1/128) runs that one only, as `PacketPlane.Benchmarks mempool_perf SECONDS CASE` does
 * on our side: for profiling one case on both sides.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

#define OBJECTS_PER_ROUND 65536u
#define MAX_KEEP 128u
#define OBJECT_SIZE 2048u

static const unsigned bulk_sizes[] = { 1, 4, 32 };
static const unsigned keep_counts[] = { 32, 128 };

/* One round: n_keep objects out and back. Inlined so that the bulk sizes stay run-time values in one loop, as in
 * the autotest. Returns -1 if the pool runs dry, which would mean the pool is sized wrongly. */
static inline __attribute__((always_inline)) int
get_and_put_round(struct rte_mempool *pool, struct rte_mempool_cache *cache, unsigned n_keep,
                  unsigned n_get_bulk, unsigned n_put_bulk)
{
    void *objects[MAX_KEEP] __rte_cache_aligned;

    for (unsigned round = 0; round < OBJECTS_PER_ROUND / n_keep; round++) {
        for (unsigned i = 0; i < n_keep; i += n_get_bulk)
            if (rte_mempool_generic_get(pool, &objects[i], n_get_bulk, cache) < 0)
                return -1;
        for (unsigned i = 0; i < n_keep; i += n_put_bulk)
            rte_mempool_generic_put(pool, &objects[i], n_put_bulk, cache);
    }
    return 0;
}

/* Objects per second over `seconds` of rounds. */
static double
measure(struct rte_mempool *pool, unsigned n_keep, unsigned n_get_bulk, unsigned n_put_bulk, double seconds)
{
    struct rte_mempool_cache *cache = rte_mempool_default_cache(pool, rte_lcore_id());
    uint64_t hz = rte_get_timer_hz();
    uint64_t limit = (uint64_t)(seconds * (double)hz);
    uint64_t start = rte_get_timer_cycles();
    uint64_t objects = 0, elapsed;

    do {
        if (get_and_put_round(pool, cache, n_keep, n_get_bulk, n_put_bulk) < 0)
            rte_exit(EXIT_FAILURE, "pool %s ran dry: it holds fewer objects than the loop keeps\n", pool->name);
        objects += OBJECTS_PER_ROUND;
        elapsed = rte_get_timer_cycles() - start;
    } while (elapsed < limit);
    return (double)objects * (double)hz / (double)elapsed;
}

/* Whether to run the case: all when `only` is NULL, else the one it names as CACHE/GET/PUT/KEEP. */
static int
selected(const char *only, unsigned cache, unsigned get, unsigned put, unsigned keep)
{
    char name[64];
    snprintf(name, sizeof(name), "%u/%u/%u/%u", cache, get, put, keep);
    return only == NULL || strcmp(only, name) == 0;
}

static void
run_all_cases(struct rte_mempool *pool, double seconds, const char *only)
{
    for (unsigned g = 0; g < RTE_DIM(bulk_sizes); g++)
        for (unsigned p = 0; p < RTE_DIM(bulk_sizes); p++)
            for (unsigned k = 0; k < RTE_DIM(keep_counts); k++) {
                if (!selected(only, pool->cache_size, bulk_sizes[g], bulk_sizes[p], keep_counts[k]))
                    continue;
                double rate = measure(pool, keep_counts[k], bulk_sizes[g], bulk_sizes[p], seconds);
                printf("mempool_autotest cache=%u cores=1 n_get_bulk=%u n_put_bulk=%u n_keep=%u rate_persec=%" PRIu64 "\n",
                       pool->cache_size, bulk_sizes[g], bulk_sizes[p], keep_counts[k], (uint64_t)rate);
                fflush(stdout);
            }
}

/* Whether `only` names one of the cases run_all_cases runs. */
static int
is_case(const char *only)
{
    const unsigned caches[] = { 0, RTE_MEMPOOL_CACHE_MAX_SIZE };
    for (unsigned c = 0; c < RTE_DIM(caches); c++)
        for (unsigned g = 0; g < RTE_DIM(bulk_sizes); g++)
            for (unsigned p = 0; p < RTE_DIM(bulk_sizes); p++)
                for (unsigned k = 0; k < RTE_DIM(keep_counts); k++)
                    if (selected(only, caches[c], bulk_sizes[g], bulk_sizes[p], keep_counts[k]))
                        return 1;
    return 0;
}

static struct rte_mempool *
create_pool(const char *name, unsigned cache_size)
{
    unsigned count = rte_lcore_count() * (MAX_KEEP + RTE_MEMPOOL_CACHE_MAX_SIZE) - 1;
    struct rte_mempool *pool = rte_mempool_create(name, count, OBJECT_SIZE, cache_size, 0, NULL, NULL, NULL, NULL,
                                                  SOCKET_ID_ANY, 0);
    if (pool == NULL)
        rte_exit(EXIT_FAILURE, "cannot create pool %s (%u objects of %u bytes): %s; give EAL more memory "
                 "(hugepages, or --in-memory with --no-huge -m)\n", name, count, OBJECT_SIZE, rte_strerror(rte_errno));
    return pool;
}

int
main(int argc, char **argv)
{
    int eal_args = rte_eal_init(argc, argv);
    if (eal_args < 0)
        rte_exit(EXIT_FAILURE, "EAL init failed: %s\n", rte_strerror(rte_errno));
    argc -= eal_args;
    argv += eal_args;
    double seconds = argc > 1 ? atof(argv[1]) : 5.0;
    if (!(seconds > 0))
        rte_exit(EXIT_FAILURE, "seconds per case must be a positive number, got '%s'\n", argv[1]);
    const char *only = argc > 2 ? argv[2] : NULL;
    if (only != NULL && !is_case(only))
        rte_exit(EXIT_FAILURE, "no case '%s'; name one as CACHE/GET/PUT/KEEP with CACHE 0 or %u, GET and PUT 1, 4 or 32, "
                 "KEEP 32 or 128 (say %u/1/1/128)\n", only, RTE_MEMPOOL_CACHE_MAX_SIZE, RTE_MEMPOOL_CACHE_MAX_SIZE);

    struct rte_mempool *no_cache = create_pool("perf_test_nocache", 0);
    struct rte_mempool *with_cache = create_pool("perf_test_cache", RTE_MEMPOOL_CACHE_MAX_SIZE);
    printf("start performance test (without cache)\n");
    run_all_cases(no_cache, seconds, only);
    printf("start performance test (with cache)\n");
    run_all_cases(with_cache, seconds, only);

    rte_mempool_free(with_cache);
    rte_mempool_free(no_cache);
    rte_eal_cleanup();
    return 0;
}
