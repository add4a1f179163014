"""The compiler: a trained MLP → a placed ChipProgram, the way IBM's toolchain put nets on TrueNorth.

``compile(mlp, profile, **options) -> Compiled``; the stages, one module each:

1. :mod:`.normalise` — per-layer percentile scales λ_l, rates in [0, 1], biases as leak, the
   output layer shifted so the winner fires;
2. :mod:`.quantise` — integer weights, threshold α and leak per neuron, α chosen to minimise the
   squared error;
3. :mod:`.encode` — weight levels as crossbar bits on typed axons (trinary, bitplane, direct);
4. :mod:`.partition` — direct neurons, relay pairs for fan-in beyond a core, next-fit packing with
   fan-out copies; :mod:`.assemble` turns the packing into ChipProgram arrays;
5. :mod:`.place` — cores on the grid by simulated annealing on the spike traffic;
6. :mod:`.report` — the compile report and the unit map that takes chip neurons back to MLP units;
   :mod:`.nir` — NIR export of the compiled graph and compile of a NIR SNN graph.

Mapping back: the program's unit map (:mod:`neurosim.chip.program`; layer l indexes
``mlp.layers``): ``unit_layer`` / ``unit_index`` / ``unit_role`` say which unit j of which layer
each (core, neuron) computes, as its main neuron, a fan-out copy (identical to the main one) or a
member of a relay pair, if the unit was split; ``layer_scale`` is λ_l (rate 1 stands for
activation λ_l) and ``layer_shift`` s for the output layer. ``program.unit_neurons(l)`` and
``program.unit_relays(l)`` list them per unit. ``program.neuron_group`` holds the same layer
index for every neuron (relays and copies included), −1 for unused slots.
"""
from dataclasses import dataclass

import numpy as np
import scipy.sparse

from neurosim import data
from neurosim.chip.profile import get_profile
from neurosim.compiler import place as placement
from neurosim.compiler.assemble import assemble
from neurosim.compiler.encode import get_encoding
from neurosim.compiler.normalise import normalise, rate_forward
from neurosim.compiler.partition import build_stages, main_neurons
from neurosim.compiler.report import make_report, unit_map
from neurosim.errors import ValidationError

__all__ = ["compile", "Compiled", "calibration_inputs"]


@dataclass(frozen=True, eq=False)
class Compiled:
    """program: the placed ChipProgram; report: the compile report (dict); layers: the
    normalised float layers; stages: the quantised logical neurons (see :mod:`.partition`)."""

    program: object
    report: dict
    layers: list
    stages: list

    def stage_rates(self, x):
        """Output rates (B, K) of the quantised logical network evaluated in float64, without
        the chip: r = clip(Σ ρ g q / α + leak / α, 0, 1) stage by stage. Rate-mode simulation of
        ``program`` must give the same numbers (routing, copies and placement change nothing)."""
        return stage_rates(self.stages, len(self.layers), x)[1]


def stage_rates(stages, n_layers, x):
    """(rates of every stage's logical neurons, output rates) — see Compiled.stage_rates."""
    main = np.asarray(x, dtype=np.float64)
    rates = {}
    for layer in range(n_layers):
        for s, st in enumerate(stages):
            if st.layer != layer:
                continue
            inp = rates[s - 1] if st.source == "relay" else main
            eff = np.repeat(st.g / st.alpha, np.diff(st.indptr)) * st.q
            M = scipy.sparse.csr_matrix((eff, st.src, st.indptr), shape=(st.n, inp.shape[1]))
            rates[s] = np.clip(np.asarray(M @ inp.T).T + st.leak / st.alpha, 0.0, 1.0)
        main = np.stack([rates[s][:, u] for s, u in main_neurons(stages, layer)], axis=1)
    return [rates[s] for s in range(len(stages))], main


def calibration_inputs(mlp, calibration, samples=1000, seed=0):
    """Calibration rates: an array, a dataset name, or None (the model's provenance dataset)."""
    if calibration is None or isinstance(calibration, str):
        name = calibration or mlp.provenance.get("dataset")
        if not name:
            raise ValidationError("no calibration data: pass calibration= (an array or a "
                                  "dataset name); the model's provenance names no dataset")
        calibration = data.load(name)[0]
    x = np.asarray(calibration, dtype=np.float64)
    if len(x) > samples:
        x = x[np.sort(np.random.default_rng(seed).choice(len(x), samples, replace=False))]
    return x


def compile(mlp, profile="truenorth", weight_encoding="bitplane", bits=4, calibration=None,
            percentile=99.9, relays=True, blocked=None, seed=0, v_init=0.5, floor=1.0,
            output_shift=None, output_scale=None, max_axons=None, max_neurons=None,
            calibration_samples=1000, anneal=True):
    """Compile ``mlp`` for ``profile``; see the module docstring and each stage's module.

    ``max_axons`` / ``max_neurons`` shrink the cores below the profile's size (tests, studies);
    ``blocked`` lists grid positions (row, col) that placement must avoid.
    """
    profile = get_profile(profile)
    x = calibration_inputs(mlp, calibration, calibration_samples, seed)
    layers = normalise(mlp, x, percentile, output_shift, output_scale)
    entering = [x] + rate_forward(layers, x)[:-1]
    encoding = get_encoding(weight_encoding, profile, bits)
    sum_encoding = get_encoding("trinary", profile)
    axons = min(profile.axons_per_core, max_axons or profile.axons_per_core)
    neurons = min(profile.neurons_per_core, max_neurons or profile.neurons_per_core)
    stages = build_stages(layers, entering, encoding, sum_encoding, profile, axons,
                          percentile, relays)
    program, table, demand, offsets = assemble(stages, profile, axons, neurons, mlp.sizes[0],
                                               v_init, floor)
    # traffic for placement: mean logical-neuron rates, shared by every copy
    neuron_rates = np.zeros(program.enabled.shape)
    for st_rates, (core_of, slot_of), d in zip(stage_rates(stages, len(layers), x)[0], table,
                                               demand):
        copy = np.arange(d.sum()) - np.repeat(np.cumsum(d) - d, d)
        neuron_rates[np.repeat(core_of, d), np.repeat(slot_of, d) + copy] = np.repeat(
            st_rates.mean(axis=0), d)
    edges = placement.traffic(program, neuron_rates)
    naive = placement.rowmajor(program.n_cores, profile, blocked)
    xy = placement.place(edges, program.n_cores, profile, blocked, seed, anneal=anneal)
    report = make_report(program, stages, demand, encoding, profile, axons,
                         placement.hop_cost(edges, xy), placement.hop_cost(edges, naive))
    meta = {"compiler": report, "mlp_sizes": mlp.sizes}
    program = program.replace(core_xy=xy.astype(np.int32), meta=meta,
                              **unit_map(stages, table, demand, layers, program.enabled.shape))
    return Compiled(program, report, layers, stages)
