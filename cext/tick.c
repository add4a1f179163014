/* The activity-driven tick kernel; tick.h describes the tick, arrival sets and random draws. */
#include "tick.h"

#include <limits.h>
#include <string.h>
#if defined(__AVX512F__) || defined(__AVX2__)
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

/* The positions 64 w + i of the set bits i of words x[0 .. words), in ascending order, into out
 * (room for 64 words + 3 entries); returns their number. Four positions are written for every
 * word whatever its bit count (those past the count are overwritten by the next word's or left
 * unused) and only a word with more than four bits loops, so a sparse set is listed without the
 * mispredicted exit of a loop per word. */
static inline int set_bits(const uint64_t *x, int words, int *out)
{
    int n = 0;
    for (int w = 0; w < words; w++) {
        uint64_t b = x[w];
        int k = __builtin_popcountll(b);
        for (int i = 0; i < 4; i++) {
            /* bit 63 forced on: ctz is defined (and its value unused) once b is empty */
            out[n + i] = 64 * w + __builtin_ctzll(b | (1ull << 63));
            b &= b - 1;
        }
        for (int i = 4; i < k; i++) {
            out[n + i] = 64 * w + __builtin_ctzll(b);
            b &= b - 1;
        }
        n += k;
    }
    return n;
}

/* ------------------------------------------------------------------ step 1: integrate */

/* Typed-weight crossbar rows of one core waiting to be added to its V together: rows whose type
 * has one weight shared by every neuron of the core, and rows whose type has a weight row. */
enum { FUSE = 32 };
typedef struct {
    const uint64_t *cbits[FUSE];  /* shared weight: the rows' crossbar bits ... */
    int32_t wc[FUSE];             /* ... and the weight */
    const uint64_t *wbits[FUSE];  /* weight rows: the rows' crossbar bits ... */
    const int16_t *w[FUSE];       /* ... and the weight row of the axon's type */
    int nc, nw;
} ns_rows;

#ifdef __AVX512F__
/* Lanes of the 16 neurons from n that exist (N neurons in all). */
static inline __mmask16 lanes(int N, int n)
{
    return n >= N ? 0 : N - n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (N - n)) - 1);
}

/* Full vectors use plain loads and stores (a masked store is slow, and defeats store-to-load
 * forwarding). */
static inline __m512i load_lanes(const int32_t *x, __mmask16 k)
{
    return k == 0xffff ? _mm512_loadu_si512(x) : _mm512_maskz_loadu_epi32(k, x);
}

static inline void store_lanes(int32_t *x, __mmask16 k, __m512i v)
{
    if (k == 0xffff)
        _mm512_storeu_si512(x, v);
    else if (k)
        _mm512_mask_storeu_epi32(x, k, v);
}

/* acc[q] (neurons 64 w + 16 q ..) += the queued rows' weights where their crossbar bits are set:
 * one masked add per row and 16 neurons, the mask taken straight from the row's bits (bits past
 * the last neuron are 0). */
static inline void add_rows_word(__m512i acc[4], const ns_rows *rows, int w, const __mmask16 k[4])
{
    for (int i = 0; i < rows->nc; i++) {
        uint64_t b = rows->cbits[i][w];
        __m512i wv = _mm512_set1_epi32(rows->wc[i]);
        for (int q = 0; q < 4; q++)
            acc[q] = _mm512_mask_add_epi32(acc[q], (__mmask16)(b >> (16 * q)), acc[q], wv);
    }
    for (int i = 0; i < rows->nw; i++) {
        uint64_t b = rows->wbits[i][w];
        const int16_t *wr = rows->w[i] + 64 * w;
        for (int q = 0; q < 4; q++) {
            __m512i wv = _mm512_cvtepi16_epi32(_mm256_maskz_loadu_epi16(k[q], wr + 16 * q));
            acc[q] = _mm512_mask_add_epi32(acc[q], (__mmask16)(b >> (16 * q)), acc[q], wv);
        }
    }
}
#elif defined(__AVX2__)
/* AVX2 (no AVX-512): the same for a whole word of 64 neurons held in eight 8-lane vectors,
 * acc[q] = neurons 64 w + 8 q + j, j = 0..7. Lane j of vector q needs bit 8 q + j of the row's
 * word: the word's low half (q < 4) or high half (q >= 4), broadcast to every lane straight from
 * memory, is shifted left by 31 - (8 (q % 4) + j) (shift[q % 4]) so that this bit becomes the
 * sign bit, and an arithmetic shift right by 31 makes it the lane mask (all ones where set); the
 * weight, ANDed with the mask, is added (AVX2 has no masked add): two broadcast loads per row and
 * word, then four operations per row and 8 neurons (shift, shift, and, add). Only whole words
 * take this path (the last, partial word of a core with N % 64 != 0 is done in scalar code), so
 * nothing past the N neurons is read. */
