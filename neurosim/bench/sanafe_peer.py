"""SANA-FE side by side: the same network in SANA-FE's bundled TrueNorth architecture.

SANA-FE (Boyle et al., UT Austin / Sandia; ``pip install "neurosim[peer]"``, GPL-3.0, an optional
peer: used through its Python API, never vendored) simulates TrueNorth with its "truenorth" soma
model in double precision. :func:`build` maps a ChipProgram onto ``sanafe.load_truenorth()``, field
by field (SANA-FE 2.2.9, ``src/models.cpp``: ``TrueNorthModel``):

=====================  =======================================================================
neurosim field         SANA-FE (soma attributes of each mapped neuron; one group per used core)
=====================  =======================================================================
enabled                each enabled neuron is one neuron of its core's group; disabled ones
                       are left out (they never fire here)
core_xy                the group's neurons are mapped to TrueNorth core row·64 + col
crossbar, axon_type,   one connection per (source neuron, destination neuron) pair reached
weights                through an axon with c_ij = 1: weight s_j[type_i] (typed weights
                       expanded per edge)
dest_core, dest_axon   the source of those connections; −1: no connections
dest_delay             only 1 maps: the bundled architecture has no axonal delays (a spike is
                       integrated the next tick); other delays are refused naming the field
leak λ                 ``leak`` = λ, ``leak_towards_zero`` = False (SANA-FE's default is True)
threshold α            ``threshold`` = α (fires at V ≥ α, as here)
reset_mode 0/1/2       ``reset_mode`` hard / soft / none; reset_value ``reset`` = R
floor_mode 0           ``reverse_threshold`` = −β, ``reverse_reset_mode`` saturate
floor_mode 1           ``reverse_threshold`` = −β − 1 (SANA-FE tests V ≤, here V < −β),
                       ``reverse_reset_mode`` hard, ``reverse_reset`` = −R
floor after a fire     SANA-FE skips the floor test in a tick where the neuron fired; here the
                       floor follows the reset, which only matters for a hard reset below −β:
                       the reset value is folded (R < −β → −β, or −R for floor mode 1)
initial_potential      ``bias`` = V0 in the first tick only (SANA-FE has no initial potential)
profile.potential_bits not modelled by SANA-FE (a double that never saturates): a run is refused
                       unless a bound shows no potential can reach ±2^(P−1) in its ticks
                       (:func:`check_unsaturated`)
prng_seed              nothing to map while no stochastic mode is on
output_*, neuron_group not needed: every neuron's spikes are compared, every tick
=====================  =======================================================================

Refused, naming the field (they cannot be mapped onto the truenorth soma): delays other than 1; two
neurons driving one axon (their spikes are ORed here, SANA-FE has no axons to OR them on); external
inputs (``input_index``: the peer runs self-driven networks such as
:func:`neurosim.chip.synthetic.mixed_program`); per-synapse (``ideal``) profiles; and the rest of
the TrueNorth neuron: ``stochastic_synapse`` and ``stochastic_leak`` (SANA-FE has no stochastic
synapse or leak), ``leak_reversal`` (SANA-FE's ``leak_towards_zero`` takes the sign of V *before*
the tick's input, Cassidy et al.'s ε the sign after it), ``threshold_mask_bits`` (SANA-FE's
``random_mask`` draws from C's ``rand()`` and *lowers* the threshold, V + η ≥ α, where TrueNorth
raises it, V ≥ α + η, from a seeded per-core sequence).

Timing: SANA-FE runs with its "simple" timing model (:data:`TIMING_MODEL`; neurosim models no
hardware timing, and "detailed", SANA-FE's default, adds its network-on-chip estimate at about 2×
the run time), both simulators record every spike, and each is timed on its simulation calls only
(network construction excluded), wall and process CPU seconds: SANA-FE one run, neurosim the median
of :data:`NEUROSIM_REPEATS` runs (milliseconds each). Thread counts 1 and 2, the same for both
(SANA-FE's ``processing_threads``, neurosim's ``num_threads``); the 1-thread ratio is the
per-thread comparison.
"""
import contextlib
import importlib.metadata
import io
import os
import time

import numpy as np

from neurosim import _core
from neurosim.chip.synthetic import mixed_program
from neurosim.errors import ValidationError

