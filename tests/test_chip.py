"""ChipProgram validation and files, FaultState application."""
import numpy as np
import pytest

from neurosim.chip import FaultState, apply, empty_program
from neurosim.chip.program import ChipProgram
from neurosim.errors import InputFileError, ValidationError
from neurosim.sim import simulate


def small(**overrides):
    base = dict(crossbar=np.ones((2, 4, 3), bool), enabled=np.ones((2, 3), bool),
                threshold=np.full((2, 3), 5), leak=np.ones((2, 3)),
                dest_core=[[1, 1, 1], [-1, -1, -1]], dest_axon=[[0, 1, 2], [0, 0, 0]],
                input_index=[0, 1], input_core=[0, 0], input_axon=[0, 1],
                output_core=[1, 1], output_neuron=[0, 1])
    base.update(overrides)
    return empty_program("truenorth", 2, 4, 3, n_inputs=2, n_outputs=2, **base)


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize("overrides, message", [
    (dict(dest_core=[[2, 1, 1], [-1, -1, -1]]), r"field 'dest_core' \(core 0, neuron 0\) is 2; expected a used core index or -1 in \[-1, 1\]"),
    (dict(dest_axon=[[0, 4, 2], [0, 0, 0]]), r"field 'dest_axon' \(core 0, neuron 1\) is 4; expected an axon in \[0, 3\]"),
    (dict(weights=np.full((2, 4, 3), 256)), r"field 'weights' \(core 0, type 0, neuron 0\) is 256; expected a weight in \[-255, 255\]"),
    (dict(weights=np.full((2, 4, 3), -256)), r"is -256; expected a weight in \[-255, 255\]"),
    (dict(dest_delay=np.zeros((2, 3))), r"field 'dest_delay' \(core 0, neuron 0\) is 0; expected a delay in ticks in \[1, 15\]"),
    (dict(dest_delay=np.full((2, 3), 16)), r"field 'dest_delay' \(core 0, neuron 0\) is 16; expected a delay in ticks in \[1, 15\]"),
    (dict(threshold=np.zeros((2, 3))), r"field 'threshold' \(core 0, neuron 0\) is 0; expected a threshold"),
    (dict(leak=np.array([[1.0, np.nan, 1], [1, 1, 1]])), r"field 'leak' has nan at index \(0, 1\); expected finite integers"),
    (dict(weights=np.full((2, 4, 3), 1.5)), r"field 'weights' has non-integer 1.5"),
    (dict(crossbar=np.ones((2, 4, 2), bool)), r"field 'crossbar' has shape|field '\w+' has shape"),
    (dict(core_xy=[[0, 0], [0, 0]]), r"two cores on the same grid position"),
    (dict(core_xy=[[0, 0], [64, 0]]), r"field 'core_xy' \(core 1\) has row 64; expected 0..63"),
    (dict(output_neuron=[0, 0]), r"read out a neuron that another output class already reads"),
    (dict(input_axon=[0, 9]), r"field 'input_axon' \(entry 1\) is 9; expected 0..3"),
    (dict(reset_mode=np.full((2, 3), 3)), r"field 'reset_mode' \(core 0, neuron 0\) is 3; expected a reset mode in \[0, 2\]"),
])
def test_bad_programs_are_refused_with_a_message_naming_field_and_place(overrides, message):
    with pytest.raises(ValidationError, match=message):
        small(**overrides)


def test_program_too_big_for_the_chip():
    with pytest.raises(ValidationError, match="chip 'truenorth' allows 256 x 256"):
        empty_program("truenorth", 1, 257, 4)


def test_ideal_profile_needs_synapse_weights_and_truenorth_refuses_them():
    with pytest.raises(ValidationError, match="'synapse_weights' given for profile 'truenorth'"):
        small(synapse_weights=np.zeros((2, 4, 3)))
    with pytest.raises(ValidationError, match="'synapse_weights' missing"):
        empty_program("ideal", 1, 2, 2, synapse_weights=None)


