"""Place logical cores on the grid: minimise the hop cost Σ_{u→v} ρ_uv · (|Δrow| + |Δcol|).

ρ_uv is the spike traffic from core u to core v (spikes per tick: the rate-mode rates of u's
neurons routed to v, averaged over calibration inputs). This is a quadratic assignment problem
(IBM's placer: US 10,679,120); blocked cores (faulty or reserved) are never used.

1. Constructive start: the free grid positions of a square-ish block of side ⌈√(1.1·C)⌉ walked as
   a serpentine (row 0 left to right, row 1 right to left, …), cores in stage order, so each
   stage fills a band next to the stage that feeds it.
2. Annealing: pick a core u at random, a target position near the traffic-weighted centroid of u's
   neighbours (a random offset of at most ``radius``), swap u with whatever occupies it (a core
   or an empty slot of the block); accept by the Metropolis rule at a temperature cooling
   geometrically from the mean |Δcost| of the first moves to 1/1000 of it. Deterministic for a
   given ``seed`` (numpy Generator).

``rowmajor`` is the naive yardstick: core i on the i-th free position in row-major order.
"""
import numpy as np

from neurosim.errors import DoesNotFitError, ValidationError


def traffic(program, neuron_rates):
    """Directed edges (u, v, ρ_uv): spikes per tick from core u to core v, given the mean
    rate (C, N) of every neuron."""
    routed = program.dest_core >= 0
    src = np.nonzero(routed)
    u, v = src[0], program.dest_core[routed]
    rho = neuron_rates[routed]
    key = u.astype(np.int64) * program.n_cores + v
    uniq, inv = np.unique(key, return_inverse=True)
    weight = np.bincount(inv, weights=rho, minlength=len(uniq))
    return uniq // program.n_cores, uniq % program.n_cores, weight


def hop_cost(edges, xy):
    """Σ ρ_uv · Manhattan distance for positions xy (C, 2)."""
    u, v, w = edges
    return float((w * np.abs(xy[u] - xy[v]).sum(axis=1)).sum())


def free_positions(profile, blocked):
    """(P, 2) free grid positions in row-major order; ``blocked`` is a list of (row, col)."""
    free = np.ones((profile.grid_rows, profile.grid_cols), bool)
    for rc in blocked or ():
        r, c = int(rc[0]), int(rc[1])
        if not (0 <= r < profile.grid_rows and 0 <= c < profile.grid_cols):
            raise ValidationError(f"blocked core ({r}, {c}) is outside the "
                                  f"{profile.grid_rows}x{profile.grid_cols} grid")
        free[r, c] = False
    return np.argwhere(free).astype(np.int64)


def rowmajor(n_cores, profile, blocked=None):
    """The naive placement: core i on the i-th free position, row-major."""
    free = free_positions(profile, blocked)
    if n_cores > len(free):
        raise DoesNotFitError(f"network needs {n_cores} cores; chip '{profile.name}' has "
                              f"{len(free)} available")
    return free[:n_cores]


def _start(n_cores, profile, blocked):
    free = np.zeros((profile.grid_rows, profile.grid_cols), bool)
    free[tuple(free_positions(profile, blocked).T)] = True
    if n_cores > free.sum():
        raise DoesNotFitError(f"network needs {n_cores} cores; chip '{profile.name}' has "
                              f"{int(free.sum())} available")
    side = int(np.ceil(np.sqrt(1.1 * n_cores)))
    while True:
        width = min(side, profile.grid_cols)
        cells = []
        for r in range(profile.grid_rows):
            cols = range(width) if r % 2 == 0 else range(width - 1, -1, -1)
            cells += [(r, c) for c in cols if free[r, c]]
            if len(cells) >= int(1.1 * n_cores) + 1:
                break
        if len(cells) >= n_cores or width == profile.grid_cols:
            return np.array(cells, np.int64)
        side += 1


def place(edges, n_cores, profile, blocked=None, seed=0, iterations=None, anneal=True):
    """Return core_xy (C, 2): the constructive start, then (if ``anneal``) annealing."""
    slots = _start(n_cores, profile, blocked)
    xy = slots[:n_cores].copy()
    if not anneal or n_cores < 2 or len(edges[0]) == 0:
        return xy
    rng = np.random.default_rng(seed)
    u, v, w = edges
    # undirected adjacency in CSR form
    a = np.concatenate([u, v])
    b = np.concatenate([v, u])
    ww = np.concatenate([w, w])
    order = np.argsort(a, kind="stable")
    a, b, ww = a[order], b[order], ww[order]
    indptr = np.searchsorted(a, np.arange(n_cores + 1))
    occupant = {tuple(p): -1 for p in slots.tolist()}
    for c in range(n_cores):
        occupant[tuple(xy[c])] = c
    span = slots.max(axis=0)
    radius = max(2, int(np.ceil(np.sqrt(n_cores) / 4)))
    iterations = iterations or int(min(200_000, 30 * n_cores + 5_000))

    def cost_at(c, pos, other=-1, other_pos=None):
        nb = b[indptr[c]:indptr[c + 1]]
        wt = ww[indptr[c]:indptr[c + 1]]
        where = xy[nb]
        if other >= 0:
            where = np.where((nb == other)[:, None], other_pos, where)
        return float((wt * np.abs(where - pos).sum(axis=1)).sum())

    temperature = None
    deltas = []
    cooling = None
    for it in range(iterations):
        c = int(rng.integers(n_cores))
        lo, hi = indptr[c], indptr[c + 1]
        traffic = ww[lo:hi].sum()
        if traffic <= 0:
            continue  # no spikes to or from this core: its position costs nothing
        centroid = (ww[lo:hi, None] * xy[b[lo:hi]]).sum(axis=0) / traffic
        target = np.clip(np.round(centroid + rng.integers(-radius, radius + 1, 2)), 0, span)
        target = (int(target[0]), int(target[1]))
        d = occupant.get(target)
        pc = xy[c].copy()
        if d is None or d == c:
            continue
        pt = np.array(target)
        delta = cost_at(c, pt, d, pc) - cost_at(c, pc)
        if d >= 0:
            delta += cost_at(d, pc, c, pt) - cost_at(d, pt)
        if temperature is None:
            deltas.append(abs(delta))
            if len(deltas) >= 200:
                temperature = max(float(np.mean(deltas)), 1e-12)
                cooling = (1e-3) ** (1.0 / max(iterations - it, 1))
            accept = delta < 0
        else:
            accept = delta < 0 or rng.random() < np.exp(-delta / temperature)
            temperature *= cooling
        if accept:
            xy[c] = pt
            occupant[target] = c
            occupant[tuple(pc)] = d
            if d >= 0:
                xy[d] = pc
    return xy
