"""NIR export of a compiled network, and compile of a NIR SNN graph.

Export (``to_nir``): one Affine + IF pair per stage of logical neurons (fan-out copies are
identical and omitted): Affine weight (n_stage, n_source) = the integer synaptic weights g·q,
bias = the integer leak, IF with r = 1, v_threshold = α, v_reset = 0. The chip resets by
subtraction (V ← V − α) and starts at V_0 = ⌊v_init·α⌋; the graph metadata says so
(``neurosim_reset``), as NIR's IF would reset to v_reset. A stage whose inputs come from two
stages (a layer with both direct and relayed neurons feeding the next) gets one Affine per source,
both into its IF (NIR sums a node's inputs); the first carries the bias. Otherwise the graph is a
chain, readable by :func:`neurosim.nir_io.from_graph` as a clipped_relu MLP with gain 1/α.

Import (``compile_nir``): :func:`neurosim.nir_io.from_graph` reads the SNN graph as a clipped_relu
MLP (gain r/v_threshold folded into the weights, exact for IF with reset by subtraction), which
is then compiled; if the graph ends in a spiking node, the output layer keeps its rates
clip(z, 0, 1) (output shift 0, scale 1) instead of the logit normalisation.
"""
import numpy as np

from neurosim.compiler.partition import main_neurons
from neurosim.nir_io import RESET_SEMANTICS, SPIKING, _chain, from_graph


def to_nir(compiled):
    """The NIR graph of ``compiled`` (module docstring)."""
    import nir
    stages = compiled.stages
    n_in = compiled.program.n_inputs
    nodes = {"input": nir.Input({"input": np.array([n_in])})}
    edges = []
    for s, st in enumerate(stages):
        weights = {}
        if st.source == "relay":
            weights[f"spike{s - 1}"] = (np.arange(stages[s - 1].n), stages[s - 1].n)
        elif st.source == "input":
            weights["input"] = (np.arange(n_in), n_in)
        else:
            main = main_neurons(stages, st.layer - 1)
            for ps in np.unique(main[:, 0]):
                col = np.full(len(main), -1)
                col[main[:, 0] == ps] = main[main[:, 0] == ps, 1]
                weights[f"spike{ps}"] = (col, stages[ps].n)
        rows = np.repeat(np.arange(st.n), np.diff(st.indptr))
        eff = np.repeat(st.g, np.diff(st.indptr)) * st.q
        for i, (src_node, (col_of_source, width)) in enumerate(weights.items()):
            w = np.zeros((st.n, width), np.float32)
            src_cols = col_of_source[st.src]
            keep = src_cols >= 0
            np.add.at(w, (rows[keep], src_cols[keep]), eff[keep])
            name = f"stage{s}" if len(weights) == 1 else f"stage{s}_from_{src_node}"
            bias = st.leak.astype(np.float32) if i == 0 else np.zeros(st.n, np.float32)
            nodes[name] = nir.Affine(w, bias, metadata={"layer": st.layer, "kind": st.kind})
            edges += [(src_node, name), (name, f"spike{s}")]
        nodes[f"spike{s}"] = nir.IF(r=np.ones(st.n, np.float32),
                                    v_threshold=st.alpha.astype(np.float32),
                                    v_reset=np.zeros(st.n, np.float32))
    n_out = compiled.program.n_outputs
    nodes["output"] = nir.Output({"output": np.array([n_out])})
    edges.append((f"spike{len(stages) - 1}", "output"))
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={
        "neurosim_reset": RESET_SEMANTICS, "neurosim_profile": compiled.report["profile"],
        "neurosim_initial_potential": "floor(v_init * v_threshold), v_init = 0.5 by default"})


def compile_nir(graph, profile="truenorth", calibration=None, where="NIR graph", **options):
    """Compile a NIR SNN graph (module docstring). Without calibration data, 1,000 inputs drawn
    uniformly from [0, 1] (seeded) calibrate the relay scales. ``where`` (the file) prefixes
    error messages."""
    from neurosim.compiler import compile as compile_mlp
    mlp = from_graph(graph, where)
    if calibration is None:
        rng = np.random.default_rng(options.get("seed", 0))
        calibration = rng.random((1000, mlp.sizes[0]))
    order = _chain(graph, where)
    if type(graph.nodes[order[-1]]).__name__ in SPIKING:
        options.setdefault("output_shift", 0.0)
        options.setdefault("output_scale", 1.0)
    return compile_mlp(mlp, profile, calibration=calibration, **options)