CORE_COUNTS = (4, 16, 64, 256)
QUICK_CORE_COUNTS = (4, 16)
THREADS = (1, 2)
RESET_MODES = {0: "hard", 1: "soft", 2: "none"}
# SANA-FE's fastest timing model (``SpikingChip.sim(timing_model=...)``: "simple", "detailed" —
# its default — or "cycle"); the spikes do not depend on it, only SANA-FE's run time does.
TIMING_MODEL = "simple"
NEUROSIM_REPEATS = 5   # neurosim's time: the median of 5 runs (SANA-FE's: one run, seconds long)


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
                              "deterministic neuron only (SANA-FE's truenorth soma has no "
                              "equivalent: see neurosim.bench.sanafe_peer)")
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


def potential_bound(program, ticks):
    """Per neuron (C, N) int64, a bound on |V| over ``ticks`` ticks of the deterministic neuron:

        |V| ≤ M + ticks · D,   M = max(|V0|, |R|, β, α),   D = |λ| + Σ_i |c_ij s_j[type_i]|

    over the axons i some enabled neuron drives. By induction on the ticks: integration and leak
    add at most D; a hard reset or a floor sets V to R, −β or −R (|·| ≤ M), a soft reset to
    V − α ∈ [0, V) (it fires only at V ≥ α ≥ 1)."""
    C, A, _ = program.crossbar.shape
    routed = program.enabled & (program.dest_core >= 0)
    driven = np.zeros((C, A), bool)
    driven[program.dest_core[routed], program.dest_axon[routed]] = True
    drive = np.abs(program.leak.astype(np.int64))
    for t in range(program.weights.shape[1]):
        rows = driven & (program.axon_type == t)                                 # (C, A)
        reached = (program.crossbar & rows[:, :, None]).sum(axis=1)              # (C, N)
        drive += reached * np.abs(program.weights[:, t, :].astype(np.int64))
    start = np.maximum.reduce([np.abs(program.initial_potential.astype(np.int64)),
                               np.abs(program.reset_value.astype(np.int64)),
                               program.floor.astype(np.int64),
                               program.threshold.astype(np.int64)])
    return start + int(ticks) * drive


def check_unsaturated(program, ticks):
    """Refuse a run of ``ticks`` ticks in which a potential could reach the profile's saturation
    (±2^(P−1), P = ``potential_bits``): SANA-FE's potential is a double and never saturates, so
    only runs that provably stay inside the register compare like with like."""
    limit = (1 << (program.profile.potential_bits - 1)) - 1
    bound = np.where(program.enabled, potential_bound(program, ticks), 0)
    if bound.max(initial=0) > limit:
        c, n = (int(i) for i in np.unravel_index(np.argmax(bound), bound.shape))
        raise ValidationError(
            f"argument 'ticks' is {ticks}: neuron (core {c}, neuron {n}) could reach the "
            f"{program.profile.potential_bits}-bit potential's saturation (|V| up to "
            f"{bound[c, n]} > {limit}), which SANA-FE does not model; expected fewer ticks",
            param="ticks")


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


