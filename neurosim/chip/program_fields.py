"""The fields of a :class:`~neurosim.chip.program.ChipProgram`: each array's dtype and shape (the
module docstring of :mod:`neurosim.chip.program` gives their meaning), grouped as the file format
versions added them, and the unit roles of the unit map."""
import numpy as np

# name -> (dtype, shape spec); shape letters: C cores, A axons, N neurons, T types, M, K
ARRAY_FIELDS = {
    "crossbar": (np.bool_, "CAN"),
    "axon_type": (np.uint8, "CA"),
    "weights": (np.int32, "CTN"),
    "leak": (np.int32, "CN"),
    "threshold": (np.int32, "CN"),
    "floor": (np.int32, "CN"),
    "reset_mode": (np.uint8, "CN"),
    "reset_value": (np.int32, "CN"),
    "floor_mode": (np.uint8, "CN"),
    "initial_potential": (np.int32, "CN"),
    "enabled": (np.bool_, "CN"),
    "dest_core": (np.int32, "CN"),
    "dest_axon": (np.int32, "CN"),
    "dest_delay": (np.uint8, "CN"),
    "core_xy": (np.int32, "C2"),
    "input_index": (np.int32, "M"),
    "input_core": (np.int32, "M"),
    "input_axon": (np.int32, "M"),
    "output_core": (np.int32, "K"),
    "output_neuron": (np.int32, "K"),
    "neuron_group": (np.int16, "CN"),
}
OPTIONAL_FIELDS = {"synapse_weights": (np.int32, "CAN")}
# the rest of the TrueNorth neuron (format version 2): name -> (dtype, shape spec)
NEURON_EXTENSIONS = {
    "stochastic_synapse": (np.bool_, "CTN"),
    "stochastic_leak": (np.bool_, "CN"),
    "leak_reversal": (np.bool_, "CN"),
    "threshold_mask_bits": (np.uint8, "CN"),
    "prng_seed": (np.uint32, "C"),
}
# the unit map (format version 3): name -> (dtype, shape spec); L: MLP layers
UNIT_MAP_FIELDS = {
    "unit_layer": (np.int16, "CN"),
    "unit_index": (np.int32, "CN"),
    "unit_role": (np.int8, "CN"),
    "layer_size": (np.int32, "L"),
    "layer_scale": (np.float64, "L"),
    "layer_shift": (np.float64, "L"),
}
ROLE_NONE, ROLE_UNIT, ROLE_COPY, ROLE_RELAY_POS, ROLE_RELAY_NEG = -1, 0, 1, 2, 3
MAX_THRESHOLD_MASK_BITS = 30  # α + η stays below 2^31 for every profile's α ≤ 2^30


def extension_default(name, shape):
    """The default of a neuron extension field: the deterministic neuron, seed = core index."""
    if name == "prng_seed":
        return np.arange(shape[0], dtype=np.uint32)
    return np.zeros(shape, NEURON_EXTENSIONS[name][0])
