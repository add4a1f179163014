"""The compact structure of a feed-forward ChipProgram that the mission's rate evaluator works on,
and the fault-free drives it starts from.

* **Neurons** are numbered 0..Nu−1 over the enabled (used) neurons, core by core.
* **Units.** Neurons of one core whose columns W[:, j], leaks λ_j and thresholds α_j are identical
  (the compiler's fan-out copies) always have identical rates r_j = clip(D_j / α_j, 0, 1): they
  form one *unit*, whose drive D_u = Σ_a ρ_a W[a, u] + λ_u is computed once. W is kept as one
  sparse matrix over axon keys c·A + a × units (``axon_units``). Units are numbered
  level by level, core by core, so the units of a core are one contiguous range.
* **Levels.** A core's level is one more than the deepest core feeding it (0: fed by inputs only).
* **Axons.** Each used axon (c, a) has exactly one source: an input m (ρ_a = x_m) or a used neuron
  n (ρ_a = r_n); programs where several sources add on one axon, or where the routes form a cycle,
  are refused (:class:`Unsupported`; the caller falls back to the generic rate simulator).

The fault-free drives D⁰ (U, B) are computed once, core by core in level order (unit-major: the
drives of a few units are a few contiguous rows). They are kept in
float64, or in float32 when B·U·8 bytes exceed :data:`FLOAT64_DRIVE_BYTES`: the weights and leaks
are integers, so D is exact up to the rounding of its storage (relative 2⁻²⁴ in float32: rate
errors ≤ |D|/α · 6·10⁻⁸, below 10⁻⁶ for the compiled networks, where |D|/α ≲ 10).
"""
import numpy as np
from scipy import sparse

from neurosim.sim.rate import core_order

# Drives above this size are stored in float32 (an assumption about the memory of a 2-core,
# 24 GiB machine running two workers next to other jobs: 0.25 GiB of drives per worker in float64,
# e.g. 500 inputs × 67,000 units).
FLOAT64_DRIVE_BYTES = 256 * 2**20
# Fault-free rates are kept too (float64, saving a clip per lookup) up to this size (assumption,
# as above).
RATE_CACHE_BYTES = 128 * 2**20
# The fault-free rates arriving on every axon are kept too (C·A × B float64) up to this size:
# small programs look them up instead of assembling them (assumption, as above).
AXON_RATE_CACHE_BYTES = 32 * 2**20
# Units whose drives are reduced together when the fault-free sums are taken (bounds the float64
# temporary to B × this many columns).
SUM_CHUNK = 4096

class Unsupported(Exception):
    """The program is not one the unit graph handles (cycle, several sources on one axon, an
    output on an unused neuron)."""