static inline __m256i lane_mask8(__m256i half, __m256i shift)
{
    return _mm256_srai_epi32(_mm256_sllv_epi32(half, shift), 31);
}

static inline void add_rows_word8(__m256i acc[8], const ns_rows *rows, int w)
{
    const __m256i shift[4] = {_mm256_setr_epi32(31, 30, 29, 28, 27, 26, 25, 24),
                              _mm256_setr_epi32(23, 22, 21, 20, 19, 18, 17, 16),
                              _mm256_setr_epi32(15, 14, 13, 12, 11, 10, 9, 8),
                              _mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0)};
    for (int i = 0; i < rows->nc; i++) {
        /* the word as two 32-bit halves, low first (x86 is little-endian) */
        const int32_t *b = (const int32_t *)(rows->cbits[i] + w);
        __m256i wv = _mm256_set1_epi32(rows->wc[i]);
        __m256i lo = _mm256_set1_epi32(b[0]), hi = _mm256_set1_epi32(b[1]);
        for (int q = 0; q < 4; q++) {
            acc[q] = _mm256_add_epi32(acc[q], _mm256_and_si256(wv, lane_mask8(lo, shift[q])));
            acc[q + 4] = _mm256_add_epi32(acc[q + 4],
                                          _mm256_and_si256(wv, lane_mask8(hi, shift[q])));
        }
    }
    for (int i = 0; i < rows->nw; i++) {
        const int32_t *b = (const int32_t *)(rows->wbits[i] + w);
        const int16_t *wr = rows->w[i] + 64 * w;
        __m256i lo = _mm256_set1_epi32(b[0]), hi = _mm256_set1_epi32(b[1]);
        for (int q = 0; q < 8; q++) {
            __m256i wv = _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(wr + 8 * q)));
            __m256i m = lane_mask8(q < 4 ? lo : hi, shift[q & 3]);
            acc[q] = _mm256_add_epi32(acc[q], _mm256_and_si256(wv, m));
        }
    }
}
#endif

/* Scalar: V_n += the queued rows' weights for neurons n0..n1-1 whose bits are set. */
static inline void add_rows_range(int32_t *restrict V, const ns_rows *rows, int n0, int n1)
{
    for (int i = 0; i < rows->nc; i++)
        for (int n = n0; n < n1; n++)
            V[n] += rows->wc[i] & -(int32_t)((rows->cbits[i][n >> 6] >> (n & 63)) & 1);
    for (int i = 0; i < rows->nw; i++)
        for (int n = n0; n < n1; n++)
            V[n] += rows->w[i][n] & -(int32_t)((rows->wbits[i][n >> 6] >> (n & 63)) & 1);
}

/* V_j += w_j for every neuron j whose bit is set in one of the queued rows (w: the neuron's
 * weight for the row's axon type). AVX-512: 64 neurons at a time held in registers while every
 * row adds to them, so V is read and written once whatever the number of rows. */