# ------------------------------------------------------------------ files
@pytest.mark.parametrize("profile", ["truenorth", "ideal"])
def test_save_load_round_trip_is_exact(random_program, tmp_path, profile):
    prog = random_program(np.random.default_rng(3), profile)
    prog = prog.replace(meta={"mlp_sizes": [1, 2], "note": "x"})
    path = tmp_path / "p.npz"
    prog.save(path)
    back = ChipProgram.load(path)
    assert back.profile == prog.profile and back.n_inputs == prog.n_inputs
    assert back.meta == prog.meta
    for name in ("crossbar", "axon_type", "weights", "leak", "threshold", "floor", "reset_mode",
                 "reset_value", "floor_mode", "initial_potential", "enabled", "dest_core",
                 "dest_axon", "dest_delay", "core_xy", "input_index", "input_core", "input_axon",
                 "output_core", "output_neuron", "neuron_group"):
        assert np.array_equal(getattr(back, name), getattr(prog, name)), name
        assert getattr(back, name).dtype == getattr(prog, name).dtype, name
    if profile == "ideal":
        assert np.array_equal(back.synapse_weights, prog.synapse_weights)
    assert not list(tmp_path.glob("*.tmp*")), "temporary file left behind"


def test_load_errors_name_the_file_and_field(tmp_path):
    with pytest.raises(InputFileError, match=r"nope.npz: no such file, expected a compiled chip program"):
        ChipProgram.load(tmp_path / "nope.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(InputFileError, match=r"junk.npz: is a text file, expected a compiled chip"):
        ChipProgram.load(junk)
    prog = small()
    good = tmp_path / "good.npz"
    prog.save(good)
    data = dict(np.load(good))
    for change, message in [
        (lambda d: d.pop("threshold"), r"bad.npz: field 'threshold' is missing"),
        (lambda d: d.update(format_version=np.int32(99)), r"field 'format_version' is 99; this neurosim reads version 1"),
        (lambda d: d.update(dest_delay=np.zeros((2, 3), np.uint8)), r"bad.npz: field 'dest_delay' \(core 0, neuron 0\) is 0"),
        (lambda d: d.update(extra=np.zeros(1)), r"field 'extra' is not a ChipProgram field"),
    ]:
        bad_data = dict(data)
        change(bad_data)
        np.savez(tmp_path / "bad.npz", **bad_data)
        with pytest.raises(InputFileError, match=message):
            ChipProgram.load(tmp_path / "bad.npz")


# ------------------------------------------------------------------ faults
def test_apply_never_mutates_and_shares_untouched_arrays(random_program, random_faults):
    rng = np.random.default_rng(9)
    prog = random_program(rng)
    snapshot = {k: v.copy() for k, v in vars(prog).items() if isinstance(v, np.ndarray)}
    faults = FaultState(dead_neurons=[[0, 0]])
    faulty = apply(prog, faults)
    for k, v in snapshot.items():
        assert np.array_equal(getattr(prog, k), v), k
    assert faulty.enabled is not prog.enabled and not faulty.enabled[0, 0]
    assert faulty.crossbar is prog.crossbar and faulty.weights is prog.weights
    for _ in range(20):
        apply(prog, random_faults(rng, prog))
    for k, v in snapshot.items():
        assert np.array_equal(getattr(prog, k), v), k


def test_dead_neuron_never_fires_and_dead_core_is_unpowered():
    prog = small()
    rates = np.ones((1, 2))
    healthy = simulate(prog, rates, ticks=20, record=True)
    assert healthy.record[:, 0, 1, 0].sum() > 0
    dead = simulate(prog, rates, ticks=20, record=True,
                    faults=FaultState(dead_neurons=[[1, 0]]))
    assert dead.record[:, 0, 1, 0].sum() == 0
    assert dead.counts[0, 0] == 0 and dead.counts[0, 1] == healthy.counts[0, 1]
    core_dead = simulate(prog, rates, ticks=20, faults=FaultState(dead_cores=[1]))
    assert core_dead.counters.cores_powered == healthy.counters.cores_powered - 1
    assert core_dead.counts.sum() == 0


def test_stuck_synapse_and_weight_flip():
    prog = small(crossbar=np.zeros((2, 4, 3), bool))
    stuck = apply(prog, FaultState(stuck_synapses=[[0, 1, 2, 1]]))
    assert stuck.crossbar[0, 1, 2] and stuck.crossbar.sum() == 1
    w = small(weights=np.full((2, 4, 3), 5))
    # sign bit of the 9-bit sign-magnitude code (bit 8), then magnitude bit 1 (5 → 7)
    flipped = apply(w, FaultState(weight_flips=[[0, 2, 1, 8], [1, 0, 0, 1]]))
    assert flipped.weights[0, 2, 1] == -5 and flipped.weights[1, 0, 0] == 7
    assert (flipped.weights != 5).sum() == 2


def test_threshold_and_potential_flips():
    prog = small()  # thresholds 5 = 0b101
    f = apply(prog, FaultState(threshold_flips=[[0, 0, 1], [0, 1, 0], [0, 1, 2]]))
    assert f.threshold[0, 0] == 7
    assert f.threshold[0, 1] == 1     # 5 ^ 1 ^ 4 = 0, which becomes 1
    p = apply(prog, FaultState(potential_flips=[[1, 2, 4]]))
    assert p.initial_potential[1, 2] == 16


def test_routing_flips_redirect_or_drop_spikes():
    prog = small(core_xy=[[0, 0], [0, 1]])
    # flipping axon bit 0 of neuron 0's route: axon 0 → axon 1 of core 1
    moved = apply(prog, FaultState(routing_flips=[[0, 0, 0]]))
    assert moved.dest_core[0, 0] == 1 and moved.dest_axon[0, 0] == 1
    # flipping column bit 0 (bit 8): column 1 → 0, which is core 0 itself
    to_self = apply(prog, FaultState(routing_flips=[[0, 0, 8]]))
    assert to_self.dest_core[0, 0] == 0
    # flipping row bit 3 (bit 17): row 0 → 8: no core there, so the spikes are lost
    lost = apply(prog, FaultState(routing_flips=[[0, 0, 17]]))
    assert lost.dest_core[0, 0] == -1


def test_fault_coordinates_outside_the_program_are_refused():
    prog = small()
    with pytest.raises(ValidationError, match=r"fault 'dead_neurons' \(entry 0\) has neuron 7; expected 0..2"):
        apply(prog, FaultState(dead_neurons=[[0, 7]]))


def test_fault_state_union_equality_and_counts():
    a = FaultState(dead_neurons=[[0, 1]])
    b = FaultState(dead_cores=[1], dead_neurons=[[1, 1]])
    u = a | b
    assert u.counts()["dead_neurons"] == 2 and u.counts()["dead_cores"] == 1
    assert u == FaultState(dead_neurons=[[0, 1], [1, 1]], dead_cores=[1])
    assert FaultState().empty and not u.empty


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(meta_json=np.str_("{not json")), r"field 'meta_json' is not JSON"),
    (lambda d: d.update(meta_json=np.str_("3")), r"field 'meta_json' is JSON int, expected a JSON object"),
    (lambda d: d.update(meta_json=np.str_('{"model": [1]}')), r"entry 'model' is JSON list, expected an object"),
    (lambda d: d.update(meta_json=np.str_('{"model": {"dataset": 5}}')), r"entry 'model.dataset' is 5, expected a string or null"),
    (lambda d: d.update(n_inputs=np.str_("2")), r"field 'n_inputs' is '2', expected an integer"),
    (lambda d: d.update(profile=np.int64(3)), r"field 'profile' is 3, expected a text string"),
    (lambda d: d.update(profile=np.str_("loihi9")), r"bad.npz: .*loihi9"),
    (lambda d: d.update(crossbar=d["crossbar"].astype(str)), r"field 'crossbar' has dtype <U5; expected bool"),
    (lambda d: d.update(crossbar=d["crossbar"] * 3), r"field 'crossbar' has values other than 0 and 1"),
    (lambda d: d.update(threshold=d["threshold"].astype(str)), r"field 'threshold' has dtype <U\d+; expected int32"),
    (lambda d: d.update(leak=np.full(d["leak"].shape, np.nan)), r"field 'leak' has nan at index \(0, 0\)"),
    (lambda d: d.update(leak=np.full(d["leak"].shape, 0.5)), r"field 'leak' has non-integer 0.5"),
    (lambda d: d.update(leak=np.zeros((1, 2, 3), np.int32)), r"field 'leak' has shape \(1, 2, 3\); expected \(2, 3\)"),
    (lambda d: d.update(core_xy=np.zeros((2, 2), complex)), r"field 'core_xy' has dtype complex128"),
])
def test_wrong_types_in_a_program_file_are_refused_naming_the_field(tmp_path, change, message):
    small().save(tmp_path / "good.npz")
    data = dict(np.load(tmp_path / "good.npz"))
    change(data)
    np.savez(tmp_path / "bad.npz", **data)
    with pytest.raises(InputFileError, match=message) as err:
        ChipProgram.load(tmp_path / "bad.npz")
    assert str(err.value).startswith(str(tmp_path / "bad.npz")) and "\n" not in str(err.value)