class UnitGraph:
    """Neurons, units, levels, axon sources and per-core unit weights of ``program``; the
    fault-free drives D⁰ (U, B) of ``X`` (B, n_inputs)."""

    def __init__(self, program, X, dtype=None):
        self.program = program
        self.X = X
        self.XT = np.ascontiguousarray(X.T)
        self.B = X.shape[0]
        self._neurons(program)
        self._sources(program)
        self._levels(program)
        self._units(program)
        U = self.u_core.size
        if dtype is None:
            dtype = np.float64 if self.B * U * 8 <= FLOAT64_DRIVE_BYTES else np.float32
        self.dtype = np.dtype(dtype)
        self.R0 = self.RA0 = None
        # per axon key c·A + a: the input (−1: none) and the unit (−1: none) feeding it
        self.key_input = self.src_in.ravel()
        self.key_unit = np.where(self.src_n >= 0, self.unit_of[self.src_n], -1).ravel()
        self.D0 = self._base_drives()
        if self.B * U * 8 <= RATE_CACHE_BYTES:
            self.R0 = rates(self.D0, self.u_alpha)
        if self.C * self.A * self.B * 8 <= AXON_RATE_CACHE_BYTES:
            self.RA0 = self.base_key_rates(np.arange(self.C * self.A))
        self.unit_sums0 = self.base_unit_sums()                  # Σ_B r⁰ per unit
        W = self.axon_units          # its CSR arrays, in the types of neurosim._delta
        self.w_indptr = W.indptr.astype(np.int64)
        self.w_indices = W.indices.astype(np.int32, copy=False)
        self.w_data = W.data.astype(np.float32, copy=False)
        # scratch of neurosim.sim.delta.Propagation (all −1 / False between evaluations)
        self.special_mask = np.zeros(self.n_core.size, bool)
        self.unit_slot = np.full(U, -1, np.int64)
        self.unit_row = np.full(U, -1, np.int64)
        self.want_row = np.full(U, -1, np.int64)

    # ------------------------------------------------------------------ structure
    def _neurons(self, p):
        C, A, N = p.crossbar.shape
        self.C, self.A = C, A
        nc, nj = np.nonzero(p.enabled)
        self.n_core, self.n_slot = nc, nj
        self.nid = np.full((C, N), -1, np.int64)
        self.nid[nc, nj] = np.arange(nc.size)
        self.core_nptr = np.searchsorted(nc, np.arange(C + 1))   # neurons of core c: a range

    def _sources(self, p):
        """src_in (C, A): input feeding each axon (−1 none); src_n: neuron feeding it; dest_of
        (Nu,): the axon key c·A + a each neuron feeds (−1: none)."""
        C, A = self.C, self.A
        src_in = np.full((C, A), -1, np.int64)
        src_n = np.full((C, A), -1, np.int64)
        key = p.input_core.astype(np.int64) * A + p.input_axon
        if np.unique(key).size != key.size:
            raise Unsupported()
        src_in[p.input_core, p.input_axon] = p.input_index
        rc, rj = np.nonzero(p.enabled & (p.dest_core >= 0))
        dc, da = p.dest_core[rc, rj], p.dest_axon[rc, rj]
        k2 = dc.astype(np.int64) * A + da
        if np.unique(k2).size != k2.size or np.any(src_in[dc, da] >= 0):
            raise Unsupported()
        src_n[dc, da] = self.nid[rc, rj]
        self.src_in, self.src_n = src_in, src_n
        self.dest_of = np.full(self.n_core.size, -1, np.int64)
        self.dest_of[self.nid[rc, rj]] = k2

    def _levels(self, p):
        try:
            order = core_order(p)
        except Exception:
            raise Unsupported() from None
        level = np.zeros(self.C, np.int64)
        for c in order:
            feeders = self.src_n[c][self.src_n[c] >= 0]
            if feeders.size:
                level[c] = 1 + level[self.n_core[feeders]].max()
        self.core_level = level
        self.n_level = int(level.max()) + 1 if self.C else 0
        self.neuron_level = level[self.n_core]
        # cores in level order (then by index): the order drives are computed in
        self.core_sequence = np.lexsort((np.arange(self.C), level))

    def _units(self, p):
        """Units per core (module docstring), their leak, threshold, level and weights
        (``axon_units``); unit → neurons as CSR (unit_nptr, unit_neurons)."""
        unit_of = np.full(self.n_core.size, -1, np.int64)
        u_core, u_leak, u_alpha = [], [], []
        self.core_units = np.zeros((self.C, 2), np.int64)
        rows = [None] * self.C          # per core: (nonzeros per axon, unit, weight)
        n_units = 0
        for c in self.core_sequence:
            js = self.n_slot[self.core_nptr[c]:self.core_nptr[c + 1]]
            self.core_units[c] = n_units
            if js.size == 0:
                continue
            w = p.effective_weights(c)
            sig = np.concatenate([w[:, js].T, p.leak[c, js, None], p.threshold[c, js, None]],
                                 axis=1)
            _, first, inv = np.unique(sig, axis=0, return_index=True, return_inverse=True)
            unit_of[self.nid[c, js]] = n_units + inv.ravel()
            rep = js[first]
            a, j = np.nonzero(w[:, rep])
            rows[c] = (np.bincount(a, minlength=self.A), n_units + j, w[:, rep][a, j])
            u_core.append(np.full(rep.size, c)), u_leak.append(p.leak[c, rep])
            u_alpha.append(p.threshold[c, rep])
            n_units += rep.size
            self.core_units[c, 1] = n_units
        cat = lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt)
        self.axon_units = _axon_unit_matrix(rows, self.A, n_units)
        self.unit_of = unit_of
        self.u_core = cat(u_core, np.int64)
        self.u_leak = cat(u_leak, np.float64)
        self.u_alpha = cat(u_alpha, np.float64)
        self.u_level = self.core_level[self.u_core]
        order = np.argsort(unit_of, kind="stable")
        self.unit_neurons = order
        self.unit_nptr = np.searchsorted(unit_of[order], np.arange(n_units + 1))
        out_n = self.nid[p.output_core, p.output_neuron]
        if np.any(out_n < 0):
            raise Unsupported()
        self.out_n = out_n
        self.out_units = unit_of[out_n]
        self.out_levels = np.unique(self.u_level[self.out_units]).tolist()

    def core_weights(self, c):
        """(A, units of core c) float64 weights of the core's units."""
        u0, u1 = self.core_units[c]
        return self.axon_units[c * self.A:(c + 1) * self.A, u0:u1].toarray().astype(np.float64)

    # ------------------------------------------------------------------ fault-free state
    def _base_drives(self):
        """D⁰ (U, B): the drive of every unit on the fault-free chip, core by core in level
        order, D_u = W_coreᵀ @ ρ_core + λ (module docstring)."""
        D0 = np.empty((self.u_core.size, self.B), self.dtype)
        self.D0 = D0
        for c in self.core_sequence:
            u0, u1 = self.core_units[c]
            if u1 > u0:
                rho = self.base_axon_rates(c, np.arange(self.A))
                D0[u0:u1] = self.core_weights(c).T @ rho + self.u_leak[u0:u1, None]
        return D0

    def base_unit_rates(self, units):
        """(len(units), B) fault-free rates clip(D⁰/α, 0, 1) of ``units``."""
        if self.R0 is not None:
            return self.R0[units]
        return rates(self.D0[units], self.u_alpha[units])

    def base_axon_rates(self, c, axons):
        """(len(axons), B) fault-free rates arriving on ``axons`` of core c (0 where no
        source)."""
        return self.base_key_rates(c * self.A + np.asarray(axons, np.int64))

    def base_key_rates(self, keys):
        """(len(keys), B) fault-free rates arriving on the axon keys c·A + a (0 where no
        source)."""
        if self.RA0 is not None:
            return self.RA0[keys]
        rho = np.zeros((len(keys), self.B))
        m = self.key_input[keys]
        has_in = m >= 0
        if has_in.any():
            rho[has_in] = self.XT[m[has_in]]
        u = self.key_unit[keys]
        has_u = u >= 0
        if has_u.any():
            rho[has_u] = self.base_unit_rates(u[has_u])
        return rho

    def base_unit_sums(self):
        """(U,) Σ_B of each unit's fault-free rate (in chunks of SUM_CHUNK units)."""
        U = self.u_core.size
        return np.concatenate([self.base_unit_rates(np.arange(s, min(U, s + SUM_CHUNK)))
                               .sum(axis=1) for s in range(0, U, SUM_CHUNK)]) if U else \
            np.zeros(0)


def _axon_unit_matrix(rows, A, n_units):
    """CSR (C·A, U) float32 of the unit weights W[a, u] of every axon key c·A + a (integers,
    exact in float32), assembled from per-core (nonzeros per axon, unit, weight)."""
    counts = [np.zeros(A, np.int64) if r is None else r[0] for r in rows]
    indptr = np.concatenate([[0], np.cumsum(np.concatenate(counts))]) if rows else np.zeros(1)
    cols = [r[1] for r in rows if r is not None]
    vals = [r[2] for r in rows if r is not None]
    return sparse.csr_matrix(
        (np.concatenate(vals).astype(np.float32) if vals else np.zeros(0, np.float32),
         np.concatenate(cols).astype(np.int32) if cols else np.zeros(0, np.int32),
         indptr.astype(np.int64)), shape=(len(rows) * A, n_units))


def rates(drives, alpha):
    """(k, B) float64 rates clip(D/α, 0, 1) of drives (k, B) with thresholds α (k,)."""
    return np.clip(drives / alpha[:, None], 0.0, 1.0)