def _timed(call):
    """(call(), wall seconds, process CPU seconds)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _sim(chip, ticks, threads):
    """``chip.sim`` for ``ticks`` ticks with the spike trace, its progress line (printed on
    Python's stdout) swallowed so that ``--json`` prints one object; (result, wall s, CPU s)."""
    with contextlib.redirect_stdout(io.StringIO()):
        return _timed(lambda: chip.sim(ticks, timing_model=TIMING_MODEL, spike_trace=True,
                                       processing_threads=threads))


def run(chip, program, offsets, ticks, threads=1):
    """Simulate ``ticks`` ticks on SANA-FE: the first with ``bias`` = V0, then bias 0. Returns
    (record (ticks, C, N) uint8, wall seconds, CPU seconds), both spent in ``SpikingChip.sim``."""
    check_unsaturated(program, ticks)
    record = np.zeros((ticks, program.n_cores, program.n_neurons), np.uint8)
    chip.reset()
    _set_bias(chip, program, offsets, initial=True)
    first, wall, cpu = _sim(chip, 1, threads)
    _set_bias(chip, program, offsets, initial=False)   # V0 is in; no bias from now on
    traces = first["spike_trace"]
    if ticks > 1:
        rest, rest_wall, rest_cpu = _sim(chip, ticks - 1, threads)
        wall, cpu = wall + rest_wall, cpu + rest_cpu
        traces = traces + rest["spike_trace"]
    for t, spikes in enumerate(traces):
        for s in spikes:
            c = int(s.group_name[1:])
            record[t, c, offsets[c][s.neuron_offset]] = 1
    return record, wall, cpu


def _neurosim(program, ticks, threads, repeats=1):
    """neurosim's kernel on the same self-driven program, every spike recorded: (record
    (ticks, C, N) uint8, wall seconds, CPU seconds), the seconds the median of ``repeats`` runs
    (a run takes milliseconds, so one run is at the mercy of the machine's other jobs); every
    repeat must record the same spikes."""
    raster = np.zeros((ticks, 1, 0), np.uint8)
    runs = [_timed(lambda: _core.run_spiking(program, raster, record=True, num_threads=threads))
            for _ in range(repeats)]
    record = runs[0][0]["record"][:, 0]
    if not all(np.array_equal(out["record"][:, 0], record) for out, _, _ in runs):
        raise RuntimeError("neurosim's kernel recorded different spikes in repeated runs")
    return record, float(np.median([r[1] for r in runs])), float(np.median([r[2] for r in runs]))


def first_difference(ours, theirs):
    """(tick, core, neuron) of the first spike the two records disagree on, or None."""
    differ = np.argwhere(ours != theirs)
    return [int(i) for i in differ[0]] if differ.size else None


def compare(program, ticks, threads=THREADS):
    """Run ``program`` for ``ticks`` ticks on neurosim's kernel and on SANA-FE with each thread
    count (the same count for both); spikes compared on every neuron and tick. A dict of
    agreement, spikes, and per thread count both simulators' wall and CPU seconds and the ratios
    SANA-FE / neurosim."""
    sanafe = _import_sanafe()
    check_mappable(program)
    check_unsaturated(program, ticks)
    chip, offsets = build(program, sanafe)
    row = {"cores": program.n_cores, "ticks": ticks, "agree": True, "first_difference": None,
           "load_average": list(os.getloadavg())}
    for n in threads:
        theirs, peer_s, peer_cpu = run(chip, program, offsets, ticks, n)
        ours, ours_s, ours_cpu = _neurosim(program, ticks, n, NEUROSIM_REPEATS)
        same = bool(np.array_equal(ours, theirs))
        row["agree"] &= same
        row["first_difference"] = row["first_difference"] or first_difference(ours, theirs)
        row["spikes"] = int(ours.sum())
        row[f"neurosim_s_{n}thread"], row[f"neurosim_cpu_s_{n}thread"] = ours_s, ours_cpu
        row[f"sanafe_s_{n}thread"], row[f"sanafe_cpu_s_{n}thread"] = peer_s, peer_cpu
        row[f"ratio_{n}thread"] = peer_s / ours_s
        row[f"cpu_ratio_{n}thread"] = peer_cpu / ours_cpu
    return row


def _row_line(row):
    """One printed line of :func:`bench` for one core count."""
    return (f"  {row['cores']:4d} cores: {row['spikes']:,} spikes, identical: {row['agree']}; "
            + "; ".join(f"{n} thread(s): neurosim {row[f'neurosim_s_{n}thread']:.3f} s, "
                        f"SANA-FE {row[f'sanafe_s_{n}thread']:.2f} s, "
                        f"{row[f'ratio_{n}thread']:.0f}x (CPU {row[f'cpu_ratio_{n}thread']:.0f}x)"
                        for n in THREADS)
            + f"; load {row['load_average'][0]:.1f}")


def bench(ticks=None, quick=False, verbose=True):
    """``neurosim bench sim --peer sanafe``: the mixed network (:func:`mixed_program`, seed = its
    core count) at 4, 16, 64 and 256 cores (4 and 16 with ``quick``) on both simulators, 1 and 2
    threads each; spike-for-spike agreement and the speed ratio per thread count."""
    say = print if verbose else (lambda *a, **k: None)
    if ticks is not None and ticks < 1:
        raise ValidationError(f"argument 'ticks' is {ticks}; expected at least 1", param="ticks")
    _import_sanafe()
    ticks = ticks or (20 if quick else 200)
    counts = QUICK_CORE_COUNTS if quick else CORE_COUNTS
    version = importlib.metadata.version("sanafe")
    say(f"neurosim bench sim --peer sanafe: SANA-FE {version} (timing model '{TIMING_MODEL}'), "
        f"mixed network, {ticks} ticks, load average {os.getloadavg()[0]:.1f}")
    rows = []
    for n_cores in counts:
        rows.append(compare(mixed_program(n_cores, seed=n_cores), ticks))
        say(_row_line(rows[-1]))
    return {"peer": "sanafe", "sanafe_version": version, "timing_model": TIMING_MODEL,
            "ticks": ticks, "threads": list(THREADS), "load_average": list(os.getloadavg()),
            "agree": all(r["agree"] for r in rows), "per_cores": rows}