static void add_typed_rows(int32_t *restrict V, const ns_rows *rows, int N)
{
#ifdef __AVX512F__
    for (int w = 0; 64 * w < N; w++) {
        __mmask16 k[4];
        __m512i acc[4];
        for (int q = 0; q < 4; q++) {
            k[q] = lanes(N, 64 * w + 16 * q);
            acc[q] = load_lanes(V + 64 * w + 16 * q, k[q]);
        }
        add_rows_word(acc, rows, w, k);
        for (int q = 0; q < 4; q++)
            store_lanes(V + 64 * w + 16 * q, k[q], acc[q]);
    }
#elif defined(__AVX2__)
    for (int w = 0; 64 * w < N; w++) {
        int32_t *v = V + 64 * w;
        if (N - 64 * w < 64) {
            add_rows_range(V, rows, 64 * w, N);
            break;
        }
        __m256i acc[8];
        for (int q = 0; q < 8; q++)
            acc[q] = _mm256_loadu_si256((const __m256i *)(v + 8 * q));
        add_rows_word8(acc, rows, w);
        for (int q = 0; q < 8; q++)
            _mm256_storeu_si256((__m256i *)(v + 8 * q), acc[q]);
    }
#else
    add_rows_range(V, rows, 0, N);
#endif
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

/* Queue the typed-weight row of axon a of core c (type ct = c * T + type) on ``rows``; true when
 * a queue is then full. */
static inline int queue_typed(const ns_chip *p, ns_rows *rows, int c, int a, int64_t ct)
{
    int32_t wc = p->typed_const[ct];
    if (wc != INT32_MIN) {
        rows->cbits[rows->nc] = row_bits(p, c, a);
        rows->wc[rows->nc++] = wc;
    } else {
        rows->wbits[rows->nw] = row_bits(p, c, a);
        rows->w[rows->nw++] = p->typed_w + ct * p->N;
    }
    return rows->nc == FUSE || rows->nw == FUSE;
}

/* Integrate the spike of axon a (of type ct = c * T + type) of core c into V, unless it is an
 * ordinary typed-weight row and ``rows`` is given: then it is queued there (added when the queue
 * is full; the caller adds what remains). Returns its synaptic events. */
static int64_t add_row(const ns_chip *p, int32_t *V, int c, int a, int64_t ct, uint32_t base,
                       ns_rows *rows)
{
    const uint64_t *bits = row_bits(p, c, a);
    if (p->core_stoch_syn[ct]) {
        const int16_t *wt = p->per_synapse ? 0 : p->typed_w + ct * p->N;
        const int16_t *ws = p->per_synapse ? p->syn_w + ((int64_t)c * p->A + a) * p->N : 0;
        add_stochastic_row(V, bits, wt, ws, p->stoch_syn + ct * p->N, p->N,
                           base + 4096u * (uint32_t)(2 + a));
    } else if (p->per_synapse) {
        add_synapse_row(V, bits, p->syn_w + ((int64_t)c * p->A + a) * p->N, p->N, p->NW);
    } else if (!rows) {
        ns_rows one = {.nc = 0, .nw = 0};
        queue_typed(p, &one, c, a, ct);
        add_typed_rows(V, &one, p->N);
    } else if (queue_typed(p, rows, c, a, ct)) {
        add_typed_rows(V, rows, p->N);
        rows->nc = rows->nw = 0;
    }
    return row_events(bits, p->enabled_bits + (int64_t)c * p->NW, p->NW);
}

/* The axons of core c whose type is ``type``, as a bit set of W words. */
static inline const uint64_t *type_set(const ns_chip *p, int c, int type)
{
    return p->type_bits + ((int64_t)c * p->T + type) * p->W;
}

static inline uint64_t *flag_at(const ns_chip *p, int b, int slot, int c)
{
    return p->flag + (((int64_t)b * NS_SLOTS + slot) * p->C + c) * p->W;
}

/* Put axon a on the arrival set of (b, slot, c). When several threads route (``shared``), an
 * atomic OR: any thread may send to any core, and a set bit does not depend on who set it. */
static inline void arrive(const ns_chip *p, int shared, int b, int slot, int c, int a)
{
    uint64_t *f = flag_at(p, b, slot, c) + (a >> 6);
    uint64_t bit = 1ull << (a & 63);
    if (shared)
        __atomic_fetch_or(f, bit, __ATOMIC_RELAXED);
    else
        *f |= bit;
}

/* Step 1 for core c and one input b: the arrival set's axons listed (set_bits), each with its
 * type, typed-weight rows queued on ``rows`` (the neuron pass adds the last of them); the set is
 * emptied for the slot's next use. */
static void integrate_one(const ns_chip *p, int slot, int c, int b, uint32_t base, ns_rows *rows)
{
    uint64_t *f = flag_at(p, b, slot, c);
    int32_t *V = p->V + ((int64_t)b * p->C + c) * p->N;
    const uint8_t *atype = p->atype + (int64_t)c * p->A;
    int axons[64 * p->W + 3];
    int n = set_bits(f, p->W, axons);
    int64_t events = 0;
    for (int i = 0; i < n; i++) {
        int a = axons[i];
        events += add_row(p, V, c, a, (int64_t)c * p->T + atype[a], base, rows);
    }
    memset(f, 0, sizeof(uint64_t) * p->W);
    p->pair_events[(int64_t)b * p->C + c] += events;
}

/* Step 1 for core c and inputs b0..b1-1 together: the union of their arrival sets, axons in
 * ascending order, each crossbar row read once for the block (it stays in cache). */
static void integrate_block(const ns_chip *p, int slot, int c, int b0, int b1, uint32_t base)
{
    int words = p->W;
    uint64_t mark[words];
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
            int64_t ct = (int64_t)c * p->T + p->atype[(int64_t)c * p->A + a];
            bits &= bits - 1;
            for (int b = b0; b < b1; b++) {
                if (flag_at(p, b, slot, c)[w] & (1ull << (a & 63)))
                    p->pair_events[(int64_t)b * p->C + c]
                        += add_row(p, p->V + ((int64_t)b * p->C + c) * p->N, c, a, ct, base, 0);
            }
        }
    }
    for (int b = b0; b < b1; b++)
        memset(flag_at(p, b, slot, c), 0, sizeof(uint64_t) * words);
}

