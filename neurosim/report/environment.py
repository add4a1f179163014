"""The environment part of the report's overview: the figures of
:func:`neurosim.radiation.figures.scenario_figures` for the mission's own orbit, shielding and
weight-SRAM device, read from the resolved scenario the results directory keeps
(``scenario.resolved.toml``): ``[orbit]`` (or the ``[environment] preset``'s orbit),
``[environment] shielding_mm_al``, ``[device] weight_sram`` (or ``name``, or the preset's device).

The figures are drawn at solar minimum (AP8-MIN, GCR at φ = 400 MV), as ``neurosim environment
--figures`` saves them; the spectra are recomputed from the scenario (memoised per process), so
the section needs no file beyond the resolved scenario.
"""
from __future__ import annotations

import os

from neurosim.errors import NeurosimError
from neurosim.radiation import environments
from neurosim.radiation.cosmic import SolarEventModel
from neurosim.radiation.figures import scenario_figures
from neurosim.report.blocks import e, figure, missing

# (figure name, image format, caption). The ground track is a PNG: ~10⁴ scatter points would
# make an SVG of megabytes.
ENVIRONMENT_FIGURES = (
    ("ground_track", "png", "Ground track over the AP8-MIN trapped-proton flux above 10 MeV; "
                            "the dashed box is the South Atlantic Anomaly."),
    ("proton_spectra", "svg", "Orbit-averaged trapped-proton spectrum outside and behind the "
                              "shielding, the GCR protons at the part and (dashed) the AE8 "
                              "trapped electrons outside the shielding."),
    ("let_spectrum", "svg", "Integral GCR LET spectrum at the part (solar minimum) and the "
                            "weight SRAM's heavy-ion Weibull cross-section."),
)


def environment_inputs(res):
    """(orbit table, shielding mm Al, device name or path) of the results' scenario, or a
    string saying what the resolved scenario lacks."""
    preset = environments.PRESETS.get(res.sc("environment.preset") or "")
    orbit_table = res.sc("orbit")
    if not (isinstance(orbit_table, dict) and orbit_table):
        if preset is None:
            return "the scenario's [orbit] table (or an [environment] preset)"
        orbit_table = environments.preset_orbit_table(preset.name)
    shielding = res.sc("environment.shielding_mm_al")
    if shielding is None:
        if preset is None:
            return "the scenario's [environment] shielding_mm_al"
        shielding = preset.shielding_mm_al
    device = res.sc("device.weight_sram") or res.sc("device.name") or (
        preset.device if preset is not None else None)
    if not device:
        return "the scenario's [device] name"
    if device not in environments.shipped_devices() and not os.path.isfile(device):
        return f"the device file {device} named by the scenario"
    return orbit_table, shielding, device


def environment_missing(res):
    """What keeps the environment figures from being drawn (a string), or None."""
    inputs = environment_inputs(res)
    return inputs if isinstance(inputs, str) else None


def environment_block(res):
    """``<h3>`` and the three environment figures of the results' scenario, or a "not recorded"
    box naming what is missing (an input the resolved scenario lacks or one the physics
    refuses)."""
    inputs = environment_inputs(res)
    if isinstance(inputs, str):
        return "<h3>Environment</h3>" + missing(inputs + " (for the environment figures)")
    orbit_table, shielding, device = inputs
    try:
        imported = environments.imported_spectra(res.sc("environment") or {})
        figs = scenario_figures(orbit_table, shielding, SolarEventModel(), device,
                                imported=imported)
    except NeurosimError as exc:
        return "<h3>Environment</h3>" + missing(f"the environment figures ({exc})")
    lead = (f"<p>The particle environment behind {e(f'{float(shielding):g}')} mm Al on the "
            f"mission's orbit ({e(environments.orbit_text(orbit_table))}), at solar minimum; "
            f"device {e(os.path.basename(str(device)))}. The upset rates of the mission follow "
            "from these spectra folded with the device's cross-sections "
            "(<code>neurosim environment</code> prints them)."
            + "".join(f" The {what} is imported from {e(os.path.basename(spec.path))}."
                      for what, spec in (("LET spectrum", imported and imported.let),
                                         ("trapped-proton spectrum behind the shielding",
                                          imported and imported.proton)) if spec)
            + "</p>")
    return "<h3>Environment</h3>" + lead + "".join(
        figure(figs[name], caption, fmt) for name, fmt, caption in ENVIRONMENT_FIGURES)
