"""The memory map of a core: widths from the profile, bit position ↔ (field, row, neuron, bit)."""
import dataclasses

import numpy as np
import pytest

from neurosim.chip.memory import (CROSSBAR, POTENTIAL, ROUTE_AXON, ROUTE_COLUMN, ROUTE_ROW,
                                  ROUTING, THRESHOLD, WEIGHT, CoreMemory)
from neurosim.chip.profile import IDEAL, TRUENORTH
from neurosim.errors import ValidationError



def test_truenorth_widths_are_the_published_ones():
    m = CoreMemory.from_profile(TRUENORTH)
    assert (m.axons, m.neurons, m.weight_rows) == (256, 256, 4)
    assert (m.magnitude_bits, m.weight_bits, m.threshold_bits, m.potential_bits) == (8, 9, 18, 20)
    assert (m.routing_axon_bits, m.routing_column_bits, m.routing_row_bits) == (8, 6, 6)
    assert m.routing_bits == 20
    sram = 256 * 256 + 4 * 256 * 9 + 256 * 18
    assert m.data_bits().tolist() == [sram, 256 * 20, 256 * 20]


def test_ideal_widths_follow_its_ranges():
    m = CoreMemory.from_profile(IDEAL)
    # one 16-bit weight per synapse; α ≤ 2^30 needs 31 bits; potentials the profile's 31-bit
    # register; 4096 axons need 12 address bits
    assert (m.weight_rows, m.magnitude_bits, m.threshold_bits, m.potential_bits) == \
        (4096, 15, 31, 31)
    assert (m.routing_axon_bits, m.routing_column_bits, m.routing_row_bits) == (12, 6, 6)


def test_widths_of_a_smaller_profile():
    p = dataclasses.replace(TRUENORTH, grid_rows=5, grid_cols=3, axons_per_core=100,
                            weight_max=100, threshold_max=1000, floor_max=10, reset_min=-3000,
                            reset_max=5, potential_bits=13)
    m = CoreMemory.from_profile(p, axons=7, neurons=3)
    # 100 → 7 magnitude bits; 1000 → 10 bits; the profile's 13-bit potential; 0..99 → 7;
    # 0..2 → 2; 0..4 → 3
    assert (m.magnitude_bits, m.threshold_bits, m.potential_bits) == (7, 10, 13)
    assert (m.routing_axon_bits, m.routing_column_bits, m.routing_row_bits) == (7, 2, 3)
    assert m.data_bits().tolist() == [7 * 3 + 4 * 3 * 8 + 3 * 10, 3 * 13, 3 * 12]


def test_of_program_uses_the_programs_core_and_weights(random_program):
    typed = random_program(np.random.default_rng(1), "truenorth")
    C, A, N = typed.crossbar.shape
    m = CoreMemory.of_program(typed)
    assert (m.axons, m.neurons, m.weight_rows, m.weight_bits) == (A, N, 4, 9)
    per_synapse = random_program(np.random.default_rng(1), "ideal")
    m = CoreMemory.of_program(per_synapse)
    assert m.weight_rows == per_synapse.crossbar.shape[1] and m.weight_bits == 16


def test_sram_positions_by_hand():
    m = CoreMemory.from_profile(TRUENORTH, axons=5, neurons=3)      # 15 crossbar bits
    # crossbar cell (axon 4, neuron 2); weight (row 2, neuron 1, sign bit 8); threshold
    # (neuron 2, bit 17)
    pos = [4 * 3 + 2, 15 + (2 * 3 + 1) * 9 + 8, 15 + 4 * 3 * 9 + 2 * 18 + 17]
    b = m.decode(0, pos)
    assert b.field.tolist() == [CROSSBAR, WEIGHT, THRESHOLD]
    assert b.row.tolist() == [4, 2, -1]
    assert b.neuron.tolist() == [2, 1, 2]
    assert b.bit.tolist() == [0, 8, 17]
    assert m.data_bits()[0] == 15 + 4 * 3 * 9 + 3 * 18 == pos[-1] + 1


@pytest.mark.parametrize("profile", [TRUENORTH, IDEAL])
def test_every_position_decodes_to_a_distinct_field_and_back(profile):
    m = CoreMemory.from_profile(profile, axons=6, neurons=5)
    for cls, n_bits in enumerate(m.data_bits()):
        pos = np.arange(n_bits)
        b = m.decode(cls, pos)
        cells = {tuple(r) for r in np.stack([b.field, b.row, b.neuron, b.bit], 1).tolist()}
        assert len(cells) == n_bits                          # one position, one cell
        assert b.neuron.min() == 0 and b.neuron.max() == 4
        back_cls, back = m.encode(b.field, b.neuron, b.bit, b.row)
        assert np.all(back_cls == cls) and np.array_equal(back, pos)
    b = m.decode(1, np.arange(m.data_bits()[1]))
    assert np.all(b.field == POTENTIAL) and b.bit.max() == m.potential_bits - 1
    b = m.decode(2, np.arange(m.data_bits()[2]))
    assert np.all(b.field == ROUTING) and b.bit.max() == m.routing_bits - 1


def test_positions_outside_the_memory_are_refused():
    m = CoreMemory.from_profile(TRUENORTH, axons=5, neurons=3)
    with pytest.raises(ValidationError, match=r"potential bit position 60 is outside the core's "
                                              r"memory; expected 0\.\.59"):
        m.decode(1, [0, 60])
    with pytest.raises(ValidationError, match="sram bit position -1"):
        m.decode(0, [-1])


def test_routing_bits_split_into_axon_column_row():
    m = CoreMemory.from_profile(TRUENORTH)
    part, shift = m.route_part([0, 7, 8, 13, 14, 19])
    assert part.tolist() == [ROUTE_AXON, ROUTE_AXON, ROUTE_COLUMN, ROUTE_COLUMN, ROUTE_ROW,
                             ROUTE_ROW]
    assert shift.tolist() == [0, 7, 0, 5, 0, 5]
    axon, col, row = m.flip_destination(np.array([3, 3, 3]), np.array([10, 10, 10]),
                                        np.array([20, 20, 20]), np.array([1, 9, 19]))
    assert axon.tolist() == [1, 3, 3]            # 3 ^ 2
    assert col.tolist() == [10, 8, 10]           # 10 ^ 2
    assert row.tolist() == [20, 20, 52]          # 20 ^ 32