/* ------------------------------------------------------------------ step 2: neuron pass */

/* The queued rows, then leak, saturate, fire, reset, floor for the deterministic neuron:
 *   v = clamp(V + rows + lambda, vmin, vmax); f = v >= alpha; v = f ? (v & keep) + radd : v;
 *   V = v < lo ? to : v
 * 64 neurons at a time held in registers (AVX-512, or AVX2 where the machine has no AVX-512), so V
 * is read and written once per tick. The
 * fire flags go to the bit set fm (neuron n = bit n % 64 of word n / 64); returns the spike
 * count. prm: leak, thr, keep, radd, lo, to, each (N,) or, where ``uniform`` (a constant at each
 * call site), one value for every neuron. */
static inline __attribute__((always_inline)) int
pass_body(int32_t *restrict V, uint64_t *restrict fm, const ns_rows *rows,
          const int32_t *const prm[6], int N, int32_t vmin, int32_t vmax, const int uniform)
{
    const int32_t *leak = prm[0], *thr = prm[1], *keep = prm[2], *radd = prm[3], *lo = prm[4],
                  *to = prm[5];
    int count = 0;
#ifdef __AVX512F__
    __m512i vlo = _mm512_set1_epi32(vmin), vhi = _mm512_set1_epi32(vmax);
    __m512i u_leak = _mm512_set1_epi32(leak[0]), u_thr = _mm512_set1_epi32(thr[0]);
    __m512i u_keep = _mm512_set1_epi32(keep[0]), u_radd = _mm512_set1_epi32(radd[0]);
    __m512i u_lo = _mm512_set1_epi32(lo[0]), u_to = _mm512_set1_epi32(to[0]);
    for (int w = 0; 64 * w < N; w++) {
        __mmask16 k[4];
        __m512i acc[4];
        uint64_t word = 0;
        for (int q = 0; q < 4; q++) {
            k[q] = lanes(N, 64 * w + 16 * q);
            acc[q] = load_lanes(V + 64 * w + 16 * q, k[q]);
        }
        add_rows_word(acc, rows, w, k);
        for (int q = 0; q < 4; q++) {
            int n = 64 * w + 16 * q;
#define NS_PARAM(x) (uniform ? u_##x : _mm512_maskz_loadu_epi32(k[q], (x) + n))
            __m512i v = _mm512_add_epi32(acc[q], NS_PARAM(leak));
            v = _mm512_min_epi32(_mm512_max_epi32(v, vlo), vhi);
            __mmask16 f = _mm512_mask_cmpge_epi32_mask(k[q], v, NS_PARAM(thr));
            v = _mm512_mask_add_epi32(v, f, _mm512_and_si512(v, NS_PARAM(keep)), NS_PARAM(radd));
            v = _mm512_mask_mov_epi32(v, _mm512_cmplt_epi32_mask(v, NS_PARAM(lo)), NS_PARAM(to));
#undef NS_PARAM
            store_lanes(V + n, k[q], v);
            word |= (uint64_t)f << (16 * q);
        }
        fm[w] = word;
        count += __builtin_popcountll(word);
    }
#else
    /* 64 neurons at a time: AVX2 for whole words (eight 8-lane vectors in registers while the
     * rows add to them), scalar code otherwise (no AVX2, or the last, partial word). AVX2 has no
     * greater-or-equal compare: it computes below = alpha > v, the complement of f, blends with
     * it (v where below, the reset value elsewhere) and collects its sign bits, so the word of
     * fire flags is the complement of the collected bits. */
#ifdef __AVX2__
    const __m256i vlo = _mm256_set1_epi32(vmin), vhi = _mm256_set1_epi32(vmax);
#endif
    for (int w = 0; 64 * w < N; w++) {
        uint8_t f8[64];
        int n0 = 64 * w, width = N - n0 < 64 ? N - n0 : 64;
        uint64_t word = 0;
#ifdef __AVX2__
        if (width == 64) {
            __m256i acc[8];
            uint64_t quiet = 0;    /* bit n: neuron 64 w + n did not fire */
            for (int q = 0; q < 8; q++)
                acc[q] = _mm256_loadu_si256((const __m256i *)(V + n0 + 8 * q));
            add_rows_word8(acc, rows, w);
            for (int q = 0; q < 8; q++) {
                int n = n0 + 8 * q;
#define NS_PARAM(x) (uniform ? _mm256_set1_epi32((x)[0]) \
                             : _mm256_loadu_si256((const __m256i *)((x) + n)))
                __m256i v = _mm256_add_epi32(acc[q], NS_PARAM(leak));
                v = _mm256_min_epi32(_mm256_max_epi32(v, vlo), vhi);
                __m256i below = _mm256_cmpgt_epi32(NS_PARAM(thr), v);
                __m256i fired = _mm256_add_epi32(_mm256_and_si256(v, NS_PARAM(keep)),
                                                 NS_PARAM(radd));
                v = _mm256_blendv_epi8(fired, v, below);
                v = _mm256_blendv_epi8(v, NS_PARAM(to), _mm256_cmpgt_epi32(NS_PARAM(lo), v));
#undef NS_PARAM
                _mm256_storeu_si256((__m256i *)(V + n), v);
                quiet |= (uint64_t)(uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(below))
                         << (8 * q);
            }
            word = ~quiet;
            fm[w] = word;
            count += __builtin_popcountll(word);
            continue;
        }
#endif
        add_rows_range(V, rows, n0, n0 + width);
        for (int j = 0; j < width; j++) {
            int i = uniform ? 0 : n0 + j;
            /* every parameter loaded unconditionally: the selects below become blends */
            int32_t l = leak[i], th = thr[i], kp = keep[i], ra = radd[i], fl = lo[i], ft = to[i];
            int32_t v = V[n0 + j] + l;
            v = v < vmin ? vmin : (v > vmax ? vmax : v);
            int32_t f = v >= th;
            v = f ? (v & kp) + ra : v;
            v = v < fl ? ft : v;
            V[n0 + j] = v;
            f8[j] = (uint8_t)f;
        }
        for (int j = 0; j < width; j++)
            word |= (uint64_t)f8[j] << j;
        fm[w] = word;
        count += __builtin_popcountll(word);
    }
