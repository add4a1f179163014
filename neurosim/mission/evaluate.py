"""Per-run work of a mission: draw a run's fault timeline and evaluate every checkpoint.

Run r draws its fault timeline (:mod:`neurosim.radiation.timeline`) with the generator
``default_rng(SeedSequence(seed).spawn(R)[r])`` — built directly as ``SeedSequence(seed,
spawn_key=(r,))``, which is the same sequence — so results do not depend on the executor, the
number of workers or the batching. At every checkpoint the FaultState in force is evaluated on the
evaluation set (rate mode: :class:`~neurosim.sim.incremental.FastRate`; spiking mode:
:class:`~neurosim.mission.spiking.SpikingCheckpoints`, the tick kernel on the inputs the faults can
change). A checkpoint whose FaultState (and core placement) is the previous one's reuses its
result; so does one whose *effective* faults (:func:`effective_key`: faults of unused neurons,
stuck bits equal to the program's and routes of neurons without one dropped; potential flips in
rate mode, which does not read potentials) equal those of an earlier checkpoint of the run.

Per checkpoint (:class:`CheckpointStats`): accuracy; output error against the fault-free chip per
input, ω(x) = ‖F_fail(x) − F(x)‖∞ on output rates (mean and max over the inputs); dead neurons
and lost synapses (crossbar bits 1 → 0) per MLP layer; dead chip neurons per level of the
chip-level bound model (:func:`neurosim.bounds.chip_model`) and its ``erf`` and ``fep``; the
MLP-unit view's ``erf_units`` and ``fep_units`` (:func:`neurosim.bounds.chip_bounds` with each
hidden layer's dead fraction, for comparing with the MLP before compilation); crash-only (the only
faults are dead neurons and cores); power (mW) from :func:`neurosim.energy.checkpoint_power` on the
faulty program's counters (TMR replicas counted, latched cores at the latch-up draw) at the dose
accumulated by then (static power rises with dose, :func:`neurosim.radiation.damage.leakage_factor`)
and without the cores isolated after destructive latch-ups. Power is recomputed at every
checkpoint (the dose grows) from the counters of the last evaluated FaultState.
Per run: availability (share of the mission the chip answers, latch-up reloads and SEFI resets).
"""
from dataclasses import dataclass

import numpy as np

from neurosim import energy as pw
from neurosim.bounds import chip_bounds
from neurosim.chip.faults import FaultState
from neurosim.mission.results import POWER_COMPONENTS, empty_results
from neurosim.mission.spiking import SpikingCheckpoints
from neurosim.radiation.timeline import DAYS_PER_YEAR, sample

_MODEL = None      # the MissionModel of this worker process (set by set_worker_model)
NO_FAULTS = FaultState()


def set_worker_model(model):
    """Keep ``model`` for :func:`run_batch` calls without one (process-pool workers)."""
    global _MODEL
    _MODEL = model


@dataclass
class CheckpointStats:
    """What one checkpoint evaluation records (one row of the runs.npz arrays)."""

    accuracy: float
    error_mean: float
    error_max: float
    dead_neurons: np.ndarray          # (G,) per MLP layer
    dead_synapses: np.ndarray         # (G,) crossbar bits 1 → 0 per MLP layer
    dead_per_level: np.ndarray        # (L,) dead chip neurons per bound-model level
    erf: float                        # chip-level bound model (NaN without one)
    fep: float
    erf_units: float                  # MLP-unit view (NaN without one)
    fep_units: float
    power_mw: float
    crash_only: bool
    power_breakdown_mw: list          # one per POWER_COMPONENTS
    core_dead_neurons: np.ndarray     # (C,)

    def store(self, out, i, k):
        """Write this checkpoint into row (run i, checkpoint k) of the result arrays ``out``."""
        for name, value in vars(self).items():
            out[name][i, k] = value


def lost_synapses(model, fs):
    """(G,) crossbar bits 1 → 0 (:meth:`FaultState.lost_synapses`) per MLP layer."""
    lost = fs.lost_synapses(model.program.crossbar)
    G = model.n_layers
    return np.bincount(model.layer_of_neuron[lost[:, 0], lost[:, 2]], minlength=G)[:G] \
        if lost.size else np.zeros(G, np.int64)


