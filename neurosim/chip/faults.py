"""FaultState: what is broken at one moment, and ``apply(program, faults)``.

A FaultState is data. Each kind of fault is an integer array of coordinates (one row per fault):

================  ========================================  ==========================================
field             row                                       effect in ``apply``
================  ========================================  ==========================================
dead_neurons      (core, neuron)                            neuron disabled: never leaks, never fires
dead_cores        (core,)                                   every neuron of the core disabled; the core
                                                            is unpowered
stuck_synapses    (core, axon, neuron, value)               crossbar bit forced to value (0 or 1)
weight_flips      (core, row, neuron, bit)                  bit of a weight's sign-magnitude code
                                                            flipped; row is the axon type (typed
                                                            profiles) or the axon (per-synapse weights);
                                                            bits below ``magnitude_bits`` are magnitude,
                                                            bit ``magnitude_bits`` is the sign
threshold_flips   (core, neuron, bit)                       bit of α flipped (a result of 0 becomes 1)
potential_flips   (core, neuron, bit)                       bit of the membrane potential flipped (two's
                                                            complement) at the start of evaluation
routing_flips     (core, neuron, bit)                       bit of the destination flipped: the axon
                                                            bits, then the grid column, then the grid
                                                            row (TrueNorth: 0-7, 8-13, 14-19); a
                                                            destination that is not a used core and
                                                            axon drops the neuron's spikes
================  ========================================  ==========================================

Bit widths (the largest ``bit`` of each kind) come from the core's memory map,
:class:`neurosim.chip.memory.CoreMemory`, which the radiation sampler uses too.

Queries other modules ask of a state: :meth:`FaultState.dead_mask` (which neurons are dead),
:meth:`FaultState.lost_synapses` (stuck-at-0 bits that remove a synapse) and
:attr:`FaultState.crash_only` (only the faults the bounds model).

``apply`` never mutates the pristine program: it returns a new ChipProgram that shares every array
it did not need to change (copy-on-write), so a checkpoint with few faults costs little.
"""
from dataclasses import dataclass, fields

import numpy as np

from neurosim.chip.memory import CoreMemory
from neurosim.errors import ValidationError

_WIDTHS = {"dead_neurons": 2, "dead_cores": 1, "stuck_synapses": 4, "weight_flips": 4,
           "threshold_flips": 3, "potential_flips": 3, "routing_flips": 3}


def _rows(value, width):
    arr = np.asarray(value if value is not None else np.zeros((0, width)), dtype=np.int64)
    return arr.reshape(-1, width)


@dataclass(frozen=True, eq=False)
class FaultState:
    """Faults in force at one moment (see the module docstring)."""

    dead_neurons: np.ndarray = None
    dead_cores: np.ndarray = None
    stuck_synapses: np.ndarray = None
    weight_flips: np.ndarray = None
    threshold_flips: np.ndarray = None
    potential_flips: np.ndarray = None
    routing_flips: np.ndarray = None

    def __post_init__(self):
        for name, width in _WIDTHS.items():
            object.__setattr__(self, name, _rows(getattr(self, name), width))

    def __eq__(self, other):
        return isinstance(other, FaultState) and all(
            np.array_equal(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))

    __hash__ = None

    def __or__(self, other):
        """The union of two fault states (e.g. permanent damage plus live upsets)."""
        return FaultState(**{f.name: np.concatenate([getattr(self, f.name),
                                                     getattr(other, f.name)])
                             for f in fields(self)})

    def counts(self):
        """Number of faults of each kind."""
        return {f.name: int(getattr(self, f.name).shape[0]) for f in fields(self)}

    @property
    def empty(self):
        return not any(self.counts().values())

    def dead_mask(self, shape, used=None):
        """(C, N) bool: neurons listed dead or on a dead core, and'ed with ``used`` (C, N) when
        given (e.g. the neurons that belong to a layer)."""
        mask = np.zeros(shape, bool)
        mask[self.dead_neurons[:, 0], self.dead_neurons[:, 1]] = True
        mask[self.dead_cores[:, 0]] = True
        return mask if used is None else mask & used

    def lost_synapses(self, crossbar):
        """The ``stuck_synapses`` rows (core, axon, neuron, value) that remove a synapse: stuck
        at 0 where the pristine ``crossbar`` (C, A, N) has a 1."""
        s = self.stuck_synapses
        return s[(s[:, 3] == 0) & crossbar[s[:, 0], s[:, 1], s[:, 2]]]

    @property
    def crash_only(self):
        """True when the faults are crashes only: dead neurons and cores, the fault model of the
        bounds [elmhamdi2017fep]. Potential flips are allowed too: they change only the membrane
        potential an evaluation starts from, which rate mode does not read. Stuck synapses and
        weight, threshold or routing flips make it False."""
        return not (self.stuck_synapses.size or self.weight_flips.size
                    or self.threshold_flips.size or self.routing_flips.size)


def _check_coords(name, rows, limits):
    for col, (label, hi) in enumerate(limits):
        if rows.size and (rows[:, col].min() < 0 or rows[:, col].max() > hi):
            bad = int(np.argmax((rows[:, col] < 0) | (rows[:, col] > hi)))
            raise ValidationError(f"fault '{name}' (entry {bad}) has {label} {rows[bad, col]}; "
                                  f"expected 0..{hi} for this program")


