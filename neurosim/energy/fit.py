"""TrueNorth's static power and marginal event energy, fitted to published whole-chip measurements.

The published points (``truenorth_measurements.csv``, one ``source`` per row) are whole-chip
powers of all 4,096 cores (2^20 neurons) at a supply V, a mean firing rate f and s active synapses
per neuron, in real time. The model at such a point is (``scaling``: static ∝ V, dynamic ∝ V²)::

    P(V, f, s) = P_s · (V/V₀) + e_syn · (2^20 · f · s) · (V/V₀)²        V₀ = 0.8 V

Two unknowns, P_s (whole-chip static power at V₀) and e_syn (marginal energy per synaptic event at
V₀), solved by ordinary least squares in mW over the rows whose ``role`` is ``fit``. One published
point (``role = held_out``: Merolla et al.'s 72 mW at 0.775 V — another paper, another chip and
another voltage than the fitted ones) is left out of the fit and its error reported; ``check`` rows
are reported, not fitted; ``unused`` rows lack an operating point and are listed with the reason.

**Hops are folded, not added.** Every published point runs spikes about 21 cores in x and y at 128
synapses per spike, so the data cannot separate the per-hop, per-spike and per-update costs from
the per-event one: e_syn is the *all-in marginal* cost of a synaptic event at that routing
distance (hop, spike and active-update energy included), and the profile charges no hop, spike or
neuron-update energy on top. The per-tick neuron sweep, which every published point pays for all
2^20 neurons, is inside P_s. Consequence: a network routing spikes much less far than 21 hops is
charged slightly too much per event.
"""
import csv
import math
import os
from dataclasses import dataclass

import numpy as np

from neurosim.errors import InputFileError
from neurosim.energy.scaling import dynamic_scale, static_scale

MEASUREMENTS_CSV = os.path.join(os.path.dirname(__file__), "truenorth_measurements.csv")
REFERENCE_V = 0.8                 # Akopyan et al. 2015 Fig. 17: the supply of the firing-rate sweep
CHIP_CORES = 4096                 # 64 × 64 cores (Merolla et al. 2014)
CHIP_NEURONS = 4096 * 256         # 2^20 neurons
HELD_OUT_TOLERANCE = 0.10         # the held-out published point must be met within 10 %
ROLES = ("fit", "held_out", "check", "unused")


@dataclass(frozen=True)
class Measurement:
    """One published whole-chip power (None where the publication does not give the quantity)."""

    id: str
    supply_v: float | None
    rate_hz: float | None
    synapses_per_neuron: float | None
    power_mw: float
    tolerance_mw: float | None
    role: str
    quality: str
    source: str

    def events_per_s(self):
        """Synaptic events per second of the whole chip: 2^20 · f · s."""
        return CHIP_NEURONS * self.rate_hz * self.synapses_per_neuron


@dataclass(frozen=True)
class TrueNorthFit:
    """The fitted constants at ``reference_v`` and the measurements they came from."""

    static_chip_mw: float
    synaptic_event_pj: float
    reference_v: float
    measurements: tuple

    def predict_mw(self, supply_v, rate_hz, synapses_per_neuron):
        """Whole-chip power (mW) at a supply, mean rate and active synapses per neuron."""
        events = CHIP_NEURONS * rate_hz * synapses_per_neuron
        return (self.static_chip_mw * static_scale(supply_v, self.reference_v)
                + self.synaptic_event_pj * 1e-9 * events * dynamic_scale(supply_v,
                                                                         self.reference_v))


def _number(text, row_id, column, path):
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise InputFileError(f"{path}: row '{row_id}' column '{column}' is {text!r}; expected a "
                             f"finite number ≥ 0 or nothing")
    return value


def load_measurements(path=MEASUREMENTS_CSV):
    """The published points of ``path`` as a tuple of :class:`Measurement`."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out = []
    for row in rows:
        role = row["role"]
        if role not in ROLES:
            raise InputFileError(f"{path}: row '{row['id']}' column 'role' is {role!r}; expected "
                                 f"one of {', '.join(ROLES)}")
        values = {k: _number(row[k], row["id"], k, path)
                  for k in ("supply_v", "rate_hz", "synapses_per_neuron", "power_mw",
                            "tolerance_mw")}
        out.append(Measurement(id=row["id"], role=role, quality=row["quality"],
                               source=row["source"], **values))
    return tuple(out)


def fit_truenorth(measurements=None, reference_v=REFERENCE_V):
    """Least squares of P = P_s·(V/V₀) + e_syn·events·(V/V₀)² over the ``fit`` rows (module
    docstring); returns a :class:`TrueNorthFit`."""
    measurements = load_measurements() if measurements is None else tuple(measurements)
    rows = [m for m in measurements if m.role == "fit"]
    design = np.array([[static_scale(m.supply_v, reference_v),
                        1e-9 * m.events_per_s() * dynamic_scale(m.supply_v, reference_v)]
                       for m in rows])
    target = np.array([m.power_mw for m in rows])
    (static_mw, event_pj), *_ = np.linalg.lstsq(design, target, rcond=None)
    return TrueNorthFit(static_chip_mw=float(static_mw), synaptic_event_pj=float(event_pj),
                        reference_v=reference_v, measurements=measurements)


def fit_errors(fit):
    """Each published point with the model's prediction and error: a list of dicts (``unused``
    rows carry no prediction). ``within_tolerance`` is judged against the row's ``tolerance_mw``
    for fitted rows and against ``HELD_OUT_TOLERANCE`` for the held-out one."""
    out = []
    for m in fit.measurements:
        row = {"id": m.id, "role": m.role, "quality": m.quality, "supply_v": m.supply_v,
               "rate_hz": m.rate_hz, "synapses_per_neuron": m.synapses_per_neuron,
               "published_mw": m.power_mw, "tolerance_mw": m.tolerance_mw, "source": m.source,
               "predicted_mw": None, "error_mw": None, "error_rel": None,
               "within_tolerance": None}
        if m.role != "unused":
            predicted = fit.predict_mw(m.supply_v, m.rate_hz, m.synapses_per_neuron)
            error = predicted - m.power_mw
            row.update(predicted_mw=predicted, error_mw=error, error_rel=error / m.power_mw)
            if m.role == "fit":
                row["within_tolerance"] = bool(abs(error) <= m.tolerance_mw)
            elif m.role == "held_out":
                row["within_tolerance"] = bool(abs(error) <= HELD_OUT_TOLERANCE * m.power_mw)
        out.append(row)
    return out
