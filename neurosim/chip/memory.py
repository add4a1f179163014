"""The memory map of one core: which bit holds what, derived from the ChipProfile.

The radiation sampler draws upsets at uniform bit positions of a memory class; ``faults.apply``
turns a flipped bit back into a change of the program. Both read the layout from here.

Memory classes and their fields (A axons and N neurons of the program's cores; R weight rows = the
profile's axon types with typed weights, A with one weight per synapse):

=========  =========  ======================  ====================================================
class      field      bits                    position of (row, neuron j, bit b) within the class
=========  =========  ======================  ====================================================
sram       crossbar   A · N                   a · N + j                      (row a = the axon)
sram       weight     R · N · (m + 1)         A·N + (r · N + j) · (m + 1) + b   sign-magnitude:
                                                                             b < m magnitude,
                                                                             b = m the sign
sram       threshold  N · t                   A·N + R·N·(m + 1) + j · t + b  (α, unsigned)
potential  potential  N · p                   j · p + b                      (two's complement)
routing    routing    N · (x + c + y)         j · (x + c + y) + b            b < x the axon,
                                                                             then c column bits,
                                                                             then y row bits
=========  =========  ======================  ====================================================

Widths, from the profile:

- m = bit_length(weight_max): the weight magnitude (8 bits for TrueNorth's [-255, 255], sign ±1
  times an 8-bit magnitude [cassidy2013]).
- t = bit_length(threshold_max): 18 bits for TrueNorth [cassidy2013] (the profile marks the
  width unverified).
- p = bit_length(max(threshold_max, floor_max, |reset_min|, reset_max)) + 1: a sign bit above the
  widest potential the neuron can be set to (assumption; 19 bits for TrueNorth).
- x = bit_length(axons_per_core − 1), c = bit_length(grid_cols − 1), y = bit_length(grid_rows − 1):
  an absolute destination address (8 + 6 + 6 = 20 bits for TrueNorth's 256 axons on a 64 × 64 grid
  [merolla2014; akopyan2015]). A simplification (assumption): the destination delay and the exact
  TrueNorth routing-table format are not modelled.

Leak, floor, reset and delay registers are not modelled as upset targets (assumption: they are
outside the classes a scenario gives rates for).
"""
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from neurosim.errors import ValidationError

CLASSES = ("sram", "potential", "routing")
SRAM, POTENTIAL_CLASS, ROUTING_CLASS = range(3)

# field codes of a decoded bit
CROSSBAR, WEIGHT, THRESHOLD, POTENTIAL, ROUTING = range(5)
# parts of a routing entry
ROUTE_AXON, ROUTE_COLUMN, ROUTE_ROW = range(3)


class Bits(NamedTuple):
    """Decoded bit positions (arrays of one shape): the field code, the row (the axon of a
    crossbar bit, the weight row of a weight bit, −1 otherwise), the neuron and the bit."""

    field: np.ndarray
    row: np.ndarray
    neuron: np.ndarray
    bit: np.ndarray


