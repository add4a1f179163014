"""Monte Carlo missions: how a compiled network degrades over years of mission time.

``run_mission(scenario, out_dir, ...)`` (:mod:`.runner`) prepares once (:mod:`.prepare`: compile
the scenario's model, evaluate the fault-free chip, build the bound models), runs batches of
Monte Carlo runs on an executor (:mod:`.executors`: local process pool or Dask), each run drawing
its fault timeline and evaluating every checkpoint (:mod:`.evaluate`), and writes the results
directory in the one results format (:mod:`.results`: names and reader; :mod:`.writer`;
:mod:`.headline`).

Modules (imports flow down this list):

* :mod:`.runner`     — :func:`run_mission`: results directory, lock, resume, interrupts;
* :mod:`.executors`  — local process pool and Dask, with their robustness code;
* :mod:`.work`       — the work estimate and its limits (``force``);
* :mod:`.evaluate`   — per-run work: fault timelines, :class:`~.evaluate.CheckpointStats`;
* :mod:`.prepare`    — :class:`~.prepare.MissionModel` and :func:`prepare`;
* :mod:`.writer`     — writes the results directory (:func:`~.writer.write_outputs`) and the
  bound comparison;
* :mod:`.headline`   — :func:`~.headline.headline`: the numbers the terminal table and the
  report both show;
* :mod:`.results`    — the one results format: file, array and column names, the reader
  :class:`~.results.MissionResults` (``to_dataframe``, ``to_xarray``);
* :mod:`.provenance` — versions, hashes, command line of a run;
* :mod:`.scenario`   — scenario files (TOML): the run, compile, environment and power settings.

Bounds: every checkpoint records the chip-level bound model's ``erf`` and ``fep``
(:func:`neurosim.bounds.chip_model`: every enabled chip neuron a node, copies and relays
included) with the dead chip neurons per level (``dead_per_level``), and the MLP-unit view's
``erf_units``/``fep_units`` (:func:`neurosim.bounds.program_constants`, for comparing with the MLP
before compilation; it is not a bound per dead chip neuron). ``summary["bounds"]`` compares Erf
with the observed error like with like (:func:`neurosim.bounds.compare_checkpoints`: crash-only
checkpoints binned by dead counts per level; upsets, stuck bits and routing faults counted
apart).
"""
from neurosim.mission.evaluate import CheckpointStats, run_batch
from neurosim.mission.executors import MissionInterrupted, MissionStopped, WorkersDied
from neurosim.mission.prepare import MissionModel, chip_constants, prepare
from neurosim.mission.headline import headline
from neurosim.mission.results import POWER_COMPONENTS, MissionResults
from neurosim.mission.runner import run_mission
from neurosim.mission.work import WARN_FAULTS_PER_RUN, check_work, estimate_work

__all__ = ["run_mission", "prepare", "MissionModel", "chip_constants", "run_batch",
           "CheckpointStats", "MissionInterrupted", "MissionStopped", "WorkersDied",
           "POWER_COMPONENTS", "MissionResults", "headline", "check_work", "estimate_work",
           "WARN_FAULTS_PER_RUN"]