def test_program_loader_names_other_kinds_of_file(tmp_path):
    from neurosim.mlp import MLP, Layer
    MLP([Layer.dense(np.ones((2, 2)), np.zeros(2))]).save(tmp_path / "m.npz")
    with pytest.raises(InputFileError, match=r"m.npz: this is an MLP model \(neurosim train "
                                             r"output\), expected a compiled chip program"):
        ChipProgram.load(tmp_path / "m.npz")
    (tmp_path / "s.toml").write_text("[chip]\nname = 'x'\n")
    with pytest.raises(InputFileError, match=r"s.toml: is a text file \(TOML\?\)"):
        ChipProgram.load(tmp_path / "s.toml")


def test_program_without_meta_json_still_loads(tmp_path):
    small().save(tmp_path / "good.npz")
    data = dict(np.load(tmp_path / "good.npz"))
    del data["meta_json"]
    np.savez(tmp_path / "old.npz", **data)
    assert ChipProgram.load(tmp_path / "old.npz").meta == {}


def test_bit_limits_come_from_the_memory_map():
    prog = small()                                   # truenorth: α 18 bits, V 20, routes 20
    apply(prog, FaultState(threshold_flips=[[0, 0, 17]], potential_flips=[[0, 0, 19]],
                           routing_flips=[[0, 0, 19]], weight_flips=[[0, 0, 0, 8]]))
    for kind, row, hi in (("threshold_flips", [0, 0, 18], 17), ("potential_flips", [0, 0, 20], 19),
                          ("routing_flips", [0, 0, 20], 19), ("weight_flips", [0, 0, 0, 9], 8)):
        with pytest.raises(ValidationError, match=rf"fault '{kind}' \(entry 0\) has bit "
                                                  rf"{row[-1]}; expected 0..{hi}"):
            apply(prog, FaultState(**{kind: [row]}))


