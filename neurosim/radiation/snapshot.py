"""One run's FaultState at one moment: from the events :func:`neurosim.radiation.timeline.sample`
drew (deaths, stuck bits, upsets, scrubs, spares, TMR votes) to a
:class:`~neurosim.chip.faults.FaultState` in the logical program's coordinates, harmless entries
dropped and rows sorted so that equal damage gives equal states.
"""
import heapq

import numpy as np

from neurosim.chip.faults import FaultState
from neurosim.chip.memory import CROSSBAR, POTENTIAL, ROUTING, SRAM, THRESHOLD, WEIGHT

def isolated_cores(events, cores_per_domain, times):
    """Chip cores switched off for good by each time: ``cores_per_domain`` per domain that had a
    destructive latch-up (the power model no longer charges their static power)."""
    first = {}
    for t, d in zip(events.latchup_days[events.destructive],
                    events.latchup_domains[events.destructive]):
        first.setdefault(int(d), float(t))
    dead_at = np.sort(np.fromiter(first.values(), np.float64, len(first)))
    return (np.searchsorted(dead_at, times, "right") * cores_per_domain).astype(np.int32)


def last_scrub_before(t, period, phase):
    """The last scrub strictly before mission day ``t`` for scrubs at ``phase + n·period``
    (n = 0, 1, …): ``phase + (⌈(t − phase)/period⌉ − 1)·period``, negative when there was none yet
    (a checkpoint at a scrub time sees the upsets that scrub is about to clear)."""
    return phase + (np.ceil((t - phase) / period) - 1) * period


def simple_state(layout, host_slot, death, t, flips, st_core, st_pos, st_val, cache):
    """:func:`logical_state` without TMR (slot = logical core), the permanent part cached."""
    C = layout.C
    logical = np.arange(C)
    hosted = np.nonzero(host_slot >= 0)[0]
    dmask = death[hosted] <= t
    key = (host_slot.tobytes(), int(dmask.sum()), int(st_core.size))
    if cache.get("key") != key:
        lc = host_slot[hosted]
        pi, j = np.nonzero(dmask)
        c = lc[pi]
        ok = layout.used_neurons[c, j]
        stuck = _stuck_entries(layout, st_core, st_pos, st_val, host_slot, logical)
        cache.update(key=key, dead_cores=np.setdiff1d(logical, lc),
                     dead_neurons=_canon(np.stack([c[ok], j[ok]], 1), 2),
                     perm=_last_per_position(layout, np.stack(stuck, 1)),
                     mult=np.bincount(lc, minlength=C).astype(np.int16))
    upsets = _upset_entries(layout, flips, host_slot, logical)
    fs = _assemble(layout, logical, cache["dead_neurons"], cache["dead_cores"], cache["perm"],
                   upsets)
    return fs, int(cache["dead_cores"].size), cache["mult"]


def _stuck_entries(layout, st_core, st_pos, st_val, host_slot, slot_core):
    """Permanent stuck crossbar bits in force, in time order: (slot, axon, neuron, value) of those
    that touch a used neuron and a used axon (``slot_core`` maps a slot to its logical core)."""
    slot = host_slot[st_core]
    bits = layout.memory.decode(SRAM, st_pos)       # stuck positions are crossbar cells
    c = slot_core[slot]
    ok = layout.used_neurons[c, bits.neuron] & layout.used_axons[c, bits.row]
    return slot[ok], bits.row[ok], bits.neuron[ok], st_val[ok].astype(np.int64)


def _upset_entries(layout, flips, host_slot, slot_core):
    """Flipped bits in force, decoded by the core's memory map: {field: (slot, row, neuron,
    bit)}, keeping those that touch a used neuron (and, for a crossbar bit, a used axon)."""
    decoded = [(host_slot[core], layout.memory.decode(cls, pos))
               for cls, (core, pos) in flips.items() if core.size]
    if not decoded:
        return _NO_UPSETS
    slot = np.concatenate([d[0] for d in decoded])
    field, row, neuron, bit = (np.concatenate([d[1][i] for d in decoded]) for i in range(4))
    c = slot_core[slot]
    ok = layout.used_neurons[c, neuron] & ((field != CROSSBAR) | layout.used_axons[c, row])
    kept = np.flatnonzero(ok)
    kept = kept[np.argsort(field[kept], kind="stable")]
    cols = [x[kept] for x in (slot, row, neuron, bit)]
    ends = np.searchsorted(field[kept], _FIELDS, "right").tolist()
    return {f: tuple(x[a:b] for x in cols)
            for f, a, b in zip(_FIELDS, [0] + ends[:-1], ends)}


