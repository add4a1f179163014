"""SANA-FE side by side: the same network in SANA-FE's bundled TrueNorth architecture.

SANA-FE (Boyle et al., UT Austin / Sandia; ``pip install "neurosim[peer]"``, GPL-3.0, an optional
peer: used through its Python API, never vendored) simulates TrueNorth with its "truenorth" soma
model in double precision. :func:`build` maps a ChipProgram onto ``sanafe.load_truenorth()``:

==================  ==========================================================================
neurosim            SANA-FE (soma attributes of each mapped neuron; one group per used core)
==================  ==========================================================================
enabled neuron      one neuron of the core's group, mapped to the TrueNorth core at core_xy
crossbar, weights   one connection per (source neuron, destination neuron) pair with
                    c_ij = 1: weight s_j[type_i] (typed weights expanded per edge)
dest_delay          only 1 maps: the bundled architecture has no axonal delays (a spike is
                    integrated the next tick); other delays are refused naming the field
leak λ              ``leak`` = λ, ``leak_towards_zero`` = False (SANA-FE's default is True)
threshold α         ``threshold`` = α (fires at V ≥ α, as here)
reset mode 0/1/2    ``reset_mode`` hard / soft / none; ``reset`` = R
floor mode 0        ``reverse_threshold`` = −β, ``reverse_reset_mode`` saturate
floor mode 1        ``reverse_threshold`` = −β − 1 (SANA-FE tests V ≤, here V < −β),
                    ``reverse_reset_mode`` hard, ``reverse_reset`` = −R
floor after a fire  SANA-FE skips the floor test in a tick where the neuron fired; here the floor
                    follows the reset, which only matters for a hard reset below −β: the reset
                    value is folded (R < −β → −β, or −R for floor mode 1)
initial potential   ``bias`` = V0 in the first tick only (SANA-FE has no initial potential)
==================  ==========================================================================

Not mapped (refused, naming the field): two neurons driving one axon (their spikes are ORed
here, SANA-FE has no axons to OR them on), external inputs (``input_index``: the peer runs
self-driven networks such as :func:`neurosim.chip.synthetic.mixed_program`), the stochastic and
leak-reversal extensions, per-synapse (``ideal``) profiles. Not modelled by SANA-FE: the
potential's 20-bit saturation (the benchmark networks stay far inside it).
"""
import os
import time

import numpy as np

from neurosim import _core
from neurosim.chip.synthetic import mixed_program
from neurosim.errors import ValidationError

CORE_COUNTS = (4, 16, 64, 256)
QUICK_CORE_COUNTS = (4, 16)
RESET_MODES = {0: "hard", 1: "soft", 2: "none"}


def _import_sanafe():
    try:
        import sanafe  # optional extra "peer" (GPL-3.0): imported only when asked for
    except ImportError:
        raise ValidationError("argument 'peer' is 'sanafe', which needs SANA-FE: pip install "
                              "\"neurosim[peer]\" (or pip install sanafe)", param="peer") from None
    return sanafe


def check_mappable(program):
    """Raise naming the first field SANA-FE's TrueNorth architecture cannot take."""
    if not program.profile.typed_weights:
        raise ValidationError(f"profile '{program.profile.name}' has one weight per synapse; "
                              "the SANA-FE peer maps typed-weight (truenorth) programs only")
    if program.input_index.size:
        raise ValidationError(f"field 'input_index' has {program.input_index.size} entries; the "
                              "SANA-FE peer maps self-driven programs only (no external inputs)")
    used = [name for name in program.neuron_extensions_used() if name != "prng_seed"]
    if used:
        raise ValidationError(f"field '{used[0]}' is set; the SANA-FE peer maps the "
                              "deterministic neuron only")
    routed = program.enabled & (program.dest_core >= 0)
    target = program.dest_core.astype(np.int64) * program.n_axons + program.dest_axon
    shared = routed & (np.bincount(np.where(routed, target, 0).ravel(),
                                   weights=routed.ravel(),
                                   minlength=program.n_cores * program.n_axons)[target] > 1)
    if shared.any():
        c, n = (int(i) for i in np.argwhere(shared)[0])
        raise ValidationError(f"fields 'dest_core'/'dest_axon' (core {c}, neuron {n}) route to "
                              "an axon another neuron also drives; neurosim ORs their spikes, "
                              "SANA-FE would add both: only one source per axon maps")
    bad = routed & (program.dest_delay != 1)
    if bad.any():
        c, n = (int(i) for i in np.argwhere(bad)[0])
        raise ValidationError(f"field 'dest_delay' (core {c}, neuron {n}) is "
                              f"{program.dest_delay[c, n]}; SANA-FE's bundled TrueNorth "
                              "architecture has no axonal delays: only delay 1 maps")