@dataclass(frozen=True)
class CoreMemory:
    """The bit layout of one core (see the module docstring for the table)."""

    axons: int
    neurons: int
    weight_rows: int
    magnitude_bits: int
    threshold_bits: int
    potential_bits: int
    routing_axon_bits: int
    routing_column_bits: int
    routing_row_bits: int

    @classmethod
    def from_profile(cls, profile, axons=None, neurons=None, typed=None):
        """The map of a core of ``profile`` holding ``axons`` × ``neurons`` (default: the
        profile's core); ``typed`` (default: the profile's) says whether weights are per axon
        type or per synapse."""
        axons = profile.axons_per_core if axons is None else int(axons)
        neurons = profile.neurons_per_core if neurons is None else int(neurons)
        typed = profile.typed_weights if typed is None else bool(typed)
        widest = max(profile.threshold_max, profile.floor_max, -profile.reset_min,
                     profile.reset_max)
        return cls(axons=axons, neurons=neurons,
                   weight_rows=profile.axon_types if typed else axons,
                   magnitude_bits=int(profile.weight_max).bit_length(),
                   threshold_bits=int(profile.threshold_max).bit_length(),
                   potential_bits=int(widest).bit_length() + 1,
                   routing_axon_bits=int(profile.axons_per_core - 1).bit_length(),
                   routing_column_bits=int(profile.grid_cols - 1).bit_length(),
                   routing_row_bits=int(profile.grid_rows - 1).bit_length())

    @classmethod
    def of_program(cls, program):
        """The map of ``program``'s cores: its crossbar size, its kind of weights."""
        _, A, N = program.crossbar.shape
        return cls.from_profile(program.profile, A, N, program.synapse_weights is None)

    # ------------------------------------------------------------------ sizes
    @property
    def weight_bits(self):
        """Bits of one weight: magnitude plus sign."""
        return self.magnitude_bits + 1

    @property
    def routing_bits(self):
        """Bits of one routing entry: axon, column and row."""
        return self.routing_axon_bits + self.routing_column_bits + self.routing_row_bits

    @property
    def crossbar_bits(self):
        return self.axons * self.neurons

    @property
    def weight_field_bits(self):
        """Bits of all weights of the core."""
        return self.weight_rows * self.neurons * self.weight_bits

    def data_bits(self):
        """Data bits of each class (sram, potential, routing) of one core."""
        sram = self.crossbar_bits + self.weight_field_bits + self.neurons * self.threshold_bits
        return np.array([sram, self.neurons * self.potential_bits,
                         self.neurons * self.routing_bits], np.int64)

    def field_limits(self):
        """Largest bit index of each flipped-bit field: {'weight', 'threshold', 'potential',
        'routing'}."""
        return {"weight": self.magnitude_bits, "threshold": self.threshold_bits - 1,
                "potential": self.potential_bits - 1, "routing": self.routing_bits - 1}

    # ------------------------------------------------------------------ decoding
    def decode(self, memory_class, pos):
        """Bit positions of ``memory_class`` (0 sram, 1 potential, 2 routing) → :class:`Bits`."""
        pos = np.asarray(pos, np.int64)
        if pos.size == 0:
            return Bits(*(np.zeros(pos.shape, np.int64) for _ in range(4)))
        self._check_positions(memory_class, pos)
        if memory_class == SRAM:
            return self._decode_sram(pos)
        field, width = ((POTENTIAL, self.potential_bits) if memory_class == POTENTIAL_CLASS
                        else (ROUTING, self.routing_bits))
        return Bits(np.full(pos.shape, field), np.full(pos.shape, -1, np.int64),
                    pos // width, pos % width)

    def _decode_sram(self, pos):
        N, wb, tb = self.neurons, self.weight_bits, self.threshold_bits
        xb, wsz = self.crossbar_bits, self.weight_field_bits
        is_xb, is_th = pos < xb, pos >= xb + wsz
        w = pos - xb                    # position within the weights
        t = w - wsz                     # position within the thresholds
        field = np.where(is_xb, CROSSBAR, np.where(is_th, THRESHOLD, WEIGHT))
        row = np.where(is_xb, pos // N, np.where(is_th, -1, w // (N * wb)))
        neuron = np.where(is_xb, pos % N, np.where(is_th, t // tb, (w % (N * wb)) // wb))
        bit = np.where(is_xb, 0, np.where(is_th, t % tb, w % wb))
        return Bits(field, row, neuron, bit)

    def encode(self, field, neuron, bit, row=None):
        """The inverse of :meth:`decode`: (memory class, position) of each (field, row, neuron,
        bit); ``row`` is needed for crossbar and weight bits only (a crossbar bit's ``bit`` is 0)."""
        field, neuron, bit = (np.asarray(x, np.int64) for x in (field, neuron, bit))
        row = np.zeros_like(neuron) if row is None else np.asarray(row, np.int64)
        N, wb, xb = self.neurons, self.weight_bits, self.crossbar_bits
        pos = np.select(
            [field == CROSSBAR, field == WEIGHT, field == THRESHOLD, field == POTENTIAL],
            [row * N + neuron, xb + (row * N + neuron) * wb + bit,
             xb + self.weight_field_bits + neuron * self.threshold_bits + bit,
             neuron * self.potential_bits + bit],
            neuron * self.routing_bits + bit)
        memory_class = np.select([field <= THRESHOLD, field == POTENTIAL],
                                 [SRAM, POTENTIAL_CLASS], ROUTING_CLASS)
        return memory_class, pos

    def route_part(self, bit):
        """Routing-entry bits → (part: ROUTE_AXON | ROUTE_COLUMN | ROUTE_ROW, bit within it)."""
        bit = np.asarray(bit, np.int64)
        x, c = self.routing_axon_bits, self.routing_column_bits
        part = np.where(bit < x, ROUTE_AXON, np.where(bit < x + c, ROUTE_COLUMN, ROUTE_ROW))
        return part, bit - np.choose(part, [0, x, x + c])

    def flip_destination(self, axon, column, row, bit):
        """(axon, column, row) of a destination after flipping routing-entry bit ``bit``."""
        part, shift = self.route_part(bit)
        mask = np.left_shift(1, shift)
        return (np.where(part == ROUTE_AXON, axon ^ mask, axon),
                np.where(part == ROUTE_COLUMN, column ^ mask, column),
                np.where(part == ROUTE_ROW, row ^ mask, row))

    def _check_positions(self, memory_class, pos):
        hi = int(self.data_bits()[memory_class])
        if pos.size and (pos.min() < 0 or pos.max() >= hi):
            bad = int(pos.ravel()[np.argmax((pos.ravel() < 0) | (pos.ravel() >= hi))])
            raise ValidationError(f"{CLASSES[memory_class]} bit position {bad} is outside the "
                                  f"core's memory; expected 0..{hi - 1}")
