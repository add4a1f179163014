"""The compiled per-level loop of the mission's rate evaluator (cext/delta.pyx) against numpy:
ΔD = Wᵀ Δρ and Δr = clip((D⁰ + ΔD)/α) − clip(D⁰/α) on random levels, in both loop orders, from
dense and packed rows, with float32 and float64 drives; and the whole evaluator against
simulate(mode="rate") with every path forced."""
import numpy as np
import pytest
from scipy import sparse

import neurosim._delta as kernel
from neurosim.sim.delta import RowStore


def random_level(rng, B, n_keys=12, n_units=30, density=0.3, zero_cols=0.0):
    """(W CSR float32 over keys × units, keys, Δρ (n_keys, B), D⁰ (n_units, B), α)."""
    W = sparse.random(n_keys, n_units, density=density, random_state=rng,
                      data_rvs=lambda k: rng.integers(-255, 256, k).astype(np.float32),
                      format="csr", dtype=np.float32)
    drho = rng.normal(size=(n_keys, B)) * (rng.random((n_keys, B)) > zero_cols)
    D0 = rng.normal(scale=200.0, size=(n_units, B))
    alpha = rng.integers(1, 400, n_units).astype(np.float64)
    return W, np.arange(n_keys, dtype=np.int64), drho, D0, alpha


def run_kernel(W, keys, drho, D0, alpha, pack, want=(), row_of=None, r0=False):
    """(units, Δr rows (t, B) dense, dsum, rsum, wanted ΔD) from apply_level, Δρ stored
    packed (``pack``) or dense; key k carries stored row ``row_of[k]`` (default: its own);
    ``r0``: the fault-free rates clip(D⁰/α, 0, 1) passed in (else recomputed by the loop)."""
    B = drho.shape[1]
    U = D0.shape[0]
    store = RowStore(B, rows=2)
    rows = []
    for row in drho:
        i = store.add(row)
        nz = np.flatnonzero(row)
        if pack:
            store.vals[i, :nz.size], store.cols[i, :nz.size], store.nnz[i] = row[nz], nz, nz.size
        rows.append(i)
    rows = np.array(rows, np.int64)[np.arange(len(keys)) if row_of is None else row_of]
    slot = np.full(U, -1, np.int64)
    indptr, indices = W.indptr.astype(np.int64), W.indices.astype(np.int32)
    units, ptr, src, w = kernel.group_targets(indptr, indices, W.data, keys, rows, slot)
    assert np.all(slot == -1)
    t = units.size
    first = store.reserve(t)
    want_row = np.full(U, -1, np.int64)
    want_row[list(want)] = np.arange(len(want))
    wanted = np.zeros((len(want), B))
    unit_rows, dsum, rsum = np.empty(t, np.int64), np.empty(t), np.empty(t)
    sums0 = np.clip(D0.astype(np.float64) / alpha[:, None], 0, 1).sum(axis=1)
    store.used = kernel.apply_level(units, ptr, src, w, keys, rows, indptr,
                                    indices, W.data, slot, store.vals, store.cols, store.nnz,
                                    first, D0, alpha, sums0, want_row, wanted, unit_rows, dsum,
                                    rsum, np.clip(D0 / alpha[:, None], 0, 1) if r0 else None)
    dr = np.array([store.row(r) if r >= 0 else np.zeros(B) for r in unit_rows])
    return units, dr, dsum, rsum, wanted


def expected(W, drho, D0, alpha, units):
    """numpy: ΔD and Δr of ``units``."""
    dd = (W.toarray().astype(np.float64).T @ drho)[units]
    d0 = D0[units].astype(np.float64)
    a = alpha[units, None]
    return dd, np.clip((d0 + dd) / a, 0, 1) - np.clip(d0 / a, 0, 1)


