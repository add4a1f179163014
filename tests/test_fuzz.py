"""Malformed files thrown at the loaders and at the CLI (hypothesis, derandomised).

Every loader — MLP models, ChipPrograms, NIR graphs, IDX datasets — must either load a file or
refuse it with a NeurosimError whose message is one line naming the file; never another exception
type. Through ``neurosim.cli.main``: exit code 0 or 2, and on 2 one line on stderr, no traceback,
and nothing left in the output directory.
"""
import contextlib
import functools
import gzip
import io
import os
import struct
import tempfile

import h5py
import nir
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurosim.chip.program import ChipProgram
from neurosim.cli import main
from neurosim.compiler import compile as compile_mlp
from neurosim.data import read_idx
from neurosim.errors import NeurosimError
from neurosim.mlp import MLP, Layer
from neurosim.compiler.nir_io import read_nir, to_graph

FUZZ = settings(derandomize=True, max_examples=50, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
CLI_FUZZ = settings(FUZZ, max_examples=20)


# ------------------------------------------------------------------ valid files to break
@functools.lru_cache(maxsize=None)
def base_model():
    """A small digits-shaped MLP 64-6-10 (random weights, a sparse first layer)."""
    rng = np.random.default_rng(5)
    mask = rng.random((64, 6)) < 0.5
    return MLP([Layer(rng.normal(0, 0.3, (64, 6)) * mask, rng.normal(0, 0.1, 6), mask),
                Layer.dense(rng.normal(0, 0.3, (6, 10)), np.zeros(10))],
               "relu", 1.0, {"dataset": "digits"})


@functools.lru_cache(maxsize=None)
def base_arrays(kind):
    """The arrays of a valid model or program file, as saved."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "x.npz")
        if kind == "model":
            base_model().save(path)
        else:
            calibration = np.random.default_rng(0).random((50, 64))
            compile_mlp(base_model(), "truenorth", calibration=calibration).program.save(path)
        with np.load(path) as f:
            return {k: f[k] for k in f.files}


@functools.lru_cache(maxsize=None)
def base_bytes(kind):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "x.npz")
        np.savez(path, **base_arrays(kind))
        with open(path, "rb") as f:
            return f.read()


# ------------------------------------------------------------------ how to break them
def _with_one(a, value):
    out = np.array(a, dtype=np.float64).reshape(-1)
    if out.size:
        out[out.size // 2] = value
    return out.reshape(np.shape(a))


BREAKERS = {
    "text": lambda a: np.asarray(a).astype(str),
    "object": lambda a: np.array([None, 1.5, "x"], dtype=object),
    "bool": lambda a: np.asarray(a) != 0,
    "nan": lambda a: _with_one(a, np.nan),
    "inf": lambda a: _with_one(a, -np.inf),
    "huge": lambda a: np.full(np.shape(a), 1e30),
    "negative": lambda a: -np.abs(np.asarray(a, dtype=np.float64)) - 1,
    "fraction": lambda a: np.asarray(a, dtype=np.float64) + 0.5,
    "complex": lambda a: np.asarray(a).astype(complex),
    "shorter": lambda a: np.asarray(a).reshape(-1)[:max(0, np.size(a) - 1)],
    "scalar": lambda a: np.array(7),
    "empty": lambda a: np.zeros((0,)),
    "transposed": lambda a: np.asarray(a).T.copy(),
    "json_text": lambda a: np.array('{"dataset": [1, 2'),
    "json_odd": lambda a: np.array('{"model": {"path": 3, "dataset": [1]}, "layers": 5, '
                                   '"test_accuracy": "x", "dataset": 5}'),
}


@st.composite
def broken_arrays(draw, kind):
    """The arrays of a valid file with one to three keys broken, deleted or added."""
    arrays = dict(base_arrays(kind))
    keys = sorted(arrays)
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["break", "break", "break", "delete", "add"]))
        if action == "add":
            arrays[draw(st.sampled_from(["extra", "weight_9", "mask_2", "synapse_weights"]))] = \
                np.zeros((2, 2))
            continue
        key = draw(st.sampled_from(keys))
        if key not in arrays:
            continue
        if action == "delete":
            del arrays[key]
        else:
            arrays[key] = apply_breaker(draw(st.sampled_from(sorted(BREAKERS))), arrays[key])
    return arrays


def apply_breaker(name, value):
    """``BREAKERS[name](value)``, or a stray integer where the breaker does not apply (text)."""
    try:
        return BREAKERS[name](value)
    except (ValueError, TypeError):
        return np.array(7)


@st.composite
def broken_bytes(draw, base):
    """``base`` truncated, with bytes overwritten, or replaced by random bytes."""
    how = draw(st.sampled_from(["truncate", "overwrite", "random", "text"]))
    if how == "truncate":
        return base[:draw(st.integers(0, len(base) - 1))]
    if how == "overwrite":
        at = draw(st.integers(0, len(base) - 1))
        return base[:at] + draw(st.binary(min_size=1, max_size=16)) + base[at + 16:]
    if how == "text":
        return draw(st.text(max_size=200)).encode()
    return draw(st.binary(max_size=300))


def write_npz(path, arrays):
    np.savez(path, **arrays)  # numpy pickles object arrays here: the loader must refuse them


# ------------------------------------------------------------------ checks
def assert_loads_or_refuses(load, path):
    """``load(path)`` returns, or raises a NeurosimError of one line that names ``path``."""
    try:
        load(path)
    except NeurosimError as exc:
        message = str(exc)
        assert str(path) in message, message
        assert "\n" not in message, message


def run_cli(argv):
    """(exit code, stderr) of ``main(argv)``, stdout discarded."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()


def assert_cli_refuses_cleanly(argv, out_dir, bad_file):
    code, err = run_cli(argv)
    assert code in (0, 2), (code, err)
    if code == 2:
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert str(bad_file) in err, err
        assert os.listdir(out_dir) == [], os.listdir(out_dir)


@contextlib.contextmanager
def workdir():
    """A fresh directory holding ``in/`` (the broken file) and an empty ``out/``."""
    with tempfile.TemporaryDirectory() as d:
        os.mkdir(os.path.join(d, "in"))
        os.mkdir(os.path.join(d, "out"))
        yield os.path.join(d, "in"), os.path.join(d, "out")


# ------------------------------------------------------------------ loaders
@pytest.mark.parametrize("kind, load", [("model", MLP.load), ("program", ChipProgram.load)])
@FUZZ
@given(data=st.data())
def test_broken_arrays_are_loaded_or_refused_in_one_line(kind, load, data):
    arrays = data.draw(broken_arrays(kind))
    with workdir() as (d, _):
        path = os.path.join(d, "x.npz")
        write_npz(path, arrays)
        assert_loads_or_refuses(load, path)


@pytest.mark.parametrize("kind, load", [("model", MLP.load), ("program", ChipProgram.load)])
@FUZZ
@given(data=st.data())
def test_broken_bytes_are_refused_in_one_line(kind, load, data):
    raw = data.draw(broken_bytes(base_bytes(kind)))
    with workdir() as (d, _):
        path = os.path.join(d, "x.npz")
        with open(path, "wb") as f:
            f.write(raw)
        assert_loads_or_refuses(load, path)


@FUZZ
@given(raw=broken_bytes(b"\x89HDF\r\n\x1a\n" + bytes(120)))
def test_broken_nir_bytes_are_refused(raw):
    with workdir() as (d, _):
        path = os.path.join(d, "g.nir")
        with open(path, "wb") as f:
            f.write(raw)
        assert_loads_or_refuses(read_nir, path)


@st.composite
def hdf5_trees(draw):
    """Valid HDF5 files of a few groups and datasets with names NIR may or may not expect."""
    names = st.sampled_from(["node", "nodes", "edges", "type", "weight", "bias", "src", "dst",
                             "input", "output", "version", "x"])
    values = st.one_of(st.just(np.zeros(3)), st.just(np.array(b"Affine")),
                       st.just(np.array([b"a", b"b"])), st.just(np.array(np.nan)),
                       st.integers(-5, 5).map(np.array))
    return draw(st.lists(st.tuples(st.lists(names, min_size=1, max_size=3), values),
                         max_size=6))


@FUZZ
@given(tree=hdf5_trees())
def test_hdf5_files_with_wrong_groups_are_refused(tree):
    with workdir() as (d, _):
        path = os.path.join(d, "g.nir")
        with h5py.File(path, "w") as f:
            for parts, value in tree:
                with contextlib.suppress(ValueError, TypeError):  # name taken by a dataset
                    f.create_dataset("/".join(parts), data=value)
        assert_loads_or_refuses(read_nir, path)


NIR_BREAKERS = ["nan", "inf", "negative", "scalar", "text", "empty", "transposed", "huge"]


@FUZZ
@given(node=st.sampled_from(["layer0", "spike0", "layer1"]),
       field=st.sampled_from(["weight", "bias", "r", "v_threshold"]),
       how=st.sampled_from(NIR_BREAKERS), recorded=st.booleans())
def test_nir_graphs_with_broken_parameters_are_refused(node, field, how, recorded):
    graph = to_graph(base_model())
    if not recorded:
        graph.metadata = {}
    target = graph.nodes[node]
    if not hasattr(target, field):
        return
    broken = apply_breaker(how, getattr(target, field))
    with workdir() as (d, _):
        path = os.path.join(d, "g.nir")
        try:
            setattr(target, field, broken)
            nir.write(path, graph)
        except Exception:  # nir itself refuses to write some of these: nothing to read then
            return
        assert_loads_or_refuses(read_nir, path)


def idx_bytes(arr):
    arr = np.asarray(arr, dtype=np.uint8)
    return bytes([0, 0, 8, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


@FUZZ
@given(raw=broken_bytes(idx_bytes(np.arange(24).reshape(2, 3, 4))), gz=st.booleans(),
       corrupt_gzip=st.booleans())
def test_broken_idx_files_are_refused(raw, gz, corrupt_gzip):
    with workdir() as (d, _):
        path = os.path.join(d, "train-images-idx3-ubyte" + (".gz" if gz else ""))
        if gz:
            raw = gzip.compress(raw)
            if corrupt_gzip and len(raw) > 20:
                raw = raw[:12] + bytes(b ^ 0x5A for b in raw[12:20]) + raw[20:]
        with open(path, "wb") as f:
            f.write(raw)
        assert_loads_or_refuses(lambda p: read_idx(p, 3), path)


# ------------------------------------------------------------------ the CLI
def _write_broken(kind, data, d):
    """A broken model or program file in ``d``: broken arrays or broken bytes."""
    path = os.path.join(d, f"{kind}.npz")
    if data.draw(st.booleans(), label="array-level"):
        write_npz(path, data.draw(broken_arrays(kind)))
    else:
        with open(path, "wb") as f:
            f.write(data.draw(broken_bytes(base_bytes(kind))))
    return path


@CLI_FUZZ
@given(data=st.data())
def test_info_and_compile_on_broken_models(data):
    with workdir() as (d, out):
        model = _write_broken("model", data, d)
        assert_cli_refuses_cleanly(["info", model, "--json"], out, model)
        assert_cli_refuses_cleanly(["info", model], out, model)
        target = os.path.join(out, "p.npz")
        code, err = run_cli(["compile", model, "--chip", "ideal", "-o", target])
        assert code in (0, 2) and (code == 0 or (err.count("\n") == 1 and model in err)), err
        assert os.listdir(out) == (["p.npz"] if code == 0 else []), os.listdir(out)


@CLI_FUZZ
@given(data=st.data(), command=st.sampled_from(["run", "power"]))
def test_run_and_power_on_broken_programs(data, command):
    with workdir() as (d, out):
        program = _write_broken("program", data, d)
        argv = [command, program, "--dataset", "digits", "--limit", "3", "--ticks", "2",
                "--mode", "rate"]
        assert_cli_refuses_cleanly(argv, out, program)


@CLI_FUZZ
@given(data=st.data(), command=st.sampled_from(["train", "run"]))
def test_train_and_run_on_broken_idx_datasets(data, command):
    """One of the four IDX files broken: train refuses before writing -o, run before running."""
    rng = np.random.default_rng(2)
    files = {"train-images-idx3-ubyte": rng.integers(0, 256, (4, 8, 8)),
             "train-labels-idx1-ubyte": rng.integers(0, 10, 4),
             "t10k-images-idx3-ubyte": rng.integers(0, 256, (3, 8, 8)),
             "t10k-labels-idx1-ubyte": rng.integers(0, 10, 3)}
    victim = data.draw(st.sampled_from(sorted(files)))
    with workdir() as (d, out):
        for name, arr in files.items():
            raw = idx_bytes(arr)
            if name == victim:
                raw = data.draw(broken_bytes(raw))
            with open(os.path.join(d, name), "wb") as f:
                f.write(raw)
        if command == "train":
            argv = ["train", "--dataset", "mnist", "--data-dir", d, "--hidden", "4", "--method",
                    "dense", "--epochs", "1", "-o", os.path.join(out, "m.npz"), "--json"]
        else:
            program = os.path.join(d, "p.npz")
            with open(program, "wb") as f:
                f.write(base_bytes("program"))
            argv = ["run", program, "--dataset", "mnist", "--data-dir", d, "--mode", "rate"]
        code, err = run_cli(argv)
        assert code == 2, err  # 8x8 images: even an intact set is refused by the 64-input program
        assert err.count("\n") == 1 and "Traceback" not in err, err
        if command == "train":
            assert victim in err or "train" in err, err
        assert os.listdir(out) == [], os.listdir(out)


@CLI_FUZZ
@given(tree=hdf5_trees(), raw=broken_bytes(b"\x89HDF\r\n\x1a\n" + bytes(120)),
       as_tree=st.booleans())
def test_compile_on_broken_nir_files(tree, raw, as_tree):
    with workdir() as (d, out):
        path = os.path.join(d, "g.nir")
        if as_tree:
            with h5py.File(path, "w") as f:
                for parts, value in tree:
                    with contextlib.suppress(ValueError, TypeError):
                        f.create_dataset("/".join(parts), data=value)
        else:
            with open(path, "wb") as f:
                f.write(raw)
        assert_cli_refuses_cleanly(["compile", path, "-o", os.path.join(out, "p.npz")], out, path)


POWER_KEYS = ["name", "static_mw_per_core", "synaptic_event_pj", "neuron_update_idle_pj",
              "spike_pj", "hop_pj", "description", "bogus"]
TOML_VALUES = ["1.5", "-2", "nan", "inf", '"text"', "true", "[1, 2]", "{value = 3}",
               '{value = "x", source = 4}', "", "1e400"]


@FUZZ
@given(lines=st.lists(st.tuples(st.sampled_from(POWER_KEYS), st.sampled_from(TOML_VALUES)),
                      max_size=8), raw=st.binary(max_size=64), use_raw=st.booleans())
def test_broken_power_profiles_are_refused(lines, raw, use_raw):
    from neurosim.energy import load_power_profile
    with workdir() as (d, _):
        path = os.path.join(d, "chip.toml")
        with open(path, "wb") as f:
            f.write(raw if use_raw else "\n".join(f"{k} = {v}" for k, v in lines).encode())
        assert_loads_or_refuses(load_power_profile, path)