#endif
    return count;
}

/* The same with the rest of the TrueNorth neuron (Cassidy et al. 2013): leak reversal
 * (V += sgn(V) * leak), stochastic leak (sgn(lambda) when |lambda| >= rho & 255, else 0) and a
 * stochastic threshold alpha + eta, eta = rho & (2^TM - 1), which reset mode 1 subtracts and
 * floor mode 1 adds to beta. */
static int pass_extra(const ns_chip *p, int64_t cn, int32_t *restrict V, uint64_t *restrict fm,
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
    memset(fm, 0, sizeof(uint64_t) * p->NW);
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
        fm[n >> 6] |= (uint64_t)f << (n & 63);
        count += f;
    }
    return count;
}

/* Step 2 for core c and input b (the pass its parameters call for), the typed-weight rows still
 * queued on ``rows`` added first; returns the spike count. */
static int neuron_pass(const ns_chip *p, int c, int b, uint32_t base, const ns_rows *rows)
{
    int64_t cn = (int64_t)c * p->N, bc = (int64_t)b * p->C + c;
    int32_t *V = p->V + bc * p->N;
    uint64_t *fm = p->fired + bc * p->NW;
    int count;
    if (p->core_extra[c]) {
        add_typed_rows(V, rows, p->N);
        count = pass_extra(p, cn, V, fm, base);
    } else if (p->uniform[c]) {
        const int32_t *u = p->uniform_prm + (int64_t)c * NS_UNIFORM_STRIDE;
        const int32_t *const prm[6] = {u, u + 1, u + 2, u + 3, u + 4, u + 5};
        count = pass_body(V, fm, rows, prm, p->N, p->vmin, p->vmax, 1);
    } else {
        const int32_t *const prm[6] = {p->leak + cn, p->thr + cn, p->keep + cn, p->radd + cn,
                                       p->floor_lo + cn, p->floor_to + cn};
        count = pass_body(V, fm, rows, prm, p->N, p->vmin, p->vmax, 0);
    }
    p->pair_spikes[bc] += count;
    return count;
}

