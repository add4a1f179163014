"""Library errors name parameters (``argument 'out_dir'``, with ``param``); only the CLI names flags.

The CLI's translation (:func:`neurosim.cli.common.error_message`) turns each into the flag the user
typed, so the command line's messages are those the mission tests already check.
"""
import pytest

from neurosim import fileio
from neurosim.cli import _parser_and_commands
from neurosim.cli.common import error_message, flag_names
from neurosim.cli.mission import resume_command
from neurosim.errors import ValidationError
from neurosim.mission import MissionInterrupted, WorkersDied, sweep
from neurosim.mission.executors import _workers


@pytest.fixture(scope="module")
def mission_parser():
    return _parser_and_commands()[1]["mission"]


def test_the_mission_parser_maps_library_parameters_to_its_flags(mission_parser):
    names = flag_names(mission_parser)
    assert (names["out_dir"], names["spec"], names["workers"], names["resume"],
            names["force"], names["executor"], names["scheduler"]) == (
        "--out", "--sweep", "--workers", "--resume", "--force", "--executor", "--scheduler")


def test_sweep_grid_error_names_the_parameter_and_the_cli_shows_the_flag(mission_parser):
    with pytest.raises(ValidationError) as info:
        sweep.parse_grid("dose_rate")
    exc = info.value
    assert exc.param == "spec"
    assert str(exc).startswith("argument 'spec' 'dose_rate': expected KEY=V1,V2")
    assert error_message(exc, mission_parser).startswith("--sweep 'dose_rate': expected KEY=")


def test_workers_error_names_the_parameter(mission_parser):
    with pytest.raises(ValidationError) as info:
        _workers(-3)
    assert info.value.param == "workers"
    assert str(info.value) == "argument 'workers' -3: expected an integer ≥ 1 (0: all cores)"
    assert error_message(info.value, mission_parser) == \
        "--workers -3: expected an integer ≥ 1 (0: all cores)"


def test_output_dir_check_names_the_parameter_when_given(tmp_path, mission_parser):
    a_file = tmp_path / "f"
    a_file.write_text("")
    with pytest.raises(ValidationError) as info:
        fileio.check_output_dir(a_file, param="out_dir")
    assert info.value.param == "out_dir"
    assert str(info.value) == f"argument 'out_dir' {a_file}: is a file, expected a directory"
    assert error_message(info.value, mission_parser) == \
        f"--out {a_file}: is a file, expected a directory"
    with pytest.raises(ValidationError, match=r"^sweep output directory .*: is a file") as info:
        fileio.check_output_dir(a_file, "sweep output directory")
    assert info.value.param is None


def test_a_stopped_mission_says_how_to_continue_in_python_then_on_the_command_line():
    exc = MissionInterrupted("interrupted by SIGTERM: 2 finished batches kept in d/.partial", 15,
                             "d")
    assert exc.exit_code == 143 and exc.out_dir == "d"
    assert str(exc) == ("interrupted by SIGTERM: 2 finished batches kept in d/.partial; continue "
                        "with: run_mission(scenario, out_dir='d', resume=True)")
    line = "neurosim mission s.toml --out old --force --workers 2"
    exc.continue_with(resume_command(line, "d", "s.toml"))
    assert str(exc).endswith("; continue with: neurosim mission s.toml --workers 2 --out d "
                             "--resume")
    assert str(WorkersDied("worker processes died 3 times")) == "worker processes died 3 times"


def test_resume_command_without_a_command_line_runs_the_scenario():
    assert resume_command(None, "out dir", "s.toml") == \
        "neurosim mission s.toml --out 'out dir' --resume"
