"""Sensitivity studies: rerun one scenario over a grid of one parameter and plot the headline.

A mission's result can hang on one poorly known figure — in ``geo_15y`` the dose rate
(2,000 rad(Si)/yr, an assumption) against the failure-dose median (35 krad, a stand-in):
:func:`neurosim.radiation.damage.failure_probability` gives 0.4 % / 31 % / 59 % of cores lost at
1,000 / 2,000 / 2,500 rad/yr over 15 years. :func:`sweep` makes such knife edges visible: it
loads the scenario once per grid value with that value as an override (``section.key``, validated
like the file's own keys), runs each mission into ``OUT/<key>=<value>/`` and writes
``OUT/sweep.csv`` and ``OUT/sweep.png`` (the headline numbers against the parameter).
"""
import csv
import io
import os

from matplotlib.figure import Figure

from neurosim import fileio
from neurosim.errors import ValidationError
from neurosim.mission import scenario as scn
from neurosim.mission.schema import SCHEMA
from neurosim.mission.runner import run_mission

HEADLINES = ("final_accuracy_p50", "final_accuracy_p05", "reliability_final",
             "dead_cores_final_mean", "availability_mean", "power_mw_final_mean")


def parse_grid(spec):
    """``"dose.dose_rate_rad_per_year=1000,1500,2000"`` → (``"dose.dose_rate_rad_per_year"``,
    [1000.0, 1500.0, 2000.0]); a bare key (``dose_rate=...``) is looked up in every section.
    Errors name the parameter ``spec`` (the CLI's ``--sweep``)."""
    key, sep, values = str(spec).partition("=")
    if not sep or not values.strip():
        raise _spec_error(spec, "expected KEY=V1,V2,... (e.g. "
                                "dose.dose_rate_rad_per_year=1000,1500,2000)")
    key = _dotted_key(key.strip(), spec)
    try:
        grid = [float(v) for v in values.split(",")]
    except ValueError:
        raise _spec_error(spec, f"values {values!r}; expected numbers separated by commas") \
            from None
    return key, grid


def _spec_error(spec, what):
    return ValidationError(f"argument 'spec' {spec!r}: {what}", param="spec")


def _dotted_key(key, spec):
    """``section.key`` of a scenario key given as ``section.key`` or a unique prefix of a key."""
    if "." in key:
        section, name = key.split(".", 1)
        if name in SCHEMA.get(section, {}):
            return key
    matches = [f"{s}.{k}" for s, keys in SCHEMA.items() for k in keys
               if k == key or k.startswith(key + "_")]
    if len(matches) != 1:
        raise _spec_error(spec, f"key {key!r} matches {', '.join(matches) or 'no scenario key'}; "
                                "expected one numeric scenario key, e.g. "
                                "dose.dose_rate_rad_per_year")
    return matches[0]


def sweep(scenario_path, key, grid, out_dir, runs=None, workers=None, progress=False,
          overrides=None):
    """Run the scenario at ``scenario_path`` once per value of ``key`` in ``grid`` (with the
    scenario ``overrides`` {"section.key": value} too, e.g. the command line's model); returns
    ``{"parameter", "rows" (one dict per value: the value and the :data:`HEADLINES`), "csv",
    "figure"}``. Every grid value is validated before the first mission starts."""
    fileio.check_output_dir(out_dir, "sweep output directory")
    extra = dict(overrides or {}, **({"run.runs": int(runs)} if runs else {}))
    scenarios = [scn.load(scenario_path, overrides={**extra, key: value}) for value in grid]
    rows = []
    for value, scenario in zip(grid, scenarios):
        summary = run_mission(scenario, out_dir=os.path.join(out_dir, f"{key}={value:g}"),
                              workers=workers, progress=progress)
        rows.append({key: value, **{h: summary.get(h) for h in HEADLINES}})
    csv_path, png_path = os.path.join(out_dir, "sweep.csv"), os.path.join(out_dir, "sweep.png")
    fileio.write_text(csv_path, _csv(rows, key))
    fig = sweep_figure(rows, key, scenarios[0].name)
    with fileio.atomic_write(png_path, "wb", suffix=".png") as (f, _):
        fig.savefig(f, format="png", dpi=110)
    return {"parameter": key, "rows": rows, "csv": csv_path, "figure": png_path}


def _csv(rows, key):
    """The rows as CSV text: the parameter, then the headline columns."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=[key, *HEADLINES], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue()


def sweep_figure(rows, key, name):
    """Accuracy (median, 5th percentile), reliability and availability (left) and dead cores
    (right) against the swept parameter."""
    fig = Figure(figsize=(9, 4))
    left, right = fig.subplots(1, 2)
    x = [r[key] for r in rows]
    for column, label in (("final_accuracy_p50", "final accuracy (median)"),
                          ("final_accuracy_p05", "final accuracy (5th percentile)"),
                          ("reliability_final", "reliability at the end"),
                          ("availability_mean", "availability")):
        y = [r[column] for r in rows]
        if all(v is not None for v in y):
            left.plot(x, y, "o-", label=label)
    left.set(xlabel=key, ylabel="share", ylim=(-0.02, 1.02), title=f"{name}: headline")
    left.legend(fontsize=8)
    right.plot(x, [r["dead_cores_final_mean"] for r in rows], "s-", color="C3")
    right.set(xlabel=key, ylabel="dead cores at the end (mean)", title="cores lost")
    fig.tight_layout()
    return fig
