# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The inner loops of the mission's rate evaluator (:mod:`neurosim.sim.delta`): the units of one
level whose drive changes, and their rate changes.

For the axons ``keys`` of a level whose arriving rate changed by Δρ (rows of a row store), every
unit u they feed gets

    ΔD_u = Σ_k W[k, u] Δρ_k                       (summed in key order)
    Δr_u = clip((D⁰_u + ΔD_u) / α_u, 0, 1) − clip(D⁰_u / α_u, 0, 1)

with Σ_B Δr_u, Σ_B r_u = Σ_B r⁰_u + Σ_B Δr_u, and Δr_u stored as a new row when some Δr_u ≠ 0.
Where ΔD = 0, D⁰ + ΔD = D⁰ exactly, so Δr = 0 exactly: a unit clipped at 0 (or 1) before and after passes
nothing on. The fault-free rate is the one :func:`neurosim.sim.unit_graph.rates` computes (the same
division and clip), so that r⁰ + Δr is exactly 0 where the new rate is 0 (outputs tied at 0 stay
tied). D⁰ may be float32 or float64; the arithmetic is float64.

Row store: ``vals`` (R, B) float64, ``cols`` (R, B) int32, ``nnz`` (R,): a row with nnz < 0 is
dense (vals[r, :B]); else its nnz nonzero values are packed in vals[r, :nnz] at the inputs
cols[r, :nnz]. Rows with at most B/:data:`SPARSE_DIVISOR` nonzeros are packed, so that reading
them costs their nonzeros, not B.

