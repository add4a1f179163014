"""NIR export of a compiled network, and compile of a NIR SNN graph.

Export (``to_nir``): one Affine + IF pair per stage of logical neurons (fan-out copies are
identical and omitted): Affine weight (n_stage, n_source) = the integer synaptic weights g·q,
bias = the integer leak, IF with r = 1, v_threshold = α, v_reset = 0. With
``uniform_threshold=True`` every neuron's weights and leak are divided by its α and the threshold
is 1 (snnTorch-style importers want one threshold): exact under reset by subtraction, since
v/α then follows the same trajectory. The chip resets by subtraction (V ← V − α) and starts at
V_0 = ⌊v_init·α⌋; the graph metadata says so (``neurosim_reset``). A stage whose inputs come from
two stages (a layer with both direct and relayed neurons feeding the next) gets one Affine per
source, both into its IF (NIR sums a node's inputs); the first carries the bias. Otherwise the
graph is a chain, readable by :func:`neurosim.compiler.nir_io.from_graph` as a clipped_relu MLP.

Import (``compile_nir``, ``compile_imported``): :func:`neurosim.compiler.nir_io.from_graph` reads the SNN
graph as a clipped_relu MLP in rate code, which is then compiled; if the graph ends in a spiking
node, the output layer keeps its rates clip(z, 0, 1) (output shift 0, scale 1) instead of the
logit normalisation.
"""
from dataclasses import replace

import numpy as np

from neurosim.compiler import compile as compile_mlp
from neurosim.compiler.partition import main_neurons
from neurosim.compiler.nir_io import RESET_SEMANTICS, from_graph

UNIFORM_NOTE = "weights and leak divided by each neuron's alpha; threshold 1"


def _stage_sources(stages, s, n_in):
    """{source node name: (column of each source unit, width)} feeding stage ``s``."""
    st = stages[s]
    if st.source == "relay":
        return {f"spike{s - 1}": (np.arange(stages[s - 1].n), stages[s - 1].n)}
    if st.source == "input":
        return {"input": (np.arange(n_in), n_in)}
    main = main_neurons(stages, st.layer - 1)
    weights = {}
    for ps in np.unique(main[:, 0]):
        col = np.full(len(main), -1)
        col[main[:, 0] == ps] = main[main[:, 0] == ps, 1]
        weights[f"spike{ps}"] = (col, stages[ps].n)
    return weights


def to_nir(compiled, uniform_threshold=False):
    """The NIR graph of ``compiled`` (module docstring)."""
    import nir  # local for start-up time: nir loads h5py (~0.5 s); only when NIR is used
    stages = compiled.stages
    n_in = compiled.program.n_inputs
    nodes = {"input": nir.Input({"input": np.array([n_in])})}
    edges = []
    for s, st in enumerate(stages):
        weights = _stage_sources(stages, s, n_in)
        rows = np.repeat(np.arange(st.n), np.diff(st.indptr))
        eff = np.repeat(st.g, np.diff(st.indptr)) * st.q
        per_neuron = st.alpha.astype(np.float64) if uniform_threshold else np.ones(st.n)
        for i, (src_node, (col_of_source, width)) in enumerate(weights.items()):
            w = np.zeros((st.n, width), np.float64)
            src_cols = col_of_source[st.src]
            keep = src_cols >= 0
            np.add.at(w, (rows[keep], src_cols[keep]), eff[keep])
            name = f"stage{s}" if len(weights) == 1 else f"stage{s}_from_{src_node}"
            bias = st.leak.astype(np.float64) if i == 0 else np.zeros(st.n)
            nodes[name] = nir.Affine((w / per_neuron[:, None]).astype(np.float32),
                                     (bias / per_neuron).astype(np.float32),
                                     metadata={"layer": st.layer, "kind": st.kind})
            edges += [(src_node, name), (name, f"spike{s}")]
        threshold = np.ones(st.n) if uniform_threshold else st.alpha
        nodes[f"spike{s}"] = nir.IF(r=np.ones(st.n, np.float32),
                                    v_threshold=threshold.astype(np.float32),
                                    v_reset=np.zeros(st.n, np.float32))
    n_out = compiled.program.n_outputs
    nodes["output"] = nir.Output({"output": np.array([n_out])})
    edges.append((f"spike{len(stages) - 1}", "output"))
    meta = {"neurosim_reset": RESET_SEMANTICS, "neurosim_profile": compiled.report["profile"],
            "neurosim_initial_potential": "floor(v_init * alpha), v_init = 0.5 by default"
                                          + (" (divided by alpha)" if uniform_threshold else "")}
    if uniform_threshold:
        meta["neurosim_uniform_threshold"] = UNIFORM_NOTE
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)


def compile_imported(mlp, profile="truenorth", calibration=None, **options):
    """Compile an MLP read from NIR or ONNX. Without calibration data, 1,000 inputs drawn
    uniformly from [0, 1] (seeded by ``options["seed"]``) calibrate the scales; a graph that
    ends in spiking neurons (``provenance["nir_import"]["output"]``) keeps its output rates. The
    NIR import's record (time step, reset per node, expected rate error per node) goes into the
    compile report as ``nir_import``."""
    if calibration is None and not mlp.provenance.get("dataset"):
        rng = np.random.default_rng(options.get("seed", 0))
        calibration = rng.random((1000, mlp.sizes[0]))
    imported = mlp.provenance.get("nir_import")
    if imported is None:
        return compile_mlp(mlp, profile, calibration=calibration, **options)
    if imported.get("output") == "spiking rates":
        options.setdefault("output_shift", 0.0)
        options.setdefault("output_scale", 1.0)
    compiled = compile_mlp(mlp, profile, calibration=calibration, **options)
    report = dict(compiled.report, nir_import=imported)
    program = compiled.program.replace(meta=dict(compiled.program.meta, compiler=report))
    return replace(compiled, program=program, report=report)


def compile_nir(graph, profile="truenorth", calibration=None, where="NIR graph", dt=None,
                **options):
    """Compile a NIR SNN graph (module docstring); ``where`` (the file) prefixes errors."""
    return compile_imported(from_graph(graph, where, dt), profile, calibration, **options)