def unit_bounds(model, mask):
    """(erf_units, fep_units) of the MLP-unit view at each hidden layer's dead fraction."""
    if not model.constants:
        return np.nan, np.nan
    n_hidden = len(model.hidden_level_sizes)
    dl = np.bincount(model.level_of_neuron[mask], minlength=n_hidden + 1)
    frac = dl[:n_hidden] / model.hidden_level_sizes
    return chip_bounds(model.constants, np.minimum(frac, 1.0))


def level_bounds(model, fs):
    """(dead per level, erf, fep) of the chip-level bound model; zeros/NaN without one. The
    bounds depend on the dead counts only, so each count vector is computed once per process
    (``model.bounds_cache``: a run's counts repeat from checkpoint to checkpoint)."""
    bm = model.bound_model
    if bm is None:
        return np.zeros(model.n_levels, np.int64), np.nan, np.nan
    counts = bm.dead_counts(fs)
    key = counts.tobytes()
    if key not in model.bounds_cache:
        erf, fep = bm.bounds(counts)
        model.bounds_cache[key] = (float(erf), float(fep))
    return (counts, *model.bounds_cache[key])


def effective_key(model, fs, core_xy):
    """Bytes that are equal for two checkpoints whose faults act the same on the program: the
    FaultState without faults of unused neurons, stuck bits equal to the program's bit and
    routing flips of neurons without a route (and without potential flips in rate mode), plus
    the core placement."""
    p = model.program
    en = p.enabled
    s = fs.stuck_synapses
    r = fs.routing_flips
    kept = [fs.dead_neurons[en[fs.dead_neurons[:, 0], fs.dead_neurons[:, 1]]],
            fs.dead_cores[en[fs.dead_cores[:, 0]].any(axis=1)],
            s[en[s[:, 0], s[:, 2]] & (p.crossbar[s[:, 0], s[:, 1], s[:, 2]] != s[:, 3])],
            fs.weight_flips[en[fs.weight_flips[:, 0], fs.weight_flips[:, 2]]],
            fs.threshold_flips[en[fs.threshold_flips[:, 0], fs.threshold_flips[:, 1]]],
            r[en[r[:, 0], r[:, 1]] & (p.dest_core[r[:, 0], r[:, 1]] >= 0)]]
    if model.values["run"]["mode"] == "spiking":
        q = fs.potential_flips
        kept.append(q[en[q[:, 0], q[:, 1]]])
    parts = [np.asarray(a.shape, np.int64).tobytes() + a.tobytes() for a in kept]
    return b"|".join(parts) + (b"" if core_xy is None else np.asarray(core_xy).tobytes())


def spiking_evaluator(model):
    """The spiking-mode evaluator of this process (built on first use: its fault-free spike
    record stays in the worker)."""
    if model.spiking is None:
        model.spiking = SpikingCheckpoints(model.program, model.x, model.values["run"]["ticks"])
    return model.spiking


def evaluate_faults(model, fs, core_xy, cache):
    """FastResult of the FaultState ``fs`` (cores at ``core_xy`` if moved, else None), from
    ``cache`` (effective key → result, one run's; under None the key of no faults) when an
    equivalent state was evaluated."""
    key = effective_key(model, fs, core_xy)
    if key not in cache:
        if None not in cache:
            cache[None] = effective_key(model, NO_FAULTS, None)
        if core_xy is None and key == cache[None]:
            fs = NO_FAULTS                       # only faults that change nothing
        if model.values["run"]["mode"] == "spiking":
            cache[key] = spiking_evaluator(model).evaluate(fs, core_xy)
        else:
            cache[key] = model.evaluator.evaluate(fs, core_xy)
    return cache[key]