/* Steps 1-2 for core c and input b; returns the spike count. */
static int update_core(const ns_chip *p, int slot, int c, int b, uint32_t base)
{
    ns_rows rows;
    rows.nc = rows.nw = 0;
    integrate_one(p, slot, c, b, base, &rows);
    return neuron_pass(p, c, b, base, &rows);
}

/* ------------------------------------------------------------------ step 3: spikes out */

/* Step 3 for core c and input b: record, count and route the neurons whose fire bit is set (in
 * ascending order; ``count`` of them, only its being 0 is read); each spike goes straight onto
 * its destination's arrival set. */
static void emit(const ns_chip *p, int t, int b, int c, int count, int shared)
{
    int N = p->N, C = p->C;
    int64_t bc = (int64_t)b * C + c, cn = (int64_t)c * N;
    const uint64_t *fm = p->fired + bc * p->NW;
    const int64_t *route = p->route + cn;
    uint8_t *rec = p->do_record ? p->record + ((int64_t)t * p->B + b) * C * N + cn : 0;
    int outputs = p->core_outputs[c];
    int64_t hops = 0;
    if (!count)
        return;
    int fired[64 * p->NW + 3];
    count = set_bits(fm, p->NW, fired);
    for (int i = 0; i < count; i++) {
        int n = fired[i];
        if (rec)
            rec[n] = 1;
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
            arrive(p, shared, b, (t + (int)(r & 15)) & (NS_SLOTS - 1),
                   (int)((r >> 20) & 0xffffff), (int)((r >> 4) & 0xffff));
            hops += r >> 44;
        }
    }
    p->pair_hops[bc] += hops;
}

/* Steps 1-3 for core c and inputs b0..b1-1 (batches: the inputs of a block share rows). */
static void step_item(const ns_chip *p, int t, int c, int b0, int b1, int shared)
{
    int slot = t & (NS_SLOTS - 1);
    uint32_t base = draw_base(p->seed[c], t);
    if (b1 - b0 == 1) {
        emit(p, t, b0, c, update_core(p, slot, c, b0, base), shared);
        return;
    }
    ns_rows none;
    none.nc = none.nw = 0;
    integrate_block(p, slot, c, b0, b1, base);
    for (int b = b0; b < b1; b++)
        emit(p, t, b, c, neuron_pass(p, c, b, base, &none), shared);
}

/* ---------------------------------------------------- one input: a software-pipelined sweep */

/* Distances (in cores) at which a sweep prefetches what a core will need: its arrival set and its
 * axons' types first, then the crossbar rows the set names, then the weight rows of the types it
 * holds; a core's spikes are sent LAG cores later, once their routes (prefetched when the core
 * fired) have arrived. Each level is a dependent random access into a large array, so without
 * this every core waits for several memory round trips. The prefetchers are forced inline: GCC
 * 12 finds an out-of-line prefetch-only function free of side effects and deletes its calls
 * (ipa-modref). */
enum { AHEAD_SET = 12, AHEAD_ROWS = 8, AHEAD_WEIGHTS = 4, LAG = 2 };

/* The cache lines of x[0 .. bytes). */
static inline __attribute__((always_inline)) void
prefetch_span(const void *x, int64_t bytes)
{
    for (int64_t i = 0; i < bytes; i += 64)
        __builtin_prefetch((const char *)x + i);
}

static inline __attribute__((always_inline)) void
prefetch_rows(const ns_chip *p, int slot, int c)
{
    int axons[64 * p->W + 3];
    int n = set_bits(flag_at(p, 0, slot, c), p->W, axons);
    for (int i = 0; i < n; i++)
        __builtin_prefetch(row_bits(p, c, axons[i]));
}

