/* The activity-driven tick kernel; see tick.h for the tick, the lists and the random draws. */
#include "tick.h"

#include <limits.h>
#include <string.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

int ns_openmp(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

/* MurmurHash3's 32-bit finaliser (Appleby, public domain): a bijection with full avalanche. */
static inline uint32_t fmix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

static inline uint32_t draw_base(uint32_t seed, int t)
{
    return fmix32(seed ^ fmix32((uint32_t)t + 1u));
}

static inline int32_t sgn32(int32_t x)
{
    return (x > 0) - (x < 0);
}

/* ------------------------------------------------------------------ step 1: integrate */

/* V_j += w_j for every neuron j whose bit is set in the crossbar row (typed weights: w is the
 * neuron's weight for the axon's type). AVX-512: 16 neurons per masked add, the mask taken
 * straight from the row's bits. */
static void add_typed_row(int32_t *restrict V, const uint64_t *restrict bits,
                          const int16_t *restrict w, int N, int NW)
{
#ifdef __AVX512F__
    for (int word = 0; word < NW; word++) {
        uint64_t b = bits[word];
        for (int part = 0; b; part++, b >>= 16) {
            __mmask16 k = (__mmask16)(b & 0xffff);
            if (!k)
                continue;
            int n = word * 64 + part * 16;
            __m512i wv = _mm512_cvtepi16_epi32(_mm256_maskz_loadu_epi16(k, w + n));
            __m512i vv = _mm512_maskz_loadu_epi32(k, V + n);
            _mm512_mask_storeu_epi32(V + n, k, _mm512_add_epi32(vv, wv));
        }
    }
#else
    for (int n = 0; n < N; n++)
        V[n] += w[n] & -(int32_t)((bits[n >> 6] >> (n & 63)) & 1);
#endif
    (void)N;
}

/* V += the row's weights (per-synapse profiles: already masked by the crossbar), 64 neurons at a
 * time, skipping blocks of 64 without a synapse. */
static void add_synapse_row(int32_t *restrict V, const uint64_t *restrict bits,
                            const int16_t *restrict w, int N, int NW)
{
    for (int word = 0; word < NW; word++) {
        if (!bits[word])
            continue;
        int n0 = word * 64, n1 = n0 + 64 < N ? n0 + 64 : N;
        for (int n = n0; n < n1; n++)
            V[n] += w[n];
    }
}

/* The same with stochastic synapses: where st_j, the weight w is replaced by sgn(w) when
 * |w| >= rho & 255 and by 0 otherwise (Cassidy et al. 2013, stochastic synapse mode). */
static void add_stochastic_row(int32_t *restrict V, const uint64_t *restrict bits,
                               const int16_t *restrict wt, const int16_t *restrict ws,
                               const uint8_t *restrict st, int N, uint32_t key)
{
    for (int n = 0; n < N; n++) {
        int32_t connected = (int32_t)((bits[n >> 6] >> (n & 63)) & 1);
        int32_t w = ws ? ws[n] : (wt[n] & -connected);
        int32_t aw = w < 0 ? -w : w;
        int32_t rho = (int32_t)(fmix32(key + (uint32_t)n) & 255u);
        int32_t s = aw >= rho ? sgn32(w) : 0;
        V[n] += st[n] ? s : w;
    }
}

/* Synaptic events of one arriving spike: synapses of the row onto enabled neurons. */
static inline int64_t row_events(const uint64_t *bits, const uint64_t *enabled, int NW)
{
    int64_t events = 0;
    for (int word = 0; word < NW; word++)
        events += __builtin_popcountll(bits[word] & enabled[word]);
    return events;
}

static inline const uint64_t *row_bits(const ns_chip *p, int c, int a)
{
    return p->xbits + ((int64_t)c * p->A + a) * p->NW;
}

/* Integrate the spike of axon a of core c into V; returns its synaptic events. */
static int64_t add_row(const ns_chip *p, int32_t *V, int c, int a, uint32_t base)
{
    const uint64_t *bits = row_bits(p, c, a);
    int type = p->atype[(int64_t)c * p->A + a];
    const int16_t *wt = p->per_synapse ? 0 : p->typed_w + ((int64_t)c * p->T + type) * p->N;
    const int16_t *ws = p->per_synapse ? p->syn_w + ((int64_t)c * p->A + a) * p->N : 0;
    if (p->core_stoch_syn[(int64_t)c * p->T + type]) {
        const uint8_t *st = p->stoch_syn + ((int64_t)c * p->T + type) * p->N;
        add_stochastic_row(V, bits, wt, ws, st, p->N, base + 4096u * (uint32_t)(2 + a));
    } else if (p->per_synapse) {
        add_synapse_row(V, bits, ws, p->N, p->NW);
    } else {
        add_typed_row(V, bits, wt, p->N, p->NW);
    }
    return row_events(bits, p->enabled_bits + (int64_t)c * p->NW, p->NW);
}

static inline uint64_t *flag_at(const ns_chip *p, int b, int slot, int c)
{
    return p->flag + (((int64_t)b * NS_SLOTS + slot) * p->C + c) * p->W;
}

static inline uint16_t *list_at(const ns_chip *p, int b, int slot, int c)
{
    return p->alist + (((int64_t)b * NS_SLOTS + slot) * p->C + c) * p->A;
}

static inline int32_t *len_at(const ns_chip *p, int b, int slot, int c)
{
    return p->alen + ((int64_t)b * NS_SLOTS + slot) * p->C + c;
}

/* Append axon a to the arrival list of (b, slot, c) unless it is on it already. */
static inline void arrive(const ns_chip *p, int b, int slot, int c, int a)
{
    uint64_t *f = flag_at(p, b, slot, c) + (a >> 6);
    uint64_t bit = 1ull << (a & 63);
    if (!(*f & bit)) {
        int32_t *len = len_at(p, b, slot, c);
        *f |= bit;
        list_at(p, b, slot, c)[(*len)++] = (uint16_t)a;
    }
}

/* Step 1 for core c and one input b: the arrival list, in list order; the rows a few entries
 * ahead are prefetched (they are scattered over the crossbar, one miss each otherwise). */
static void integrate_one(const ns_chip *p, int slot, int c, int b, uint32_t base)
{
    enum { AHEAD = 4 };
    int32_t *len = len_at(p, b, slot, c);
    const uint16_t *list = list_at(p, b, slot, c);
    int32_t *V = p->V + ((int64_t)b * p->C + c) * p->N;
    int64_t events = 0;
    for (int k = 0; k < *len && k < AHEAD; k++)
        __builtin_prefetch(row_bits(p, c, list[k]));
    for (int k = 0; k < *len; k++) {
        if (k + AHEAD < *len)
            __builtin_prefetch(row_bits(p, c, list[k + AHEAD]));
        events += add_row(p, V, c, list[k], base);
    }
    memset(flag_at(p, b, slot, c), 0, sizeof(uint64_t) * p->W);
    p->pair_events[(int64_t)b * p->C + c] += events;
    *len = 0;
}

/* Step 1 for core c and inputs b0..b1-1 together: the union of their arrival sets, axons in
 * ascending order, each crossbar row read once for the block (it stays in cache). */
static void integrate_block(const ns_chip *p, int slot, int c, int b0, int b1, uint32_t base)
{
    uint64_t mark[4096 / 64];
    int words = p->W;
    memset(mark, 0, sizeof(uint64_t) * words);
    for (int b = b0; b < b1; b++) {
        const uint64_t *f = flag_at(p, b, slot, c);
        for (int w = 0; w < words; w++)
            mark[w] |= f[w];
    }
    for (int w = 0; w < words; w++) {
        uint64_t bits = mark[w];
        while (bits) {
            int a = w * 64 + __builtin_ctzll(bits);
            bits &= bits - 1;
            for (int b = b0; b < b1; b++) {
                if (flag_at(p, b, slot, c)[w] & (1ull << (a & 63)))
                    p->pair_events[(int64_t)b * p->C + c]
                        += add_row(p, p->V + ((int64_t)b * p->C + c) * p->N, c, a, base);
            }
        }
    }
    for (int b = b0; b < b1; b++) {
        memset(flag_at(p, b, slot, c), 0, sizeof(uint64_t) * words);
        *len_at(p, b, slot, c) = 0;
    }
}

/* ------------------------------------------------------------------ step 2: neuron pass */

/* Leak, saturate, fire, reset, floor for the deterministic neuron; returns the spike count. */
static int pass_plain(int32_t *restrict V, uint8_t *restrict fired, const int32_t *restrict leak,
                      const int32_t *restrict thr, const int32_t *restrict keep,
                      const int32_t *restrict radd, const int32_t *restrict lo,
                      const int32_t *restrict to, int N, int32_t vmin, int32_t vmax)
{
    int count = 0;
    for (int n = 0; n < N; n++) {
        int32_t v = V[n] + leak[n];
        v = v < vmin ? vmin : (v > vmax ? vmax : v);
        int32_t f = v >= thr[n];
        v = f ? (v & keep[n]) + radd[n] : v;
        v = v < lo[n] ? to[n] : v;
        V[n] = v;
        fired[n] = (uint8_t)f;
        count += f;
    }
    return count;
}

/* pass_plain for a core whose neurons share their parameters: only V is streamed. */
static int pass_uniform(int32_t *restrict V, uint8_t *restrict fired, int32_t leak, int32_t thr,
                        int32_t keep, int32_t radd, int32_t lo, int32_t to, int N, int32_t vmin,
                        int32_t vmax)
{
    int count = 0;
    for (int n = 0; n < N; n++) {
        int32_t v = V[n] + leak;
        v = v < vmin ? vmin : (v > vmax ? vmax : v);
        int32_t f = v >= thr;
        v = f ? (v & keep) + radd : v;
        v = v < lo ? to : v;
        V[n] = v;
        fired[n] = (uint8_t)f;
        count += f;
    }
    return count;
}

/* The same with the rest of the TrueNorth neuron (Cassidy et al. 2013): leak reversal
 * (V += sgn(V) * leak), stochastic leak (sgn(lambda) when |lambda| >= rho & 255, else 0) and a
 * stochastic threshold alpha + eta, eta = rho & (2^TM - 1), which reset mode 1 subtracts and
 * floor mode 1 adds to beta. */
static int pass_extra(const ns_chip *p, int64_t cn, int32_t *restrict V, uint8_t *restrict fired,
                      uint32_t base)
{
    const int32_t *restrict leak = p->leak + cn, *restrict thr = p->thr + cn;
    const int32_t *restrict keep = p->keep + cn, *restrict radd = p->radd + cn;
    const int32_t *restrict lo = p->floor_lo + cn, *restrict to = p->floor_to + cn;
    const int32_t *restrict rev = p->leak_rev + cn, *restrict sl = p->stoch_leak + cn;
    const uint32_t *restrict mask = p->thr_mask + cn;
    const int32_t *restrict er = p->eta_reset + cn, *restrict ef = p->eta_floor + cn;
    int32_t vmin = p->vmin, vmax = p->vmax;
    int N = p->N, count = 0;
    for (int n = 0; n < N; n++) {
        int32_t v = V[n];
        int32_t lam = leak[n];
        int32_t alam = lam < 0 ? -lam : lam;
        int32_t rl = (int32_t)(fmix32(base + 4096u + (uint32_t)n) & 255u);
        int32_t l = sl[n] ? (alam >= rl ? sgn32(lam) : 0) : lam;
        v += rev[n] ? sgn32(v) * l : l;
        v = v < vmin ? vmin : (v > vmax ? vmax : v);
        int32_t eta = (int32_t)(fmix32(base + (uint32_t)n) & mask[n]);
        uint32_t th_u = (uint32_t)thr[n] + (uint32_t)eta;   /* alpha + eta, saturated */
        int32_t th = th_u > (uint32_t)INT32_MAX ? INT32_MAX : (int32_t)th_u;
        int32_t f = v >= th;
        v = f ? (v & keep[n]) + radd[n] - (eta & er[n]) : v;
        v = v < lo[n] - (eta & ef[n]) ? to[n] : v;
        V[n] = v;
        fired[n] = (uint8_t)f;
        count += f;
    }
    return count;
}

/* ------------------------------------------------------------------ step 3: spikes out */

static void emit(const ns_chip *p, int t, int b, int c, int count)
{
    int N = p->N, C = p->C, A = p->A;
    int64_t bc = (int64_t)b * C + c, cn = (int64_t)c * N;
    const uint8_t *fired = p->fired + bc * N;
    const int64_t *route = p->route + cn;
    int32_t *odc = p->out_dc + bc * N, *otgt = p->out_tgt + bc * N;
    int outputs = p->core_outputs[c];
    int32_t routed = 0;
    int64_t hops = 0;
    if (p->do_record)
        memcpy(p->record + ((int64_t)t * p->B + b) * C * N + cn, fired, N);
    for (int w = 0; w < N && count; w += 8) {
        uint64_t bits = 0;
        int width = N - w < 8 ? N - w : 8;
        memcpy(&bits, fired + w, width);
        while (bits) {
            int n = w + __builtin_ctzll(bits) / 8;
            bits &= bits - 1;   /* bytes are 0/1: clearing the lowest set bit clears the byte */
            count--;
            if (outputs) {
                int k = p->out_index[cn + n];
                if (k >= 0) {
                    p->counts[(int64_t)b * p->K + k] += 1;
                    if (p->first[(int64_t)b * p->K + k] < 0)
                        p->first[(int64_t)b * p->K + k] = t;
                }
            }
            int64_t r = route[n];
            if (r >= 0) {
                int32_t dest = (int32_t)(r & 0xffffffff) >> 4;   /* dest core * A + axon */
                odc[routed] = dest / A;
                otgt[routed++] = ((t + (int)(r & 15)) & (NS_SLOTS - 1)) * A + dest % A;
                hops += r >> 32;
            }
        }
    }
    p->out_n[bc] = routed;
    p->pair_hops[bc] += hops;
}

/* Steps 1-3 for core c and inputs b0..b1-1. */
/* Step 2 for core c and input b (the pass its parameters call for); returns the spike count. */
static int neuron_pass(const ns_chip *p, int c, int b, uint32_t base)
{
    int64_t cn = (int64_t)c * p->N, bc = (int64_t)b * p->C + c;
    int32_t *V = p->V + bc * p->N;
    uint8_t *fired = p->fired + bc * p->N;
    int count;
    if (p->core_extra[c])
        count = pass_extra(p, cn, V, fired, base);
    else if (p->uniform[c])
        count = pass_uniform(V, fired, p->leak[cn], p->thr[cn], p->keep[cn], p->radd[cn],
                             p->floor_lo[cn], p->floor_to[cn], p->N, p->vmin, p->vmax);
    else
        count = pass_plain(V, fired, p->leak + cn, p->thr + cn, p->keep + cn, p->radd + cn,
                           p->floor_lo + cn, p->floor_to + cn, p->N, p->vmin, p->vmax);
    p->pair_spikes[bc] += count;
    return count;
}

/* Steps 1-3 for core c and inputs b0..b1-1 (batches: the inputs of a block share rows). */
static void step_item(const ns_chip *p, int t, int c, int b0, int b1)
{
    int slot = t & (NS_SLOTS - 1);
    uint32_t base = draw_base(p->seed[c], t);
    if (b1 - b0 == 1)
        integrate_one(p, slot, c, b0, base);
    else
        integrate_block(p, slot, c, b0, b1, base);
    for (int b = b0; b < b1; b++)
        emit(p, t, b, c, neuron_pass(p, c, b, base));
}

/* ---------------------------------------------------- one input: a software-pipelined sweep */

/* Distances (in cores) at which a sweep prefetches what a core will need: its arrival list
 * first, then the crossbar rows and axon types the list names, then the weight rows of those
 * types; a core's spikes are sent LAG cores later, once their routes (prefetched when the core
 * fired) have arrived. Each level is a dependent random access into a large array, so without
 * this every core waits for several memory round trips. */
enum { AHEAD_LIST = 12, AHEAD_ROWS = 8, AHEAD_WEIGHTS = 4, LAG = 2 };

static void prefetch_list(const ns_chip *p, int slot, int c)
{
    __builtin_prefetch(len_at(p, 0, slot, c));
    __builtin_prefetch(list_at(p, 0, slot, c));
    __builtin_prefetch(flag_at(p, 0, slot, c));
}

static void prefetch_rows(const ns_chip *p, int slot, int c)
{
    int32_t len = *len_at(p, 0, slot, c);
    const uint16_t *list = list_at(p, 0, slot, c);
    for (int k = 0; k < len; k++) {
        __builtin_prefetch(row_bits(p, c, list[k]));
        __builtin_prefetch(p->atype + (int64_t)c * p->A + list[k]);
    }
}

static void prefetch_weights(const ns_chip *p, int slot, int c)
{
    int32_t len = *len_at(p, 0, slot, c);
    const uint16_t *list = list_at(p, 0, slot, c);
    uint32_t seen = 0;
    if (p->per_synapse)
        return;
    for (int k = 0; k < len; k++) {
        int type = p->atype[(int64_t)c * p->A + list[k]];
        if (type < 32 && !(seen & (1u << type))) {
            seen |= 1u << type;
            const int16_t *w = p->typed_w + ((int64_t)c * p->T + type) * p->N;
            for (int n = 0; n < p->N; n += 32)
                __builtin_prefetch(w + n);
        }
    }
}

static void prefetch_routes(const ns_chip *p, int c)
{
    const uint8_t *fired = p->fired + (int64_t)c * p->N;
    const int64_t *route = p->route + (int64_t)c * p->N;
    for (int w = 0; w < p->N; w += 8) {
        uint64_t bits = 0;
        memcpy(&bits, fired + w, p->N - w < 8 ? p->N - w : 8);
        while (bits) {
            __builtin_prefetch(route + w + __builtin_ctzll(bits) / 8);
            bits &= bits - 1;
        }
    }
}

/* Steps 1-3 for input 0 and the cores [c0, c1), in order, with the prefetches above. */
static void sweep_single(const ns_chip *p, int t, int c0, int c1)
{
    int slot = t & (NS_SLOTS - 1);
    int counts[LAG + 1];
    for (int c = c0; c < c1 + LAG; c++) {
        if (c < c1) {
            if (c + AHEAD_LIST < c1)
                prefetch_list(p, slot, c + AHEAD_LIST);
            if (c + AHEAD_ROWS < c1)
                prefetch_rows(p, slot, c + AHEAD_ROWS);
            if (c + AHEAD_WEIGHTS < c1)
                prefetch_weights(p, slot, c + AHEAD_WEIGHTS);
            uint32_t base = draw_base(p->seed[c], t);
            integrate_one(p, slot, c, 0, base);
            counts[c % (LAG + 1)] = neuron_pass(p, c, 0, base);
            if (counts[c % (LAG + 1)])
                prefetch_routes(p, c);
        }
        if (c - LAG >= c0)
            emit(p, t, 0, c - LAG, counts[(c - LAG) % (LAG + 1)]);
    }
}

/* ------------------------------------------------------------------ step 0 and step 4 */

/* Step 0 for tick t and the destination cores [c0, c1): every input's spikes, in entry order. */
static void external_inputs(const ns_chip *p, int t, int c0, int c1)
{
    int slot = t & (NS_SLOTS - 1);
    for (int b = 0; b < p->B; b++) {
        const uint8_t *row = p->raster + ((int64_t)t * p->B + b) * p->n_inputs;
        for (int m = 0; m < p->M; m++) {
            int c = p->in_core[m];
            if (c >= c0 && c < c1 && row[p->in_idx[m]])
                arrive(p, b, slot, c, p->in_axon[m]);
        }
    }
}

/* Step 4 for the destination cores [c0, c1): walk every out list in (b, source, neuron) order. */
static void route_range(const ns_chip *p, int c0, int c1)
{
    int C = p->C, A = p->A, N = p->N;
    for (int b = 0; b < p->B; b++)
        for (int c = 0; c < C; c++) {
            int64_t bc = (int64_t)b * C + c;
            int32_t n_out = p->out_n[bc];
            const int32_t *odc = p->out_dc + bc * N, *otgt = p->out_tgt + bc * N;
            for (int k = 0; k < n_out; k++) {
                int dc = odc[k];
                if (dc >= c0 && dc < c1)
                    arrive(p, b, otgt[k] / A, dc, otgt[k] % A);
            }
        }
}

void ns_run(ns_chip *p, int ticks, int threads)
{
    int blocks = (p->B + p->block - 1) / p->block;
    int items = p->C * blocks;
    if (threads < 1)
        threads = 1;
#ifdef _OPENMP
    #pragma omp parallel num_threads(threads)
#endif
    {
        int tid = 0, nth = 1;
#ifdef _OPENMP
        tid = omp_get_thread_num();
        nth = omp_get_num_threads();
#endif
        int c0 = (int)((int64_t)p->C * tid / nth), c1 = (int)((int64_t)p->C * (tid + 1) / nth);
        /* each thread fills the arrival lists of its own range of destination cores: the
         * external inputs of the next tick right after the spikes routed in this one, so a tick
         * needs two barriers */
        external_inputs(p, 0, c0, c1);
#ifdef _OPENMP
        #pragma omp barrier
#endif
        for (int t = 0; t < ticks; t++) {
            if (p->B == 1) {
                /* one input: each thread sweeps its own range of cores (prefetching ahead) */
                sweep_single(p, t, c0, c1);
#ifdef _OPENMP
                #pragma omp barrier
#endif
            } else {
#ifdef _OPENMP
                #pragma omp for schedule(dynamic, 4)
#endif
                for (int i = 0; i < items; i++) {
                    int c = i / blocks;
                    int b0 = (i - c * blocks) * p->block;
                    int b1 = b0 + p->block < p->B ? b0 + p->block : p->B;
                    step_item(p, t, c, b0, b1);
                }
            }
            route_range(p, c0, c1);
            if (t + 1 < ticks)
                external_inputs(p, t + 1, c0, c1);
#ifdef _OPENMP
            #pragma omp barrier
#endif
        }
    }
}
