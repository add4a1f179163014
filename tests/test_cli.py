"""The command layer: --version, --help in pipeline order, the explicit command table, exit codes,
--json printing, library errors shown with the flag, the evaluation-set helper, and that no library
module imports the CLI."""
import inspect
import json
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import neurosim
from neurosim import cli
from neurosim.bounds import report as bounds_report
from neurosim.cli import common
from neurosim.errors import InputFileError, ValidationError
from neurosim.mlp import MLP

from test_bounds_structure import _imports  # the ast import scanner, shared

ROOT = pathlib.Path(__file__).resolve().parents[1]
PIPELINE_ORDER = ["train", "info", "compile", "run", "export", "power", "bound", "environment",
                  "mission", "report", "compare", "bench"]


def test_version_through_python_m():
    parent = pathlib.Path(neurosim.__file__).resolve().parents[1]   # the neurosim under test
    env = dict(os.environ, PYTHONPATH=str(parent))
    run = subprocess.run([sys.executable, "-m", "neurosim", "--version"], cwd=parent, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stderr == ""
    assert run.stdout == f"neurosim {neurosim.__version__}\n"


def test_help_lists_the_commands_in_pipeline_order_with_one_line_each(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    # the command list: indented lines "    NAME   help" under "COMMAND"
    listed = [line.split()[0] for line in text.split("COMMAND\n", 1)[1].splitlines()
              if line.startswith("    ") and not line.startswith("     ")]
    assert listed == PIPELINE_ORDER == list(cli.COMMANDS)
    lines = text.splitlines()
    for name in PIPELINE_ORDER:
        at = next(i for i, l in enumerate(lines) if l.split()[:1] == [name])
        # a help text follows the name, on its line or (a long name) on the next
        assert len(lines[at].split()) > 2 or len(lines[at + 1].split()) > 2, lines[at]


@pytest.mark.parametrize("name", PIPELINE_ORDER)
def test_every_command_help_exits_0(name, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main([name, "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: neurosim {name}") and "--json" in out


def test_main_dispatches_through_the_table(monkeypatch, capsys):
    """Replacing a table entry's run function is what main calls: no lookup by name."""
    add_info, _ = cli.COMMANDS["info"]
    seen = []

    def fake_run(args):
        seen.append(args.model)
        return {"count": np.int64(3), "values": np.arange(3), "ratio": np.float32(0.5)}

    monkeypatch.setitem(cli.COMMANDS, "info", (add_info, fake_run))
    assert cli.main(["info", "some.npz", "--json"]) == 0
    assert seen == ["some.npz"]
    assert json.loads(capsys.readouterr().out) == {"count": 3, "values": [0, 1, 2], "ratio": 0.5}


def test_the_table_names_functions_of_the_command_modules():
    source = inspect.getsource(cli)
    assert "globals()" not in source and "getattr(" not in source
    for add_arguments, run in cli.COMMANDS.values():
        assert add_arguments.__module__.startswith("neurosim.cli.")
        assert run.__module__.startswith("neurosim.cli.")


@pytest.mark.parametrize("raised, code, message", [
    (ValidationError("argument 'fail_prob': 1.5, expected a probability in [0, 1]",
                     param="fail_prob"), 2, "--fail-prob: 1.5, expected a probability in [0, 1]"),
    # a secondary mention is renamed too; a name that is not a flag of the command stays
    (ValidationError("argument 'failures': 2 counts with argument 'layer' 3, expected 1 "
                     "(argument 'rng' unused)", param="failures"), 2,
     "--failures: 2 counts with --layer 3, expected 1 (argument 'rng' unused)"),
    # no param: the message is about something the caller cannot rename; shown as it is
    (ValidationError("argument 'samples': 0, expected ≥ 1"), 2,
     "argument 'samples': 0, expected ≥ 1"),
    (InputFileError("x.npz: no such file", param=None), 2, "x.npz: no such file"),
    (KeyboardInterrupt(), 130, "interrupted"),
])
def test_errors_exit_codes_and_flag_names(monkeypatch, capsys, raised, code, message):
    add_bound, _ = cli.COMMANDS["bound"]

    def fail(args):
        raise raised

    monkeypatch.setitem(cli.COMMANDS, "bound", (add_bound, fail))
    assert cli.main(["bound", "m.npz", "--fail-prob", "0.1", "--json"]) == code
    captured = capsys.readouterr()
    shown = f"error: {message}" if code == 2 else message
    assert captured.out == "" and captured.err == f"neurosim bound: {shown}\n"


def test_flag_names_come_from_the_parser():
    _, commands = cli._parser_and_commands()
    bound = common.flag_names(commands["bound"])
    assert (bound["fail_prob"], bound["C"], bound["model"]) == ("--fail-prob", "--C",
                                                                "MODEL_OR_PROGRAM")
    assert common.flag_names(commands["power"])["supply_v"] == "--supply-v"
    compile_flags = common.flag_names(commands["compile"])
    assert (compile_flags["output"], compile_flags["weight_encoding"]) == ("-o",
                                                                           "--weight-encoding")


def test_library_errors_reach_the_user_as_flags(tmp_path, capsys):
    """Real library errors (bounds, train options) name the parameter in the library and the
    flag on the command line."""
    mlp = MLP.load(ROOT / "models" / "digits_dense.npz")
    path = tmp_path / "m.npz"
    mlp.save(path)
    with pytest.raises(ValidationError, match=r"^argument 'fail_prob': 1.5") as exc:
        bounds_report(mlp, np.zeros((1, 64)), fail_prob=1.5)
    assert exc.value.param == "fail_prob"
    assert cli.main(["bound", str(path), "--fail-prob", "1.5", "--samples", "3"]) == 2
    assert capsys.readouterr().err == ("neurosim bound: error: --fail-prob: 1.5, expected a "
                                       "probability in [0, 1]\n")
    assert cli.main(["bound", str(path), "--failures", "1,1", "--layer", "1"]) == 2
    assert "--failures: 2 counts with --layer 1, expected 1\n" in capsys.readouterr().err
    assert cli.main(["train", "--dataset", "digits", "--hidden", "4", "--method", "dense",
                     "--epochs", "0", "-o", str(tmp_path / "t.npz")]) == 2
    assert capsys.readouterr().err == "neurosim train: error: --epochs is 0, expected ≥ 1\n"


def test_evaluation_set_flag_record_default_limit_and_width():
    x, y, name = common.evaluation_set("p.npz", 64, None, limit=5)
    assert name == "digits" and x.shape == (5, 64) and y.shape == (5,)
    x, _, name = common.evaluation_set("p.npz", 20, None, recorded="synthetic")
    assert name == "synthetic" and x.shape[1] == 20
    x2, _, name = common.evaluation_set("p.npz", 64, "digits", recorded="synthetic", limit=3)
    assert name == "digits" and np.array_equal(x2, common.evaluation_set("q", 64, "digits")[0][:3])
    with pytest.raises(ValidationError, match=r"^--dataset digits: shape \(\d+, 64\), expected "
                                              r"\(n, 10\) for p.npz \(hint\)$"):
        common.evaluation_set("p.npz", 10, "digits", hint=" (hint)")
    with pytest.raises(InputFileError, match=r"^p.npz: compiled for dataset 'cifar', not one of "
                                             r"digits, .*; expected --dataset DATASET$"):
        common.evaluation_set("p.npz", 64, None, recorded="cifar",
                              recorded_as="compiled for dataset")


def test_no_library_module_imports_the_cli():
    package = pathlib.Path(neurosim.__file__).parent
    offenders = [str(p.relative_to(package)) for p in package.rglob("*.py")
                 if p.relative_to(package).parts[0] not in ("cli", "__main__.py")
                 and any(n == "neurosim.cli" or n.startswith("neurosim.cli.")
                         for n in _imports(p))]
    assert offenders == []


@pytest.mark.parametrize("content, message", [
    (b"a = 1\n", "is a text file (TOML?), expected an MLP model (.npz), a NIR graph (HDF5) or an "
                  "ONNX model, or a compiled ChipProgram .npz"),
    (b"PK\x03\x04garbage", "not a readable .npz (a broken zip archive)"),
    (b"", "is empty (0 bytes)"),
])
def test_bound_names_what_a_file_is_when_it_is_no_model(tmp_path, content, message):
    path = tmp_path / "x.npz"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=re.escape(f"{path}: {message}")):
        cli.bound.load_model_or_program(str(path))


def test_bound_tells_a_model_from_a_program(tmp_path):
    neither = tmp_path / "neither.npz"
    np.savez(neither, a=np.zeros(3))
    with pytest.raises(InputFileError, match="neither an MLP .npz"):
        cli.bound.load_model_or_program(str(neither))
    net = cli.bound.load_model_or_program(str(ROOT / "models" / "digits_dense.npz"))
    assert isinstance(net, MLP) and net.sizes[0] == 64


# ----------------------------------------------------------------- bring your own network and data
DIGITS_MODEL = ROOT / "models" / "digits_dense.npz"
DIGITS_FLOAT_ACCURACY = 0.9711  # models/digits_dense.npz on the digits test split (its provenance)


def _json_of(capsys, argv):
    """Run ``neurosim ARGV --json`` through main(); its exit code must be 0; the JSON object."""
    assert cli.main(argv + ["--json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def _compile_and_run(capsys, model, program, dataset="digits", extra=()):
    """``compile MODEL -o PROGRAM`` then ``run PROGRAM --dataset DATASET``: the run's JSON."""
    _json_of(capsys, ["compile", str(model), "-o", str(program), *extra])
    return _json_of(capsys, ["run", str(program), "--dataset", str(dataset)])


def test_export_writes_the_digits_model_as_nir_that_reads_back_and_runs(tmp_path, capsys):
    """export → nir.read (rate-scaled IF network, thresholds 1, the model's layer shapes) →
    info and compile of the .nir by content (named .h5) → run near the float accuracy."""
    nir = pytest.importorskip("nir")
    out = tmp_path / "digits.h5"
    assert cli.main(["export", str(DIGITS_MODEL), "--nir", str(out)]) == 0
    assert capsys.readouterr().out == (f"{out}: model {DIGITS_MODEL} as NIR, 7 nodes\n")
    graph = nir.read(out)
    kinds = {name: type(node).__name__ for name, node in graph.nodes.items()}
    assert sorted(kinds.values()) == ["Affine", "Affine", "Affine", "IF", "IF", "Input", "Output"]
    assert [graph.nodes[f"layer{i}"].weight.shape for i in range(3)] == [(64, 64), (64, 64),
                                                                       (10, 64)]
    assert all(np.all(graph.nodes[n].v_threshold == 1) for n in ("spike0", "spike1"))
    info = _json_of(capsys, ["info", str(out)])
    assert info["sizes"] == [64, 64, 64, 10] and info["params"] == 8832
    res = _compile_and_run(capsys, out, tmp_path / "p.npz")
    assert 0.94 <= res["accuracy"] <= 0.99 and res["samples"] == 450
    assert abs(res["mlp_accuracy"] - DIGITS_FLOAT_ACCURACY) <= 0.01


def test_export_of_a_program_with_uniform_thresholds(tmp_path, capsys):
    nir = pytest.importorskip("nir")
    program, out = tmp_path / "p.npz", tmp_path / "p.nir"
    _json_of(capsys, ["compile", str(DIGITS_MODEL), "-o", str(program)])
    summary = _json_of(capsys, ["export", str(program), "--nir", str(out), "--uniform-threshold"])
    assert summary["kind"] == "program" and summary["uniform_threshold"] is True
    thresholds = [node.v_threshold for node in nir.read(out).nodes.values()
                  if type(node).__name__ == "IF"]
    assert len(thresholds) >= 2 and all(np.all(t == 1) for t in thresholds)


def test_export_refuses_a_missing_output_directory_before_working(tmp_path, capsys):
    out = tmp_path / "missing" / "x.nir"
    assert cli.main(["export", str(DIGITS_MODEL), "--nir", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"neurosim export: error: --nir {out}") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_an_onnx_model_is_read_by_info_compile_and_bound(tmp_path, capsys):
    """A torch.onnx-style Linear/ReLU stack of the digits model, named .bin: info gives its
    shapes, compile (with --calibration digits) and run keep the float accuracy within the
    conversion loss, and bound reads it too."""
    pytest.importorskip("onnxruntime")
    from test_onnx import torch_style  # the torch.onnx builder; imported here: needs onnx
    path = tmp_path / "model.bin"
    path.write_bytes(torch_style(MLP.load(DIGITS_MODEL)).SerializeToString())
    info = _json_of(capsys, ["info", str(path)])
    assert info["sizes"] == [64, 64, 64, 10] and info["activation"] == "relu"
    assert cli.main(["info", str(path)]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"{path}: sizes 64-64-64-10, relu")
    assert text.endswith("provenance: imported from ONNX\n")
    res = _compile_and_run(capsys, path, tmp_path / "p.npz", extra=["--calibration", "digits"])
    assert abs(res["mlp_accuracy"] - DIGITS_FLOAT_ACCURACY) <= 0.005
    assert res["mlp_accuracy"] - 0.03 <= res["accuracy"] <= res["mlp_accuracy"] + 0.01
    out = _json_of(capsys, ["bound", str(path), "--fail-prob", "0.05", "--samples", "5",
                            "--dataset", "digits"])
    assert out["sizes"] == [64, 64, 64, 10] and out["n_inputs"] == 450


def _digits_as_raw_npz(path):
    """The digits split written as the user would: raw pixel counts 0..16 as int64 images
    (n, 8, 8); neurosim flattens them and scales by the training min/max (0, 16), i.e. by 1/16
    like its own digits."""
    from neurosim import data
    x_train, y_train, x_test, y_test = data.load("digits")
    raw = {"x_train": np.rint(x_train * 16).astype(np.int64).reshape(-1, 8, 8),
           "x_test": np.rint(x_test * 16).astype(np.int64).reshape(-1, 8, 8),
           "y_train": y_train, "y_test": y_test}
    assert raw["x_train"].min() == 0 and raw["x_train"].max() == 16
    np.savez(path, **raw)
    return path


def test_a_dataset_given_as_a_path_works_in_train_compile_run_and_bound(tmp_path, capsys):
    """--dataset PATH.npz: train records the path, compile calibrates on it, run and bound
    evaluate on it; the same inputs as the built-in digits give the same accuracy."""
    dataset = str(_digits_as_raw_npz(tmp_path / "mine.npz"))
    model = tmp_path / "m.npz"
    summary = _json_of(capsys, ["train", "--dataset", dataset, "--hidden", "32", "--method",
                                "dense", "--epochs", "10", "-o", str(model)])
    assert 0.85 <= summary["test_accuracy"] <= 1.0
    assert MLP.load(model).provenance["dataset"] == dataset
    mine = _compile_and_run(capsys, DIGITS_MODEL, tmp_path / "p.npz", dataset=dataset)
    builtin = _json_of(capsys, ["run", str(tmp_path / "p.npz"), "--dataset", "digits"])
    assert abs(mine["accuracy"] - builtin["accuracy"]) <= 1 / 450
    assert abs(mine["mlp_accuracy"] - DIGITS_FLOAT_ACCURACY) <= 0.005
    own = _compile_and_run(capsys, model, tmp_path / "own.npz", dataset=dataset)
    assert own["accuracy"] >= summary["test_accuracy"] - 0.05
    out = _json_of(capsys, ["bound", str(model), "--fail-prob", "0.05", "--samples", "5"])
    assert out["dataset"] == dataset and out["n_inputs"] == 450


@pytest.mark.parametrize("argv", [
    ["run", "PROGRAM", "--dataset", "DATASET"],
    ["train", "--dataset", "DATASET", "--hidden", "4", "--method", "dense", "-o", "OUT"],
    ["bound", str(DIGITS_MODEL), "--fail-prob", "0.1", "--dataset", "DATASET"],
    ["compile", str(DIGITS_MODEL), "--calibration", "DATASET", "-o", "OUT"],
])
def test_an_unknown_dataset_or_missing_path_is_refused_in_one_line(tmp_path, capsys, argv):
    missing = tmp_path / "nope.npz"
    flag = "--calibration" if "--calibration" in argv else "--dataset"
    program = tmp_path / "p.npz"
    if "PROGRAM" in argv:
        _json_of(capsys, ["compile", str(DIGITS_MODEL), "-o", str(program)])
    argv = [{"DATASET": str(missing), "PROGRAM": str(program),
             "OUT": str(tmp_path / "o.npz")}.get(a, a) for a in argv]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert f"{flag} " in err and f"'{missing}'" in err and err.count("\n") == 1, err
    assert "or the path of a .npz file or a directory with train.csv and test.csv" in err
    assert not (tmp_path / "o.npz").exists()


def test_train_study_density_through_main(tmp_path, capsys):
    out = tmp_path / "study"
    assert cli.main(["train", "--study", "density", "--dataset", "digits", "--hidden", "32",
                 "--epochs", "2", "--seeds", "0", "--densities", "0.2", "--out", str(out),
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"density.csv", "density.json", "density.png", "runs.json"} <= {
        p.name for p in out.iterdir()}
    densities = sorted(row["density"] for row in result["rows"])
    assert densities == [0.2, 1.0]                     # the sparse run and dense beside it
    assert all(30 < row["test_accuracy_mean"] <= 100 for row in result["rows"])   # percent
    assert cli.main(["train", "--dataset", "digits", "--method", "dense", "--hidden", "8"]) == 2
    assert "-o: missing" in capsys.readouterr().err