def test_dead_mask_marks_dead_neurons_and_every_neuron_of_a_dead_core():
    fs = FaultState(dead_neurons=[[0, 1], [2, 3]], dead_cores=[1])
    mask = fs.dead_mask((3, 4))
    expect = np.zeros((3, 4), bool)
    expect[0, 1] = expect[2, 3] = True
    expect[1] = True
    assert np.array_equal(mask, expect)
    used = np.ones((3, 4), bool)
    used[1, :2] = used[2, 3] = False
    assert np.argwhere(fs.dead_mask((3, 4), used)).tolist() == [[0, 1], [1, 2], [1, 3]]
    assert not FaultState().dead_mask((2, 2)).any()


def test_lost_synapses_are_stuck_at_zero_where_a_synapse_was():
    crossbar = np.zeros((2, 3, 2), bool)
    crossbar[0, 1, 0] = crossbar[1, 2, 1] = True
    fs = FaultState(stuck_synapses=[[0, 1, 0, 0],     # lost: the synapse existed
                                    [0, 0, 0, 0],     # stuck at 0 where there was none
                                    [1, 2, 1, 1],     # stuck at 1: kept
                                    [1, 0, 1, 1]])    # stuck at 1: a new synapse, not a loss
    assert fs.lost_synapses(crossbar).tolist() == [[0, 1, 0, 0]]
    assert FaultState().lost_synapses(crossbar).shape == (0, 4)


def test_crash_only_allows_dead_units_and_potential_flips_only():
    assert FaultState().crash_only
    assert FaultState(dead_neurons=[[0, 1]], dead_cores=[2], potential_flips=[[0, 0, 3]]).crash_only
    for kind, row in (("stuck_synapses", [0, 0, 0, 1]), ("weight_flips", [0, 0, 0, 1]),
                      ("threshold_flips", [0, 0, 1]), ("routing_flips", [0, 0, 1])):
        assert not FaultState(dead_neurons=[[0, 1]], **{kind: [row]}).crash_only, kind


def test_potential_flips_are_twos_complement_at_the_register_width():
    prog = small()                                   # truenorth: 20-bit potentials
    v0 = prog.initial_potential.copy()
    v0[0, 0], v0[0, 1] = 5, -3
    prog = prog.replace(initial_potential=v0)
    out = apply(prog, FaultState(potential_flips=[[0, 0, 19], [0, 1, 19], [0, 1, 0]]))
    assert out.initial_potential[0, 0] == 5 - 2 ** 19       # sign bit set: negative
    assert out.initial_potential[0, 1] == 2 ** 19 - 3 - 1   # -3 -> sign cleared, then bit 0
    assert np.array_equal(prog.initial_potential, v0)       # the pristine program is untouched