Two loop orders give the same sums to rounding. *Push* (for few units): every changed axon's row
added to each unit it feeds with that axon's own weight, in key order. *Pull* (for many units):
axons of a unit that carry the same row (copies of one neuron's rate on axons of several types,
whose weights add up to the connection's) are added once with their weights summed — W[k, u] +
W[k', u] of integers is exact, so only the rounding of the products changes. Either way each unit
is summed in one buffer of B that stays in cache, from its own list of (axon, weight), and a unit
whose changed axons are all packed rows with few nonzeros together is computed on the inputs those
rows touch only (its other inputs have ΔD = 0): in pull in the order the inputs are first touched,
in push in input order, so that push's results are the bits of the computation on every input (an
input skipped has Δr = +0). The fault-free rates clip(D⁰/α, 0, 1) are read from ``R0`` when the
caller keeps them (:attr:`neurosim.sim.unit_graph.UnitGraph.R0`, computed by numpy with the same
division and clip: the same bits) instead of divided again.
"""
import numpy as np
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libc.string cimport memcpy, memset
from libc.stdlib cimport calloc, free, malloc

cdef extern from *:
    int __builtin_ctzll(unsigned long long) nogil

# A row with nnz ≤ B / SPARSE_DIVISOR is stored packed (assumption: a packed entry costs about
# three dense ones to read — an index load and a scattered add).
SPARSE_DIVISOR = 3
cdef int64_t SPARSE_DIVISOR_C = SPARSE_DIVISOR
# Pairs of a unit searched for a key's row by group_targets (bounds its cost per pair when a
# unit has many changed axons; units have a few).
MERGE_SCAN = 16
cdef int64_t MERGE_SCAN_C = MERGE_SCAN
# Push when t·B·8 bytes (t units of B inputs) are at most this. The bound was the size of the
# (units, B) block that stayed in cache when push added each row to all its units at once; push
# now sums each unit in its own buffer, and the bound is kept so that the levels summed in push's
# order (the mission networks') give the same bits as before.
PUSH_BLOCK_BYTES = 4 * 2**20

ctypedef fused drive_t:
    float
    double


def group_targets(const int64_t[::1] indptr, const int32_t[::1] indices,
                  const float[::1] weights, const int64_t[::1] keys, const int64_t[::1] rows,
                  int64_t[::1] slot):
    """The units fed by the CSR rows ``keys`` of (indptr, indices, weights) and, per unit, its
    (index into ``keys``, weight) pairs in key order, one per store row ``rows`` of the keys:
    a key whose row an earlier key of the unit already carries adds its weight to that pair
    (looked for among the unit's first :data:`MERGE_SCAN` pairs; beyond, pairs are kept apart).
    Returns (units (t,), ptr (t+1,), src, w). ``slot`` (U,) is scratch, all −1 on entry and on
    return."""
    cdef Py_ssize_t m = keys.shape[0], i, s, t = 0
    cdef int64_t p, u, e, total = 0
    for i in range(m):
        total += indptr[keys[i] + 1] - indptr[keys[i]]
    units_a = np.empty(total, np.int64)
    ptr_a = np.zeros(total + 1, np.int64)
    src_a = np.empty(total, np.int64)
    w_a = np.empty(total, np.float64)
    cdef int64_t[::1] units = units_a, ptr = ptr_a, src = src_a
    cdef double[::1] w = w_a
    for i in range(m):
        for p in range(indptr[keys[i]], indptr[keys[i] + 1]):
            u = indices[p]
            if slot[u] < 0:
                slot[u] = t
                units[t] = u
                t += 1
            ptr[slot[u] + 1] += 1
    for s in range(t):
        ptr[s + 1] += ptr[s]
    cur_a = ptr_a[:t].copy()
    cdef int64_t[::1] cur = cur_a
    cdef int64_t scan_end, start, n = 0
    for i in range(m):
        for p in range(indptr[keys[i]], indptr[keys[i] + 1]):
            s = slot[indices[p]]
            e = ptr[s]
            scan_end = min(cur[s], ptr[s] + MERGE_SCAN_C)
            while e < scan_end and rows[src[e]] != rows[i]:
                e += 1
            if e < scan_end:                   # the unit's pair of this row: weights summed
                w[e] += weights[p]
                continue
            e = cur[s]
            src[e] = i
            w[e] = weights[p]
            cur[s] = e + 1
    for s in range(t):                         # merged pairs left gaps: close them
        start = ptr[s]
        ptr[s] = n
        for e in range(start, cur[s]):
            src[n] = src[e]
            w[n] = w[e]
            n += 1
        slot[units[s]] = -1
    ptr[t] = n
    return units_a[:t], ptr_a[:t + 1], src_a[:n], w_a[:n]


def pass_on(const int64_t[::1] units, const int64_t[::1] unit_rows, const double[::1] dsum,
            const double[::1] rsum, const int64_t[::1] unit_nptr,
            const int64_t[::1] unit_neurons, const int64_t[::1] dest_of,
            const uint8_t[::1] special, int64_t[::1] unit_row):
    """After :func:`apply_level`: every unit j whose Δr was stored (unit_rows[j] ≥ 0) gets
    unit_row[units[j]] = that row; returns (neurons, Σ_B Δr) of all its neurons (units in order,
    each unit's neurons in the order of the CSR unit_nptr / unit_neurons) and (axon keys, store
    rows, Σ_B r) of the regular ones among them (not ``special``, feeding an axon: dest_of ≥ 0),
    which pass Δr on."""
    cdef Py_ssize_t t = units.shape[0], j, m = 0, e = 0, total = 0
    cdef int64_t u, p, n
    for j in range(t):
        if unit_rows[j] >= 0:
            total += unit_nptr[units[j] + 1] - unit_nptr[units[j]]
    neurons_a = np.empty(total, np.int64)
    nsum_a = np.empty(total, np.float64)
    keys_a = np.empty(total, np.int64)
    rows_a = np.empty(total, np.int64)
    ksum_a = np.empty(total, np.float64)
    cdef int64_t[::1] neurons = neurons_a, keys = keys_a, rows = rows_a
    cdef double[::1] nsum = nsum_a, ksum = ksum_a
    for j in range(t):
        if unit_rows[j] < 0:
            continue
        u = units[j]
        unit_row[u] = unit_rows[j]
        for p in range(unit_nptr[u], unit_nptr[u + 1]):
            n = unit_neurons[p]
            neurons[m] = n
            nsum[m] = dsum[j]
            m += 1
            if dest_of[n] >= 0 and not special[n]:
                keys[e] = dest_of[n]
                rows[e] = unit_rows[j]
                ksum[e] = rsum[j]
                e += 1
    return neurons_a, nsum_a, keys_a[:e], rows_a[:e], ksum_a[:e]


def add_rows_in_order(const int64_t[::1] owner, const double[:, ::1] terms, double[:, ::1] out):
    """out[owner[k]] += terms[k] for k = 0, 1, … in order (``np.add.at``'s result, without its
    cost per row): additions only, so each sum is the sequence of roundings of the products
    ``terms`` as given."""
    cdef Py_ssize_t k, b, B = terms.shape[1]
    cdef double *o
    cdef const double *x
    with nogil:
        for k in range(owner.shape[0]):
            o = &out[owner[k], 0]
            x = &terms[k, 0]
            for b in range(B):
                o[b] += x[b]


cdef inline double clip01(double x) noexcept nogil:
    """min(max(x, 0), 1) (numpy.clip's order)."""
    return 1.0 if x > 1.0 else (0.0 if x < 0.0 else x)


cdef inline void add_row(double *buf, double wt, const double *vals, const int32_t *cols,
                         int64_t nnz, Py_ssize_t B) noexcept nogil:
    """buf += wt · (store row: dense when nnz < 0, else packed)."""
    cdef Py_ssize_t b
    if nnz < 0:
        for b in range(B):
            buf[b] += wt * vals[b]
    else:
        for b in range(nnz):
            buf[cols[b]] += wt * vals[b]


cdef struct Finish:
    double *vals          # store (R, B)
    int32_t *cols
    int64_t *nnz
    Py_ssize_t B
    Py_ssize_t next_row   # next free store row
    double *dr            # scratch (B,)


cdef inline int64_t finish(Finish *f, const double *buf, const drive_t *d0row,
                           const double *r0row, double alpha, double s0, double *dsum,
                           double *rsum) noexcept nogil:
    """Δr of one unit from its ΔD ``buf`` (module docstring): the store row it was written to
    (−1: no Δr ≠ 0, nothing written), Σ Δr and Σ r = Σ r⁰ (``s0``) + Σ Δr."""
    cdef Py_ssize_t B = f.B, b, B4 = B - B % 4
    cdef double d0, s_0 = 0.0, s_1 = 0.0, s_2 = 0.0, s_3 = 0.0
    cdef double *dr = f.dr
    cdef int64_t nz = 0, row
    cdef double *v
    cdef int32_t *c
    if r0row != NULL:
        for b in range(B):
            dr[b] = clip01((d0row[b] + buf[b]) / alpha) - r0row[b]
    else:
        for b in range(B):
            d0 = d0row[b]
            dr[b] = clip01((d0 + buf[b]) / alpha) - clip01(d0 / alpha)
    for b in range(B):
        nz += dr[b] != 0.0
    if nz == 0:
        dsum[0] = 0.0
        rsum[0] = s0
        return -1
    for b in range(0, B4, 4):                  # four chains: a quarter of the add latency
        s_0 += dr[b]
        s_1 += dr[b + 1]
        s_2 += dr[b + 2]
        s_3 += dr[b + 3]
    for b in range(B4, B):
        s_0 += dr[b]
    dsum[0] = (s_0 + s_1) + (s_2 + s_3)
    rsum[0] = s0 + dsum[0]
    row = f.next_row
    f.next_row += 1
    v = f.vals + row * B
    if nz * SPARSE_DIVISOR_C > B:
        memcpy(v, dr, B * sizeof(double))
        f.nnz[row] = -1
        return row
    f.nnz[row] = pack(dr, B, v, f.cols + row * B)
    return row


cdef inline int64_t pack(const double *dr, Py_ssize_t B, double *v, int32_t *c) noexcept nogil:
    """The nonzeros of ``dr`` (B,) into v[:n] at the inputs c[:n], in input order; returns n.
    Per 64 inputs, a bit mask of the nonzeros is built and its set bits are visited (the cost
    is B mask steps plus one per nonzero, without a store depending on the previous count)."""
    cdef Py_ssize_t b0, i, end, n = 0
    cdef uint64_t m
    for b0 in range(0, B, 64):
        m = 0
        end = min(64, B - b0)
        for i in range(end):
            m |= (<uint64_t> (dr[b0 + i] != 0.0)) << i
        while m:
            i = __builtin_ctzll(m)
            v[n] = dr[b0 + i]
            c[n] = <int32_t> (b0 + i)
            n += 1
            m &= m - 1
    return n



cdef inline int64_t keep_row(Finish *f, int64_t row, int64_t nz) noexcept nogil:
    """Keep store row ``row``, whose ``nz`` nonzeros were written packed (values, inputs): as
    written, or unpacked to a dense row when more than B/SPARSE_DIVISOR_C are nonzero. Returns
    the row."""
    cdef Py_ssize_t B = f.B, k
    cdef double *v = f.vals + row * B
    cdef int32_t *c = f.cols + row * B
    f.next_row += 1
    if nz * SPARSE_DIVISOR_C > B:              # too full to pack: stored dense
        memset(f.dr, 0, B * sizeof(double))
        for k in range(nz):
            f.dr[c[k]] = v[k]
        memcpy(v, f.dr, B * sizeof(double))
        nz = -1
    f.nnz[row] = nz
    return row


cdef inline int64_t finish_live(Finish *f, double *buf, uint8_t *mark, const int32_t *live,
                                Py_ssize_t n_live, const drive_t *d0row, const double *r0row,
                                double alpha, double s0, double *dsum,
                                double *rsum) noexcept nogil:
    """:func:`finish` when ΔD is nonzero on the inputs ``live`` only (the others have Δr = 0
    exactly): the work is on those inputs; Σ r = Σ r⁰ (``s0``) + Σ Δr. Clears buf and mark
    there."""
    cdef Py_ssize_t B = f.B, i
    cdef int32_t b
    cdef double d0, dr, ds = 0.0
    cdef int64_t nz = 0, row = f.next_row
    cdef double *v = f.vals + row * B
    cdef int32_t *c = f.cols + row * B
    for i in range(n_live):
        b = live[i]
        d0 = d0row[b]
        dr = clip01((d0 + buf[b]) / alpha) - (r0row[b] if r0row != NULL else clip01(d0 / alpha))
        v[nz] = dr
        c[nz] = b
        nz += dr != 0.0
        ds += dr
        buf[b] = 0.0
        mark[b] = 0
    dsum[0] = ds
    rsum[0] = s0 + ds
    if nz == 0:
        return -1
    return keep_row(f, row, nz)


cdef inline int64_t finish_sorted(Finish *f, double *buf, uint64_t *bits,
                                  const drive_t *d0row, const double *r0row, double alpha,
                                  double s0, double *dsum, double *rsum) noexcept nogil:
    """:func:`finish` when ΔD is nonzero on the inputs set in the bit mask ``bits`` only
    (bits and buf cleared there): those inputs are visited in order, so Δr, its four partial
    sums and the row written are :func:`finish`'s bit for bit (an input skipped has Δr = +0,
    which leaves a sum unchanged)."""
    cdef Py_ssize_t B = f.B, B4 = B - B % 4, wd, b
    cdef double d0, dr
    cdef double s[4]
    cdef int64_t nz = 0, row = f.next_row
    cdef double *v = f.vals + row * B
    cdef int32_t *c = f.cols + row * B
    cdef uint64_t m
    s[0] = s[1] = s[2] = s[3] = 0.0
    for wd in range((B + 63) // 64):
        m = bits[wd]
        bits[wd] = 0
        while m:
            b = wd * 64 + __builtin_ctzll(m)
            m &= m - 1
            d0 = d0row[b]
            dr = clip01((d0 + buf[b]) / alpha) - (r0row[b] if r0row != NULL else
                                                  clip01(d0 / alpha))
            buf[b] = 0.0
            s[b & 3 if b < B4 else 0] += dr
            v[nz] = dr
            c[nz] = <int32_t> b
            nz += dr != 0.0
    if nz == 0:
        dsum[0] = 0.0
        rsum[0] = s0
        return -1
    dsum[0] = (s[0] + s[1]) + (s[2] + s[3])
    rsum[0] = s0 + dsum[0]
    return keep_row(f, row, nz)


cdef inline void add_packed_bits(double *buf, uint64_t *bits, double wt, const double *vals,
                                 const int32_t *cols, int64_t nnz) noexcept nogil:
    """buf += wt · (packed row), its inputs set in the bit mask ``bits`` (the additions of
    :func:`add_row`)."""
    cdef Py_ssize_t k
    cdef int32_t b
    for k in range(nnz):
        b = cols[k]
        bits[b >> 6] |= (<uint64_t> 1) << (b & 63)
        buf[b] += wt * vals[k]


cdef inline Py_ssize_t add_packed(double *buf, uint8_t *mark, int32_t *live, Py_ssize_t n_live,
                                  double wt, const double *vals, const int32_t *cols,
                                  int64_t nnz) noexcept nogil:
    """buf += wt · (packed row), the inputs first touched appended to ``live``."""
    cdef Py_ssize_t k
    cdef int32_t b
    for k in range(nnz):
        b = cols[k]
        if not mark[b]:
            mark[b] = 1
            live[n_live] = b
            n_live += 1
        buf[b] += wt * vals[k]
    return n_live


def apply_level(const int64_t[::1] units, const int64_t[::1] ptr, const int64_t[::1] src,
                const double[::1] w, const int64_t[::1] keys, const int64_t[::1] rows,
                const int64_t[::1] indptr, const int32_t[::1] indices,
                const float[::1] weights, int64_t[::1] slot,
                double[:, ::1] vals, int32_t[:, ::1] cols, int64_t[::1] nnz,
                Py_ssize_t first, const drive_t[:, ::1] D0, const double[::1] alpha,
                const double[::1] sums0, const int64_t[::1] want_row, double[:, ::1] wanted,
                int64_t[::1] unit_rows, double[::1] dsum, double[::1] rsum,
                const double[:, ::1] R0=None):
    """Δr of every unit j of ``units`` (:func:`group_targets` of ``keys``, whose Δρ are the
    store ``rows``): rows written from store row ``first`` on, unit_rows[j] = its row (−1 when
    Δr = 0), dsum[j], rsum[j]; ΔD itself into wanted[want_row[u]] when want_row[u] ≥ 0.
    Push or pull (module docstring): push sums each unit from its own list of (key, weight) in
    key order, pull from its pairs (``ptr``, ``src``, ``w``). A unit whose changed axons are all
    packed rows with at most B/2 (pull) or B/SPARSE_DIVISOR (push) nonzeros together is computed
    on those inputs only (``sums0``: Σ_B r⁰ per unit; ``R0``: the fault-free rates (U, B) or
    None). Returns the next free store row."""
    cdef Py_ssize_t t = units.shape[0], B = vals.shape[1], j, i
    cdef int64_t u, e, p, r, packed, k, e0, e1
    cdef Py_ssize_t n_live
    cdef bint dirty = False, sparse
    cdef Finish f
    cdef bint push = t * B * 8 <= PUSH_BLOCK_BYTES
    cdef int64_t total = 0
    if push:
        for i in range(keys.shape[0]):
            total += indptr[keys[i] + 1] - indptr[keys[i]]
    # push: each unit's (key index, weight) list kptr / kkey / kw, in key order
    cdef int64_t *kptr = <int64_t *> calloc(t + 1, sizeof(int64_t))
    cdef int64_t *kkey = <int64_t *> malloc(max(total, 1) * sizeof(int64_t))
    cdef double *kw = <double *> malloc(max(total, 1) * sizeof(double))
    cdef double *buf = <double *> calloc(max(B, 1), sizeof(double))
    cdef double *scratch = <double *> malloc(max(B, 1) * sizeof(double))
    cdef uint8_t *mark = <uint8_t *> calloc(max(B, 1), 1)
    cdef int32_t *live = <int32_t *> malloc(max(B, 1) * sizeof(int32_t))
    cdef uint64_t *bits = <uint64_t *> calloc(max((B + 63) // 64, 1), sizeof(uint64_t))
    cdef bint have_r0 = R0 is not None
    cdef const double *r0row = NULL
    try:
        if (kptr == NULL or kkey == NULL or kw == NULL or buf == NULL or scratch == NULL
                or mark == NULL or live == NULL or bits == NULL):
            raise MemoryError()
        f.vals, f.cols, f.nnz, f.B = &vals[0, 0], &cols[0, 0], &nnz[0], B
        f.next_row, f.dr = first, scratch
        with nogil:
            if push:
                for j in range(t):
                    slot[units[j]] = j
                for i in range(keys.shape[0]):
                    for p in range(indptr[keys[i]], indptr[keys[i] + 1]):
                        kptr[slot[indices[p]] + 1] += 1
                for j in range(t):
                    kptr[j + 1] += kptr[j]
                for i in range(keys.shape[0]):
                    for p in range(indptr[keys[i]], indptr[keys[i] + 1]):
                        j = slot[indices[p]]
                        k = kptr[j]
                        kkey[k] = i
                        kw[k] = weights[p]
                        kptr[j] = k + 1
                for j in range(t - 1, 0, -1):      # back to the starts
                    kptr[j] = kptr[j - 1]
                kptr[0] = 0
                for j in range(t):
                    slot[units[j]] = -1
            for j in range(t):
                u = units[j]
                if have_r0:
                    r0row = &R0[u, 0]
                packed = 0
                for e in range(ptr[j], ptr[j + 1]):
                    r = rows[src[e]]
                    packed = packed + nnz[r] if nnz[r] >= 0 and packed >= 0 else -1
                if push:
                    e0, e1 = kptr[j], kptr[j + 1]
                    sparse = 0 <= packed * SPARSE_DIVISOR_C <= B
                else:
                    e0, e1 = ptr[j], ptr[j + 1]
                    sparse = 0 <= 2 * packed <= B
                if sparse and dirty:               # the dense path leaves buf as it used it
                    memset(buf, 0, B * sizeof(double))
                    dirty = False
                if sparse and push:
                    for e in range(e0, e1):
                        r = rows[kkey[e]]
                        add_packed_bits(buf, bits, kw[e], &vals[r, 0], &cols[r, 0], nnz[r])
                    if want_row[u] >= 0:
                        memcpy(&wanted[want_row[u], 0], buf, B * sizeof(double))
                    unit_rows[j] = finish_sorted(&f, buf, bits, &D0[u, 0], r0row, alpha[u],
                                                 sums0[u], &dsum[j], &rsum[j])
                    continue
                if sparse:
                    n_live = 0
                    for e in range(e0, e1):
                        r = rows[src[e]]
                        n_live = add_packed(buf, mark, live, n_live, w[e], &vals[r, 0],
                                            &cols[r, 0], nnz[r])
                    if want_row[u] >= 0:
                        memcpy(&wanted[want_row[u], 0], buf, B * sizeof(double))
                    unit_rows[j] = finish_live(&f, buf, mark, live, n_live, &D0[u, 0], r0row,
                                               alpha[u], sums0[u], &dsum[j], &rsum[j])
                    continue
                memset(buf, 0, B * sizeof(double))
                dirty = True
                for e in range(e0, e1):
                    if push:
                        r = rows[kkey[e]]
                        add_row(buf, kw[e], &vals[r, 0], &cols[r, 0], nnz[r], B)
                    else:
                        r = rows[src[e]]
                        add_row(buf, w[e], &vals[r, 0], &cols[r, 0], nnz[r], B)
                if want_row[u] >= 0:
                    memcpy(&wanted[want_row[u], 0], buf, B * sizeof(double))
                unit_rows[j] = finish(&f, buf, &D0[u, 0], r0row, alpha[u], sums0[u], &dsum[j],
                                      &rsum[j])
    finally:
        free(kptr)
        free(kkey)
        free(kw)
        free(buf)
        free(scratch)
        free(mark)
        free(live)
        free(bits)
    return f.next_row