@pytest.mark.parametrize("push", [True, False])
@pytest.mark.parametrize("pack", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("zero_cols", [0.0, 0.9])
def test_level_loop_equals_numpy(monkeypatch, push, pack, dtype, zero_cols):
    # zero_cols 0.9: Δρ rows mostly zero, so packed rows take the pull loop's sparse path
    monkeypatch.setattr(kernel, "PUSH_BLOCK_BYTES", 2**30 if push else 0)
    rng = np.random.default_rng(7)
    W, keys, drho, D0, alpha = random_level(rng, B=37, zero_cols=zero_cols)
    D0 = D0.astype(dtype)
    units, dr, dsum, rsum, wanted = run_kernel(W, keys, drho, D0, alpha, pack, want=[3, 5])
    assert sorted(units.tolist()) == sorted(set(W.indices.tolist()))
    dd, dr_ref = expected(W, drho, D0, alpha, units)
    np.testing.assert_allclose(dr, dr_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dsum, dr_ref.sum(axis=1), rtol=0, atol=1e-10)
    r_new = np.clip((D0[units].astype(np.float64) + dd) / alpha[units, None], 0, 1)
    np.testing.assert_allclose(rsum, r_new.sum(axis=1), rtol=0, atol=1e-10)
    for k, u in enumerate([3, 5]):
        if u in units:
            np.testing.assert_allclose(wanted[k], dd[units.tolist().index(u)], atol=1e-9)
    assert np.any(dr != 0)


@pytest.mark.parametrize("push", [True, False])
@pytest.mark.parametrize("pack", [True, False])
def test_keys_carrying_one_row_equal_numpy(monkeypatch, push, pack):
    # several axons carry the same Δρ row (copies of one neuron on axons of several types):
    # pull adds the row once per unit with the weights summed, push once per axon; both equal
    # ΔD = Σ_k W[k, u] Δρ_row(k) within 1e-12, and group_targets keeps one pair per
    # (unit, row)
    monkeypatch.setattr(kernel, "PUSH_BLOCK_BYTES", 2**30 if push else 0)
    rng = np.random.default_rng(4)
    W, keys, drho, D0, alpha = random_level(rng, B=29, n_keys=20, density=0.5,
                                            zero_cols=0.8 if pack else 0.0)
    row_of = rng.integers(0, 6, keys.size)
    units, dr, dsum, _, _ = run_kernel(W, keys, drho, D0, alpha, pack, row_of=row_of)
    dd, dr_ref = expected(W, drho[row_of], D0, alpha, units)
    np.testing.assert_allclose(dr, dr_ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dsum, dr_ref.sum(axis=1), rtol=0, atol=1e-10)
    assert np.any(dr != 0)
    slot = np.full(D0.shape[0], -1, np.int64)
    units, ptr, src, w = kernel.group_targets(W.indptr.astype(np.int64),
                                              W.indices.astype(np.int32), W.data, keys,
                                              row_of.astype(np.int64), slot)
    Wd = W.toarray().astype(np.float64)
    for j, u in enumerate(units.tolist()):
        got = {int(row_of[src[e]]): w[e] for e in range(ptr[j], ptr[j + 1])}
        want = {}
        for k in np.flatnonzero(Wd[:, u]):
            want[int(row_of[k])] = want.get(int(row_of[k]), 0.0) + Wd[k, u]
        assert got == want


@pytest.mark.parametrize("push", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shared", [False, True])
def test_cached_rates_and_sparse_units_give_the_same_bits(monkeypatch, push, dtype, shared):
    # the fault-free rates passed in (R0) are the ones the loop would compute, and in push a
    # unit fed by packed rows only (computed on their inputs from its own list of keys, in key
    # order) gets the bits of the same rows stored dense (added to its block row key by key):
    # Δr, Σ Δr and Σ r identical, also where several keys carry one row (``shared``)
    monkeypatch.setattr(kernel, "PUSH_BLOCK_BYTES", 2**30 if push else 0)
    rng = np.random.default_rng(11)
    W, keys, drho, D0, alpha = random_level(rng, B=203, n_keys=30, n_units=60,
                                            density=0.3 if shared else 0.1, zero_cols=0.97)
    D0 = D0.astype(dtype)
    row_of = rng.integers(0, 8, keys.size) if shared else np.arange(keys.size)
    # (reference rows packed?, [(rows packed?, R0 passed?) that must give its bits])
    cases = [(False, [(True, False), (True, True), (False, True)])] if push else \
        [(True, [(True, True)]), (False, [(False, True)])]
    for ref_pack, variants in cases:
        ref = run_kernel(W, keys, drho, D0, alpha, pack=ref_pack, row_of=row_of)
        for pack, r0 in variants:
            got = run_kernel(W, keys, drho, D0, alpha, pack=pack, r0=r0, row_of=row_of)
            for a, b in zip(ref, got):
                assert np.array_equal(a, b)
    nnz = (drho[row_of] != 0).sum(axis=1)
    per_unit = np.abs(W.toarray()).T.astype(bool) @ nnz     # (≥ its rows' nonzeros)
    assert np.any((per_unit > 0) & (3 * per_unit <= 203))   # some units take the sparse path
    assert np.any(ref[1] != 0)


def test_unchanged_drive_gives_exactly_zero_change():
    # Where ΔD = 0 the rate change is exactly 0, and a unit clipped at 0 before and after
    # stores no row.
    rng = np.random.default_rng(1)
    W, keys, drho, D0, alpha = random_level(rng, B=16)
    drho[:, :8] = 0.0
    D0[0] = -1e6                       # unit 0 stays clipped at 0 whatever arrives
    units, dr, _, _, _ = run_kernel(W, keys, drho, D0, alpha, pack=False)
    assert np.all(dr[:, :8] == 0.0)
    if 0 in units:
        assert np.all(dr[units.tolist().index(0)] == 0.0)


def test_rows_added_in_order_equal_numpy_add_at():
    # out[owner[k]] += terms[k] in order: np.add.at's bits (each sum from its first term on)
    rng = np.random.default_rng(3)
    terms = rng.normal(size=(40, 23)) * 10.0 ** rng.integers(-8, 8, (40, 1))
    owner = np.sort(rng.integers(0, 7, 40))
    want = np.zeros((7, 23))
    np.add.at(want, owner, terms)
    got = np.zeros((7, 23))
    kernel.add_rows_in_order(owner.astype(np.int64), terms, got)
    assert np.array_equal(got, want)
    shuffled = np.zeros((7, 23))                       # another order: other roundings
    kernel.add_rows_in_order(owner[::-1].astype(np.int64), terms[::-1].copy(), shuffled)
    assert not np.array_equal(shuffled, want)