def evaluate_checkpoint(model, fs, core_xy, multiplicity, cache=None):
    """(CheckpointStats of the FaultState ``fs``, its counters) — cores at ``core_xy`` if moved,
    else None; the power fields are filled by :func:`set_power` per checkpoint."""
    ticks = model.values["run"]["ticks"]
    res = evaluate_faults(model, fs, core_xy, {} if cache is None else cache)
    o = res.out
    err = np.abs(o - model.evaluator.base_out).max(axis=1)
    mask = fs.dead_mask(model.layer_of_neuron.shape, model.layer_of_neuron >= 0)
    G = model.n_layers
    e_units, f_units = unit_bounds(model, mask)
    per_level, e_rf, f_ep = level_bounds(model, fs)
    counters = res.counters(ticks, len(model.x), multiplicity)
    return CheckpointStats(
        accuracy=np.count_nonzero(np.argmax(o, axis=1) == model.y) / len(model.y),
        error_mean=float(err.mean()), error_max=float(err.max()),
        dead_neurons=np.bincount(model.layer_of_neuron[mask], minlength=G)[:G],
        dead_synapses=lost_synapses(model, fs), dead_per_level=per_level, erf=e_rf, fep=f_ep,
        erf_units=e_units, fep_units=f_units, power_mw=np.nan, crash_only=fs.crash_only,
        power_breakdown_mw=[np.nan] * len(POWER_COMPONENTS),
        core_dead_neurons=mask.sum(axis=1)), counters


def set_power(model, stats, counters, tl, k):
    """Fill ``stats``' power at checkpoint k: ``counters`` with the run's latched cores, the dose
    D(t_k) and the cores isolated by then (:func:`neurosim.energy.checkpoint_power`)."""
    prep = pw.checkpoint_power(counters, model.power_profile, model.tick_ms,
                               model.inference_rate_hz, int(tl.stats["latched_cores"][k]),
                               dose_krad=float(tl.stats["dose_krad"][k]),
                               isolated_cores=int(tl.stats["isolated_cores"][k]))
    stats.power_mw = prep.power_mw
    stats.power_breakdown_mw = [prep.breakdown[c] for c in POWER_COMPONENTS]


def unchanged(tl, k):
    """Checkpoint k has the FaultState, placement and multiplicity of k − 1 (power, which also
    depends on the dose and latch-ups, is recomputed anyway)."""
    return k > 0 and tl.faults[k] is tl.faults[k - 1] and np.array_equal(
        tl.core_xy[k], tl.core_xy[k - 1]) and np.array_equal(
        tl.core_multiplicity[k], tl.core_multiplicity[k - 1])


def run_batch(start, stop, model=None):
    """Runs start..stop−1 of the mission; returns a dict of arrays with leading axis = runs
    (:func:`neurosim.mission.results.empty_results`)."""
    model = model if model is not None else _MODEL
    v = model.values
    seed = v["run"]["seed"]
    times = model.times_days
    ev = model.evaluator
    out = empty_results(stop - start, len(times), model.n_layers, model.program.n_cores,
                        model.n_levels, start)
    approx0 = ev.approximated
    for i, r in enumerate(range(start, stop)):
        cache = {}
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(r,)))
        tl = sample(v, model.layout, times, rng)
        out["solar_events"][i] = tl.solar_events
        out["availability"][i] = tl.availability
        stats = None
        for k in range(len(times)):
            if stats is None or not unchanged(tl, k):
                moved = not np.array_equal(tl.core_xy[k], model.layout.core_xy)
                stats, counters = evaluate_checkpoint(
                    model, tl.faults[k], tl.core_xy[k] if moved else None,
                    tl.core_multiplicity[k], cache)
                out["evaluated"][i, k] = True
            set_power(model, stats, counters, tl, k)
            stats.store(out, i, k)
        for key in ("dead_cores", "live_upsets", "upsets", "spares_used", "latched_cores",
                    "isolated_cores", "power_cycles"):
            out[key][i] = tl.stats[key]
        t_years = np.concatenate([[0.0], times / DAYS_PER_YEAR])
        p_series = np.concatenate([[model.base_power_mw], out["power_mw"][i].astype(np.float64)])
        out["energy_wh"][i] = pw.mission_energy_wh(t_years, p_series)
    out["approximated"] = np.array([ev.approximated - approx0])
    return out