_FIELDS = (CROSSBAR, WEIGHT, THRESHOLD, POTENTIAL, ROUTING)
_NO_UPSETS = {f: (np.zeros(0, np.int64),) * 4 for f in _FIELDS}


def _assemble(layout, slot_core, dead_neurons, dead_cores, permanent, upsets, vote=None):
    """The FaultState from dead units, permanent stuck bits (:func:`_last_per_position`) and the
    upsets whose (slot, neuron) passes ``vote`` (all when None); an upset crossbar bit reads as
    stuck at the flipped pristine value."""
    def rows(entry, cols):
        if entry[0].size == 0:
            return np.zeros((0, 1 + len(cols)), np.int64)
        if vote is None:
            return np.stack([slot_core[entry[0]]] + [entry[i] for i in cols], 1)
        v = vote(entry[0], entry[2])
        return np.stack([slot_core[entry[0][v]]] + [entry[i][v] for i in cols], 1)

    xb = rows(upsets[CROSSBAR], (1, 2))
    if xb.size:
        flipped = 1 - layout.crossbar[xb[:, 0], xb[:, 1], xb[:, 2]].astype(np.int64)
        stuck = _merge_stuck(layout, np.column_stack([xb, flipped]), permanent)
    else:
        stuck = permanent
    return FaultState(
        dead_neurons=dead_neurons, dead_cores=dead_cores, stuck_synapses=stuck,
        weight_flips=_canon(rows(upsets[WEIGHT], (1, 2, 3)), 4),
        threshold_flips=_canon(rows(upsets[THRESHOLD], (2, 3)), 3),
        potential_flips=_canon(rows(upsets[POTENTIAL], (2, 3)), 3),
        routing_flips=_canon(rows(upsets[ROUTING], (2, 3)), 3))


def service_periods(n_slots, S, death_day, T):
    """Service intervals: {physical core: (start, end, slot)}; a core stops at ``death_day[p]``
    (TID of core or chip, destructive latch-up of its domain) and its slot moves to the first
    spare still alive then (spares in index order), in order of death time."""
    service = {}
    heap = []
    for s in range(n_slots):
        service[s] = (0.0, np.inf, s)
        if death_day[s] < T:
            heapq.heappush(heap, (float(death_day[s]), s, s))
    spares = list(range(n_slots, n_slots + S))
    while heap:
        d, p, s = heapq.heappop(heap)
        service[p] = (service[p][0], d, s)
        while spares:
            q = spares.pop(0)
            if death_day[q] > d:
                service[q] = (d, np.inf, s)
                if death_day[q] < T:
                    heapq.heappush(heap, (float(death_day[q]), q, s))
                break
    return service