def apply(program, faults):
    """Return ``program`` with ``faults`` applied; the input program is never modified."""
    if faults is None or faults.empty:
        return program
    C, A, N = program.crossbar.shape
    typed = program.synapse_weights is None
    memory = CoreMemory.of_program(program)
    bits = memory.field_limits()
    checks = {
        "dead_neurons": [("core", C - 1), ("neuron", N - 1)],
        "dead_cores": [("core", C - 1)],
        "stuck_synapses": [("core", C - 1), ("axon", A - 1), ("neuron", N - 1), ("value", 1)],
        "weight_flips": [("core", C - 1), ("row", memory.weight_rows - 1), ("neuron", N - 1),
                         ("bit", bits["weight"])],
        "threshold_flips": [("core", C - 1), ("neuron", N - 1), ("bit", bits["threshold"])],
        "potential_flips": [("core", C - 1), ("neuron", N - 1), ("bit", bits["potential"])],
        "routing_flips": [("core", C - 1), ("neuron", N - 1), ("bit", bits["routing"])],
    }
    for name, limits in checks.items():
        _check_coords(name, getattr(faults, name), limits)

    changes = {}
    if faults.dead_neurons.size or faults.dead_cores.size:
        changes["enabled"] = program.enabled & ~faults.dead_mask(program.enabled.shape)
    if faults.stuck_synapses.size:
        crossbar = program.crossbar.copy()
        s = faults.stuck_synapses
        crossbar[s[:, 0], s[:, 1], s[:, 2]] = s[:, 3].astype(bool)
        changes["crossbar"] = crossbar
    if faults.weight_flips.size:
        field = "weights" if typed else "synapse_weights"
        changes[field] = _flip_sign_magnitude(getattr(program, field), faults.weight_flips,
                                              memory.magnitude_bits, program.profile.weight_max)
    if faults.threshold_flips.size:
        threshold = program.threshold.copy()
        f = faults.threshold_flips
        np.bitwise_xor.at(threshold, (f[:, 0], f[:, 1]), (1 << f[:, 2]).astype(np.int32))
        threshold = np.clip(threshold, 1, program.profile.threshold_max).astype(np.int32)
        changes["threshold"] = threshold
    if faults.potential_flips.size:
        changes["initial_potential"] = _flip_twos_complement(
            program.initial_potential, faults.potential_flips, memory.potential_bits)
    if faults.routing_flips.size:
        changes.update(_flip_routing(program, faults.routing_flips))
    return program.replace(**changes)


def _flip_twos_complement(values, flips, width):
    """Flip bits of ``width``-bit two's-complement registers (rows (core, neuron, bit)).

    A value v is held as u = v mod 2^width; after the flips, u ≥ 2^(width−1) reads back as
    u − 2^width, so flipping the top (sign) bit of a 20-bit potential V = 5 gives 5 − 2^19."""
    u = values.astype(np.int64) & ((1 << width) - 1)
    np.bitwise_xor.at(u, (flips[:, 0], flips[:, 1]), np.int64(1) << flips[:, 2])
    return np.where(u >= 1 << (width - 1), u - (1 << width), u).astype(values.dtype)


def _flip_sign_magnitude(weights, flips, magnitude_bits, weight_max):
    """Flip bits of sign-magnitude weight codes; bit ``magnitude_bits`` is the sign."""
    out = weights.copy()
    # apply flips one at a time so that two flips of one weight compose
    for k in range(flips.shape[0]):
        c, r, n, bit = (int(x) for x in flips[k])
        w = int(out[c, r, n])
        sign, mag = (w < 0), abs(w)
        if bit == magnitude_bits:
            sign = not sign
        else:
            mag ^= 1 << bit
        mag = min(mag, weight_max)
        out[c, r, n] = -mag if sign else mag
    return out


def _flip_routing(program, flips):
    """Flip destination bits; a destination that is no used core/axon drops the spikes."""
    profile = program.profile
    A = program.crossbar.shape[1]
    memory = CoreMemory.of_program(program)
    dest_core = program.dest_core.copy()
    dest_axon = program.dest_axon.copy()
    pos_to_core = {(r, c): i for i, (r, c) in enumerate(program.core_xy.tolist())}
    for c, n, bit in flips:
        c, n, bit = int(c), int(n), int(bit)
        if dest_core[c, n] < 0:
            continue  # no route to corrupt (output or unused neuron)
        row, col = (int(x) for x in program.core_xy[dest_core[c, n]])
        axon = int(dest_axon[c, n])
        axon, col, row = (int(x) for x in memory.flip_destination(axon, col, row, bit))
        target = pos_to_core.get((row, col))
        if target is None or axon >= A or row >= profile.grid_rows or col >= profile.grid_cols:
            dest_core[c, n] = -1
        else:
            dest_core[c, n] = target
            dest_axon[c, n] = axon
    return {"dest_core": dest_core, "dest_axon": dest_axon}
