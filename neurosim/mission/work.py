"""What a mission will cost, and the limits it may exceed only with ``force``.

:func:`estimate_work` counts runs, checkpoint evaluations, bytes of the results arrays and the
expected fault events per run; :func:`check_work` refuses (or, forced, warns about) work above the
limits below.
"""
import math
import sys

import numpy as np

from neurosim.errors import ValidationError
from neurosim.mission.results import empty_results
from neurosim.radiation.environments import upset_rates
from neurosim.radiation.schedule import DAYS_PER_YEAR, mission_latchup_rate, mission_mean_rates

# Limits a mission may exceed only with ``force``. They are ASSUMPTIONS about the machine this
# project targets (2 cores, 24 GiB of memory), not physics:
#   * checkpoint evaluations (runs × checkpoints): 2 workers evaluate roughly 10^2–10^3
#     checkpoints per second in rate mode (`neurosim bench mission`), so 10^7 is hours to a day;
MAX_CHECKPOINT_EVALUATIONS = 10_000_000
#   * the results arrays are held about twice (the batches and the merged arrays): 4 GiB each
#     stays well inside 24 GiB next to the workers' models;
MAX_RESULT_BYTES = 4 * 2**30
#   * expected fault events per run: the shipped scenarios expect 10^2–10^4; sampling and
#     evaluating 10^6 takes minutes per run, so above it a rate is more likely a unit slip than
#     intended; a warning is printed above 10^5 (seconds per run).
MAX_FAULTS_PER_RUN = 1_000_000
WARN_FAULTS_PER_RUN = 100_000


def expected_faults_per_run(values, layout, total_days):
    """Expected fault events of one run: upsets Σ_k λ̄_k·s·bits_k·T over the memory classes of
    every physical core (λ̄ the mission-mean rate, solar events averaged in,
    :func:`neurosim.radiation.schedule.mission_mean_rates`; timeline.ChipLayout.data_bits) plus
    each scheduled event's Σ_k σ₃₀,k·Φ₃₀·bits_k, stuck bits rate·A·N·T/365.25 and latch-ups
    λ_SEL·T per physical core (spares and TMR replicas included). NaN (an ∞·0) counts as
    infinite."""
    up, syn, lu, mit = (values[k] for k in ("upsets", "synapses", "latchup", "mitigation"))
    cores = layout.C + (2 * int(layout.hidden_cores.sum()) if mit["tmr_hidden"] else 0) \
        + mit["spare_cores"]
    bits = layout.data_bits()
    fluence = sum(ev["fluence30_cm2"] for ev in values["solar_events"]["scheduled"])
    sigma30 = np.asarray(upset_rates(values)[1])
    with np.errstate(over="ignore", invalid="ignore"):
        upsets = float(np.sum((np.asarray(mission_mean_rates(values, total_days)) * total_days
                               + sigma30 * fluence) * bits)) * up["rate_scale"]
        stuck = syn["stuck_rate_per_bit_year"] * layout.A * layout.N * total_days / DAYS_PER_YEAR
        latchups = mission_latchup_rate(values, total_days) * total_days \
            * (1 + lu["latent_stuck_bits"])
        total = float(np.float64(cores) * (upsets + stuck + latchups))
    return math.inf if math.isnan(total) else total


def estimate_work(scenario, model=None):
    """What the mission will cost: runs, checkpoints, checkpoint evaluations, bytes of the results
    arrays and (with a prepared ``model``) expected fault events per run. Without a model the
    bytes are a lower bound (one layer, one core): enough to refuse absurd run counts before
    anything is compiled or allocated."""
    runs = int(scenario["run.runs"])
    K = len(scenario.checkpoint_times_days())
    G, C, L = (model.n_layers, model.program.n_cores, model.n_levels) if model is not None \
        else (1, 1, 0)
    per_run = sum(a.nbytes for a in empty_results(1, K, G, C, L).values())
    est = {"runs": runs, "checkpoints": K, "evaluations": runs * K,
           "result_bytes": runs * per_run, "faults_per_run": None}
    if model is not None:
        est["faults_per_run"] = expected_faults_per_run(
            scenario.values, model.layout, float(model.times_days[-1]))
    return est


def check_work(scenario, est, force=False):
    """Refuse (ValidationError, one line naming the estimate and the limit) work above the
    limits unless ``force``; warn on stderr above WARN_FAULTS_PER_RUN expected faults per run."""
    where = f"{scenario.path}: [run] runs = {est['runs']:,} × {est['checkpoints']:,} checkpoints"
    problems = []
    if est["evaluations"] > MAX_CHECKPOINT_EVALUATIONS:
        problems.append(f"{where} = {est['evaluations']:,} checkpoint evaluations; limit "
                        f"{MAX_CHECKPOINT_EVALUATIONS:,}")
    if est["result_bytes"] > MAX_RESULT_BYTES:
        problems.append(f"{where} need {est['result_bytes'] / 2**30:,.1f} GiB of results "
                        f"arrays; limit {MAX_RESULT_BYTES / 2**30:g} GiB")
    f = est["faults_per_run"]
    if f is not None and f > MAX_FAULTS_PER_RUN:
        problems.append(f"{scenario.path}: the rates give {f:.3g} expected fault events per run "
                        f"(upsets, stuck bits, latch-ups); limit {MAX_FAULTS_PER_RUN:,} "
                        "(check the units: rates are per bit per day)")
    if problems and not force:
        raise ValidationError(problems[0] + " (an assumption about a 2-core/24 GiB machine); "
                              "argument 'force' runs it anyway", param="force")
    for p in problems:
        note(f"warning: {p}; running anyway (force)")
    if f is not None and WARN_FAULTS_PER_RUN < f <= MAX_FAULTS_PER_RUN:
        note(f"warning: {scenario.path}: the rates give {f:.3g} expected fault events per run "
              f"(more than {WARN_FAULTS_PER_RUN:,}: slow; check the units, rates are per bit per "
              "day)")


def note(message):
    """One line on stderr (resume notes, lock take-over, warnings)."""
    print(f"neurosim mission: {message}", file=sys.stderr, flush=True)


