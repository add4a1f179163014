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
PIPELINE_ORDER = ["train", "info", "compile", "run", "power", "bound", "mission", "report",
                  "compare", "bench"]


def test_version_through_python_m():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, "-m", "neurosim", "--version"], cwd=ROOT, env=env,
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
    for name in PIPELINE_ORDER:
        line = next(l for l in text.splitlines() if l.strip().startswith(name + " "))
        assert len(line.split()) > 2, line   # a help text follows the name


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
    with pytest.raises(ValidationError, match=r"^--dataset digits: 64 inputs, but p.npz expects "
                                              r"10 \(hint\)$"):
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
    (b"a = 1\n", "is a text file (TOML?), expected an MLP .npz or a compiled ChipProgram .npz"),
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