static inline __attribute__((always_inline)) void
prefetch_weights(const ns_chip *p, int slot, int c)
{
    const uint64_t *f = flag_at(p, 0, slot, c);
    if (p->per_synapse)
        return;
    for (int type = 0; type < p->T; type++) {
        int64_t ct = (int64_t)c * p->T + type;
        if (p->typed_const[ct] != INT32_MIN)
            continue;
        const uint64_t *tb = type_set(p, c, type);
        int any = 0;
        for (int w = 0; w < p->W; w++)
            any |= (f[w] & tb[w]) != 0;
        for (int n = 0; any && n < p->N; n += 32)
            __builtin_prefetch(p->typed_w + ct * p->N + n);
    }
}

static inline __attribute__((always_inline)) void
prefetch_routes(const ns_chip *p, int c)
{
    const int64_t *route = p->route + (int64_t)c * p->N;
    int fired[64 * p->NW + 3];
    int n = set_bits(p->fired + (int64_t)c * p->NW, p->NW, fired);
    for (int i = 0; i < n; i++)
        __builtin_prefetch(route + fired[i]);
}

/* Steps 1-3 for input 0 and the cores [c0, c1), in order, with the prefetches above. */
static void sweep_single(const ns_chip *p, int t, int c0, int c1, int shared)
{
    int slot = t & (NS_SLOTS - 1);
    int counts[LAG + 1];
    for (int c = c0; c < c1 + LAG; c++) {
        if (c < c1) {
            if (c + AHEAD_SET < c1) {
                __builtin_prefetch(flag_at(p, 0, slot, c + AHEAD_SET));
                prefetch_span(p->atype + (int64_t)(c + AHEAD_SET) * p->A, p->A);
            }
            if (c + AHEAD_ROWS < c1)
                prefetch_rows(p, slot, c + AHEAD_ROWS);
            if (c + AHEAD_WEIGHTS < c1)
                prefetch_weights(p, slot, c + AHEAD_WEIGHTS);
            uint32_t base = draw_base(p->seed[c], t);
            counts[c % (LAG + 1)] = update_core(p, slot, c, 0, base);
            if (counts[c % (LAG + 1)])
                prefetch_routes(p, c);
        }
        if (c - LAG >= c0)
            emit(p, t, 0, c - LAG, counts[(c - LAG) % (LAG + 1)], shared);
    }
}

/* ------------------------------------------------------------------ step 0 */

/* Step 0 for tick t and the destination cores [c0, c1): every input's spikes. */
static void external_inputs(const ns_chip *p, int t, int c0, int c1, int shared)
{
    int slot = t & (NS_SLOTS - 1);
    for (int b = 0; b < p->B; b++) {
        const uint8_t *row = p->raster + ((int64_t)t * p->B + b) * p->n_inputs;
        for (int m = 0; m < p->M; m++) {
            int c = p->in_core[m];
            if (c >= c0 && c < c1 && row[p->in_idx[m]])
                arrive(p, shared, b, slot, c, p->in_axon[m]);
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
        int shared = nth > 1;
        /* batches: items handed out 4 at a time (a core's input blocks together, its rows kept
         * in cache) when there are many; one at a time when there are few, so that a network
         * of a few unequal cores still shares its work evenly between the threads */
#ifdef _OPENMP
        int chunk = items >= 16 * nth ? 4 : 1;
#endif
        int c0 = (int)((int64_t)p->C * tid / nth), c1 = (int)((int64_t)p->C * (tid + 1) / nth);
        /* a tick reads and empties slot t of the arrival sets and adds to slots t + delay
         * (delays 1..15) and, for the external inputs, t + 1: never the slot being read, so one
         * barrier a tick suffices */
        external_inputs(p, 0, c0, c1, shared);
#ifdef _OPENMP
        #pragma omp barrier
#endif
        for (int t = 0; t < ticks; t++) {
            if (p->B == 1) {
                /* one input: each thread sweeps its own range of cores (prefetching ahead) */
                sweep_single(p, t, c0, c1, shared);
            } else {
#ifdef _OPENMP
                #pragma omp for schedule(dynamic, chunk) nowait
#endif
                for (int i = 0; i < items; i++) {
                    int c = i / blocks;
                    int b0 = (i - c * blocks) * p->block;
                    int b1 = b0 + p->block < p->B ? b0 + p->block : p->B;
                    step_item(p, t, c, b0, b1, shared);
                }
            }
            if (t + 1 < ticks)
                external_inputs(p, t + 1, c0, c1, shared);
#ifdef _OPENMP
            #pragma omp barrier
#endif
        }
    }
}