def flipped_bits(core, cls, pos, mbu, positions, word_data, word_bits, data_bits, secded,
                 interleave=1):
    """Bits in force: (per class, arrays (core, data bit)), number of flipped bits after SECDED.

    A multi-cell event (``mbu``) flips its cell and one physically adjacent cell (missions draw
    2-cell clusters; the device's ``mcu_max_span`` is used only by the environment report,
    :func:`neurosim.radiation.device.secded_uncorrectable_fraction`). Physical layout with
    column interleave k (``interleave``): the words of a class form groups of k consecutive words
    (the last group holds the r < k words left over, interleaved r ways); in a group, physically
    adjacent cells hold the same bit of the group's words in turn, so word w = g·k + j (j < k_g,
    the group's size), bit b sits at column c = g·k·W + b·k_g + j (W = ``word_bits``). The second
    cell is column c ⊕ 1 if it lies in the same group and in the class, else c − 1 (dropped if
    c = 0), mapped back to (word, bit). k = 1 makes c the bit position: the partner is pos ⊕ 1 in
    the same word, else pos − 1. For k ≥ 2 adjacent columns always belong to different words
    (even k: the same bit of word w ⊕ 1 of the group), so SECDED corrects the two flips — unless
    the last group holds one word. Without SECDED a word is one bit and the caller passes k = 1
    (:func:`neurosim.radiation.timeline.sample`). Flips of one bit cancel in pairs; with SECDED
    words with exactly one flipped bit are corrected."""
    if core.size == 0:
        return {k: (np.zeros(0, np.int64), np.zeros(0, np.int64)) for k in range(3)}, 0
    n_words = positions[cls] // word_bits
    group_cells = interleave * word_bits
    column = _column(pos, n_words, word_bits, interleave)
    partner = column ^ 1
    partner_ok = (partner < positions[cls]) & (partner // group_cells == column // group_cells)
    partner = np.where(partner_ok, partner, column - 1)
    extra = mbu & (partner >= 0)
    partner = _bit_position(partner[extra], n_words[extra], word_bits, interleave)
    core = np.concatenate([core, core[extra]])
    cls = np.concatenate([cls, cls[extra]])
    pos = np.concatenate([pos, partner])
    key = (core * 3 + cls) * (positions.max() + 1) + pos
    uk, cnt = np.unique(key, return_counts=True)
    uk = uk[cnt % 2 == 1]
    pos = uk % (positions.max() + 1)
    cc = uk // (positions.max() + 1)
    core, cls = cc // 3, cc % 3
    if secded:
        wkey = cc * (positions.max() + 1) + pos // word_bits
        _, inv, wcnt = np.unique(wkey, return_inverse=True, return_counts=True)
        keep = wcnt[inv] >= 2
        core, cls, pos = core[keep], cls[keep], pos[keep]
        in_word = pos % word_bits
        is_data = in_word < word_data
        data = (pos // word_bits) * word_data + in_word
        is_data &= data < data_bits[cls]
        n_flipped = int(core.size)
        core, cls, pos = core[is_data], cls[is_data], data[is_data]
    else:
        n_flipped = int(core.size)
    return {k: (core[cls == k], pos[cls == k]) for k in range(3)}, n_flipped


def _column(pos, n_words, word_bits, interleave):
    """Physical column of bit position ``pos`` (:func:`flipped_bits`): word w = g·k + j, bit b
    → g·k·W + b·k_g + j, k_g = min(k, n_words − g·k) words in group g."""
    w, b = np.divmod(pos, word_bits)
    g = w // interleave
    k_g = np.minimum(interleave, n_words - g * interleave)
    return g * interleave * word_bits + b * k_g + (w - g * interleave)


def _bit_position(column, n_words, word_bits, interleave):
    """Bit position of a physical column, the inverse of :func:`_column`."""
    g = column // (interleave * word_bits)
    k_g = np.minimum(interleave, n_words - g * interleave)
    b, j = np.divmod(column - g * interleave * word_bits, k_g)
    return (g * interleave + j) * word_bits + b


def logical_state(layout, slot_core, host_slot, death, t, flips, st_core, st_pos, st_val):
    """The FaultState of the logical program at time t under TMR, dead logical cores,
    multiplicity. A neuron's fault shows when at least two of its replicas are faulty (or its
    core has one copy); it then carries the union of its replicas' faults."""
    C, N = layout.C, layout.N
    used = layout.used_neurons
    hosted = host_slot >= 0
    host_of_slot = np.full(slot_core.size, -1)
    host_of_slot[host_slot[hosted]] = np.nonzero(hosted)[0]
    dead_slots = np.nonzero(host_of_slot < 0)[0]
    hp = np.nonzero(hosted)[0]
    dn_p, dn_j = np.nonzero(death[hp] <= t)
    dn_slot = host_slot[hp[dn_p]]
    keep = used[slot_core[dn_slot], dn_j]
    dead = (dn_slot[keep], dn_j[keep])
    stuck = _stuck_entries(layout, st_core, st_pos, st_val, host_slot, slot_core)
    upsets = _upset_entries(layout, flips, host_slot, slot_core)
    # faulty (slot, neuron) pairs: dead neurons, faults of every kind, every used neuron of a
    # dead slot; a logical neuron is bad when faulty in ≥ 2 replicas or its core has one copy
    keys = [np.stack([dead[0], dead[1]], 1), np.stack([stuck[0], stuck[2]], 1)]
    keys += [np.stack([e[0], e[2]], 1) for e in upsets.values()]
    for s in dead_slots:
        js = np.nonzero(used[slot_core[s]])[0]
        keys.append(np.stack([np.full(js.size, s), js], 1))
    pairs = np.unique(np.concatenate(keys), axis=0)
    ul, cnt = np.unique(slot_core[pairs[:, 0]] * N + pairs[:, 1], return_counts=True)
    total = np.bincount(slot_core, minlength=C)
    bad = ul[(cnt >= 2) | (total[ul // N] <= 1)]

    def vote(slot, j):
        return np.isin(slot_core[slot] * N + j, bad)

    # a logical core is dead when fewer than 2 (of 3) replicas live, or its single copy died
    multiplicity = total - np.bincount(slot_core[dead_slots], minlength=C)
    dead_cores = np.nonzero(multiplicity < np.where(total > 1, 2, 1))[0]
    dead_rows = []
    for s in dead_slots:
        c = slot_core[s]
        if c in dead_cores:
            continue
        js = np.nonzero(used[c])[0]
        v = vote(np.full(js.size, s), js)
        dead_rows.append(np.stack([np.full(v.sum(), c), js[v]], 1))
    v = vote(*dead)
    dead_rows.append(np.stack([slot_core[dead[0][v]], dead[1][v]], 1))
    dead_neurons = _canon(np.concatenate(dead_rows), 2)
    dead_neurons = dead_neurons[~np.isin(dead_neurons[:, 0], dead_cores)]
    v = vote(stuck[0], stuck[2])
    permanent = _last_per_position(
        layout, np.stack([slot_core[stuck[0][v]]] + [x[v] for x in stuck[1:]], 1))
    fs = _assemble(layout, slot_core, dead_neurons, dead_cores.astype(np.int64), permanent,
                   upsets, vote)
    return fs, int(dead_cores.size), multiplicity


def _canon(rows, width):
    """Rows sorted lexicographically and unique (the same bit flipped in two TMR replicas is one
    logical flip); the order of ``np.unique(rows, axis=0)``, without its structured-array cost."""
    if rows is None or len(rows) == 0:
        return np.zeros((0, width), np.int64)
    rows = np.asarray(rows, np.int64).reshape(-1, width)
    rows = rows[np.lexsort(rows.T[::-1])]
    first = np.ones(len(rows), bool)
    first[1:] = np.any(rows[1:] != rows[:-1], axis=1)
    return rows[first]


def _position_keys(layout, rows):
    """One integer per (core, axon, neuron, …) row: (core·A + axon)·N + neuron."""
    return (rows[:, 0] * layout.A + rows[:, 1]) * layout.N + rows[:, 2]


def _last_per_position(layout, permanent):
    """Permanent stuck bits (core, axon, neuron, value), in time order → the last event per
    position, rows sorted (the same order as :func:`_canon`)."""
    perm = np.asarray(permanent, np.int64).reshape(-1, 4)
    if len(perm) == 0:
        return perm
    # np.unique keeps the first occurrence of each key: of the reversed rows, the last event
    _, first_rev = np.unique(_position_keys(layout, perm[::-1]), return_index=True)
    return _canon(perm[::-1][first_rev], 4)


def _merge_stuck(layout, upsets, permanent):
    """Crossbar entries: upsets (value = flipped pristine bit) where no permanent stuck bit is
    (``permanent`` from :func:`_last_per_position`: those override upsets), then the permanent
    bits, rows sorted."""
    up = _canon(upsets, 4)
    if len(permanent) == 0:
        return up
    held = _position_keys(layout, permanent)        # ascending: the rows are sorted
    keys = _position_keys(layout, up)
    at = np.minimum(np.searchsorted(held, keys), held.size - 1)
    return _canon(np.concatenate([up[held[at] != keys], permanent]), 4)