def soma_attributes(program, c, n):
    """SANA-FE soma attributes of neuron n of core c (module docstring table)."""
    alpha, beta = int(program.threshold[c, n]), int(program.floor[c, n])
    R, mode = int(program.reset_value[c, n]), int(program.reset_mode[c, n])
    floor_reset = program.floor_mode[c, n] == 1
    if mode == 0 and R < -beta:   # the floor test that follows a hard reset here
        R = -R if floor_reset else -beta
    attrs = {"threshold": float(alpha), "leak": float(program.leak[c, n]),
             "leak_towards_zero": False, "reset_mode": RESET_MODES[mode], "reset": float(R),
             "bias": float(program.initial_potential[c, n])}
    if floor_reset:
        attrs.update(reverse_threshold=float(-beta - 1), reverse_reset_mode="hard",
                     reverse_reset=float(-program.reset_value[c, n]))
    else:
        attrs.update(reverse_threshold=float(-beta), reverse_reset_mode="saturate")
    return attrs


def _edges(program):
    """(source core, source neuron, destination core, destination neuron, weight) of every
    synapse a routed spike reaches, as arrays."""
    src_c, src_n = np.nonzero(program.enabled & (program.dest_core >= 0))
    dc, da = program.dest_core[src_c, src_n], program.dest_axon[src_c, src_n]
    reach = program.crossbar[dc, da] & program.enabled[dc]                     # (E, N)
    e, dst_n = np.nonzero(reach)
    weight = program.weights[dc[e], program.axon_type[dc[e], da[e]], dst_n]
    return src_c[e], src_n[e], dc[e], dst_n, weight


def build(program, sanafe=None):
    """The program as a loaded ``sanafe.SpikingChip``; returns (chip, offsets) with offsets[c]
    the neuron indices of core c's group in group order."""
    sanafe = sanafe or _import_sanafe()
    check_mappable(program)
    arch = sanafe.load_truenorth()
    hw_cores = arch.cores()
    cols = program.profile.grid_cols
    net = sanafe.Network()
    groups, offsets = {}, {}
    for c in range(program.n_cores):
        neurons = np.flatnonzero(program.enabled[c])
        if not neurons.size:
            continue
        offsets[c] = neurons
        group = net.create_neuron_group(f"c{c}", int(neurons.size), log_spikes=True)
        core = hw_cores[int(program.core_xy[c, 0]) * cols + int(program.core_xy[c, 1])]
        for k, neuron in enumerate(group):
            neuron.map_to_core(core)
            neuron.set_attributes(model_attributes=soma_attributes(program, c, int(neurons[k])))
        groups[c] = group
    _connect(program, groups, offsets)
    chip = sanafe.SpikingChip(arch)
    chip.load(net)
    return chip, offsets


def _connect(program, groups, offsets):
    """One sparse connection call per (source core, destination core) pair."""
    src_c, src_n, dst_c, dst_n, weight = _edges(program)
    position = np.full(program.enabled.shape, -1, np.int64)
    for c, neurons in offsets.items():
        position[c, neurons] = np.arange(neurons.size)
    order = np.lexsort((dst_n, src_n, dst_c, src_c))
    src_c, src_n, dst_c, dst_n, weight = (a[order] for a in (src_c, src_n, dst_c, dst_n, weight))
    pair = src_c.astype(np.int64) * program.n_cores + dst_c
    starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
    for s, e in zip(starts, np.r_[starts[1:], pair.size]):
        pairs = list(zip(position[src_c[s:e], src_n[s:e]].tolist(),
                         position[dst_c[s:e], dst_n[s:e]].tolist()))
        groups[int(src_c[s])].connect_neurons_sparse(
            groups[int(dst_c[s])], {"weight": weight[s:e].astype(float).tolist()}, pairs)


