"""Discrete-time update rules of snnTorch, Norse and sinabs, written from their documented
equations (not from neurosim's code), and NIR graphs built the way each framework exports them.

snnTorch ``Leaky`` (reset_mechanism="subtract", the default; snntorch/_neurons/leaky.py):
    reset = H(U[t-1] − θ);  U[t] = β U[t-1] + I[t] − reset·θ;  S[t] = H(U[t] − θ)
snnTorch ``Synaptic``: syn[t] = α syn[t-1] + I[t]; U[t] = β U[t-1] + syn[t] − reset·θ.
Export (snntorch/export_nir.py): dt = 1e-4, τ = dt/(1−β), r = τ/dt, v_leak = 0,
    CubaLIF also τ_syn = dt/(1−α), w_in = τ_syn/dt.
Norse, reading a NIR graph (norse/torch/utils/import_nir.py, dt = 1e-3 by default): LIF →
``LIFBoxCell``: v ← v + dt/τ (v_leak − v + I); z = H(v − θ); v ← v_reset where z (reset to value);
CubaLIF → w_in·S into a leaky integrator I ← I + dt/τ_syn (−I + w_in S), then r·I into LIFBox.
Export (norse/torch/utils/export_nir.py): τ = 1/tau_mem_inv, r = 1, w_in = 1.
sinabs ``IAF`` (sinabs/layers/iaf.py; MultiSpike, MembraneSubtract, min_v_mem = −θ on import):
    v ← v + I;  s = ⌊v/θ⌋ if v ≥ θ else 0;  v ← v − s θ;  v ← max(v, −θ).
Export (sinabs/nir.py): IF(r = 1, v_threshold = θ), v_reset defaults to 0.

H(x) = 1 if x > 0. Inputs are constant currents x ∈ [0, 1] every step (direct encoding); the
prediction is the output neuron with the most spikes (ties: lowest index).
"""
import nir
import numpy as np


def run_chain(layers, neuron_step, x, steps):
    """Spike counts of the last layer: ``layers`` = [(W (out, in), b, params)], every layer
    followed by the neuron rule ``neuron_step(state, current, params) -> (state, spikes)``."""
    states = [None] * len(layers)
    counts = 0
    for _ in range(steps):
        s = x
        for i, (w, b, p) in enumerate(layers):
            states[i], s = neuron_step(states[i], s @ w.T + b, p)
        counts = counts + s
    return counts


def snntorch_leaky(state, current, p):
    u = np.zeros_like(current) if state is None else state
    reset = (u > p["theta"]).astype(float)
    u = p["beta"] * u + current - reset * p["theta"]
    return u, (u > p["theta"]).astype(float)


def snntorch_synaptic(state, current, p):
    syn, u = (np.zeros_like(current),) * 2 if state is None else state
    reset = (u > p["theta"]).astype(float)
    syn = p["alpha"] * syn + current
    u = p["beta"] * u + syn - reset * p["theta"]
    return (syn, u), (u > p["theta"]).astype(float)


def norse_lif_box(state, current, p):
    v = np.zeros_like(current) if state is None else state
    v = v + p["dt"] / p["tau"] * (p["v_leak"] - v + current)
    z = (v > p["theta"]).astype(float)
    return np.where(z > 0, 0.0, v), z


def norse_cuba(state, current, p):
    i, v = (np.zeros_like(current),) * 2 if state is None else state
    i = i + p["dt"] / p["tau_syn"] * (-i + p["w_in"] * current)
    v, z = norse_lif_box(v if state is not None else None, p["r"] * i,
                         dict(p, tau=p["tau_mem"]))
    return (i, v), z


def sinabs_iaf(state, current, p):
    v = (np.zeros_like(current) if state is None else state) + current
    s = np.where(v >= p["theta"], np.floor(v / p["theta"]), 0.0)
    v = np.maximum(v - s * p["theta"], -p["theta"])
    return v, s


def framework_graph(style, weights, n):
    """A NIR graph of Affine layers ``weights`` [(W (out, in), b)], each followed by the neuron
    node ``style`` exports (parameters in ``n``: theta, beta, alpha, v_leak, tau, tau_syn)."""
    nodes = {"input": nir.Input({"input": np.array([weights[0][0].shape[1]])})}
    edges, prev = [], "input"
    for i, (w, b) in enumerate(weights):
        size = w.shape[0]
        ones = np.ones(size)
        nodes[f"fc{i}"] = nir.Affine(w.astype(np.float32), b.astype(np.float32))
        nodes[f"lif{i}"] = _neuron(style, n, ones)
        edges += [(prev, f"fc{i}"), (f"fc{i}", f"lif{i}")]
        prev = f"lif{i}"
    nodes["output"] = nir.Output({"output": np.array([weights[-1][0].shape[0]])})
    return nir.NIRGraph(nodes=nodes, edges=edges + [(prev, "output")])


def _neuron(style, n, ones):
    theta = n["theta"] * ones
    if style == "snntorch_leaky":
        tau = 1e-4 / (1 - n["beta"]) * ones
        return nir.LIF(tau=tau, r=tau / 1e-4, v_leak=0 * ones, v_threshold=theta)
    if style == "snntorch_synaptic":
        tau_syn, tau = 1e-4 / (1 - n["alpha"]) * ones, 1e-4 / (1 - n["beta"]) * ones
        return nir.CubaLIF(tau_syn=tau_syn, tau_mem=tau, r=tau / 1e-4, v_leak=0 * ones,
                           v_threshold=theta, w_in=tau_syn / 1e-4)
    if style == "norse_lif":
        return nir.LIF(tau=n["tau"] * ones, r=ones, v_leak=n["v_leak"] * ones, v_threshold=theta,
                       v_reset=0 * ones)
    if style == "norse_cuba":
        return nir.CubaLIF(tau_syn=n["tau_syn"] * ones, tau_mem=n["tau"] * ones, r=ones,
                           v_leak=n["v_leak"] * ones, v_threshold=theta, v_reset=0 * ones,
                           w_in=ones)
    return nir.IF(r=ones, v_threshold=theta)  # sinabs


def framework_counts(style, weights, n, x, steps):
    """Output spike counts of the graph under the framework's own update rule."""
    if style == "snntorch_leaky":
        rule, p = snntorch_leaky, {"beta": n["beta"], "theta": n["theta"]}
    elif style == "snntorch_synaptic":
        rule, p = snntorch_synaptic, {"alpha": n["alpha"], "beta": n["beta"], "theta": n["theta"]}
    elif style == "norse_lif":
        rule, p = norse_lif_box, {"dt": 1e-3, "tau": n["tau"], "v_leak": n["v_leak"],
                                  "theta": n["theta"]}
    elif style == "norse_cuba":
        rule, p = norse_cuba, {"dt": 1e-3, "tau_syn": n["tau_syn"], "tau_mem": n["tau"], "r": 1.0,
                               "w_in": 1.0, "v_leak": n["v_leak"], "theta": n["theta"]}
    else:
        rule, p = sinabs_iaf, {"theta": n["theta"]}
    return run_chain([(w, b, p) for w, b in weights], rule, x, steps)