def _set_bias(chip, program, offsets, initial):
    """``bias`` = V0 (``initial``) or 0 on every mapped neuron with V0 ≠ 0."""
    for c, neurons in offsets.items():
        mapped = chip.mapped_neuron_groups[f"c{c}"]
        v0 = program.initial_potential[c, neurons]
        for k in np.flatnonzero(v0):
            bias = float(v0[k]) if initial else 0.0
            mapped[int(k)].set_attributes(model_attributes={"bias": bias})


def run(chip, program, offsets, ticks, threads=1):
    """Simulate ``ticks`` ticks: the first with ``bias`` = V0, then bias 0. Returns (record
    (ticks, C, N) uint8, seconds spent in ``SpikingChip.sim``)."""
    record = np.zeros((ticks, program.n_cores, program.n_neurons), np.uint8)
    chip.reset()
    _set_bias(chip, program, offsets, initial=True)
    t0 = time.perf_counter()
    first = chip.sim(1, spike_trace=True, processing_threads=threads)
    seconds = time.perf_counter() - t0
    _set_bias(chip, program, offsets, initial=False)   # V0 is in; no bias from now on
    traces = first["spike_trace"]
    if ticks > 1:
        t0 = time.perf_counter()
        rest = chip.sim(ticks - 1, spike_trace=True, processing_threads=threads)
        seconds += time.perf_counter() - t0
        traces = traces + rest["spike_trace"]
    for t, spikes in enumerate(traces):
        for s in spikes:
            c = int(s.group_name[1:])
            record[t, c, offsets[c][s.neuron_offset]] = 1
    return record, seconds


def _neurosim(program, ticks, threads):
    raster = np.zeros((ticks, 1, 0), np.uint8)
    t0 = time.perf_counter()
    out = _core.run_spiking(program, raster, record=True, num_threads=threads)
    return out["record"][:, 0], time.perf_counter() - t0


def compare(program, ticks, threads=(1,)):
    """Run ``program`` on neurosim's kernel and on SANA-FE with each thread count; a dict of
    agreement, spikes and seconds."""
    sanafe = _import_sanafe()
    chip, offsets = build(program, sanafe)
    row = {"cores": program.n_cores, "ticks": ticks, "agree": True}
    for n in threads:
        theirs, peer_s = run(chip, program, offsets, ticks, n)
        ours, ours_s = _neurosim(program, ticks, n)
        row["agree"] &= bool(np.array_equal(ours, theirs))
        row[f"spikes"] = int(ours.sum())
        row[f"neurosim_s_{n}thread"] = ours_s
        row[f"sanafe_s_{n}thread"] = peer_s
        row[f"ratio_{n}thread"] = peer_s / ours_s
    return row


def bench(ticks=None, quick=False, verbose=True):
    """``neurosim bench sim --peer sanafe``: the mixed network (:func:`mixed_program`) at 4, 16,
    64 and 256 cores on both simulators, 1 and 2 threads each; spike-for-spike agreement and the
    speed ratio per thread count."""
    say = print if verbose else (lambda *a, **k: None)
    _import_sanafe()
    ticks = ticks or (20 if quick else 200)
    counts = QUICK_CORE_COUNTS if quick else CORE_COUNTS
    threads = (1, 2)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    say(f"neurosim bench sim --peer sanafe: mixed network, {ticks} ticks, load average "
        f"{load:.1f}")
    rows = []
    for n_cores in counts:
        row = compare(mixed_program(n_cores, seed=n_cores), ticks, threads)
        rows.append(row)
        say(f"  {n_cores:4d} cores: {row['spikes']} spikes, identical: {row['agree']}; "
            + "; ".join(f"{n} thread(s): neurosim {row[f'neurosim_s_{n}thread']:.3f} s, "
                        f"SANA-FE {row[f'sanafe_s_{n}thread']:.2f} s, "
                        f"{row[f'ratio_{n}thread']:.0f}x" for n in threads))
    return {"peer": "sanafe", "ticks": ticks, "load_average": load,
            "agree": all(r["agree"] for r in rows), "per_cores": rows}
