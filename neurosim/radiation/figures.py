"""Figures of a scenario's environment (matplotlib ``Figure`` objects; the caller saves them).

- :func:`ground_track_figure`: the ground track coloured by AP8 J(>10 MeV) (SAA visible);
- :func:`proton_spectra_figure`: orbit-averaged trapped-proton spectra outside and behind the
  shielding, and the GCR protons at the part;
- :func:`let_spectrum_figure`: the integral LET spectrum at the part with the device's heavy-ion
  Weibull curve on a second axis;
- :func:`scenario_figures`: all three for one scenario's orbit, shielding, solar-event model and
  weight-SRAM device (what ``neurosim environment --figures`` saves and the mission report's
  overview shows).
"""
import os

import numpy as np
from matplotlib.figure import Figure

from .device import load_device
from .environment import scenario_spectra
from .orbit import orbit_from_dict
from .trapped import SAA_BOX, differential_from_integral


def ground_track_figure(env):
    """Ground track of ``env.track`` coloured by the AP8 proton flux above 10 MeV; the SAA box
    is outlined. An interplanetary orbit gives an empty map with a note."""
    fig = Figure(figsize=(8, 4))
    ax = fig.add_subplot()
    ax.set(xlim=(-180, 180), ylim=(-90, 90), xlabel="longitude (°)", ylabel="latitude (°)",
           title=f"ground track and AP8-{env.solar.upper()} J(>10 MeV)")
    if env.track is None:
        ax.text(0, 0, "interplanetary: no ground track", ha="center")
        return fig
    flux = np.maximum(env.track_flux_above_10mev, 1e-3)
    points = ax.scatter(env.track.lon_deg, env.track.lat_deg, c=np.log10(flux), s=2,
                        cmap="viridis", vmin=-1, vmax=max(1.0, float(np.log10(flux.max()))))
    fig.colorbar(points, ax=ax, label="log10 J(>10 MeV) (cm⁻² s⁻¹)")
    (la0, la1), (lo0, lo1) = SAA_BOX["lat_deg"], SAA_BOX["lon_deg"]
    ax.plot([lo0, lo1, lo1, lo0, lo0], [la0, la0, la1, la1, la0], "r--", lw=1, label="SAA box")
    ax.legend(loc="lower left")
    return fig


def proton_spectra_figure(env):
    """Differential spectra: trapped protons outside and behind the shielding, GCR protons at
    the part, and (dashed) the AE8 trapped electrons outside the shielding."""
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    e = env.proton_energy_mev
    for flux, label in ((env.trapped_proton, "trapped p, outside"),
                        (env.trapped_proton_shielded,
                         f"trapped p, behind {env.shielding_mm_al:g} mm Al")):
        if np.any(flux > 0):
            ax.loglog(e, np.where(flux > 0, flux, np.nan), label=label)
    ax.loglog(env.gcr.energy_mev_n, env.gcr.proton_differential(), label="GCR protons at part")
    electrons = differential_from_integral(env.electron_energy_mev, env.trapped_electron_integral)
    if np.any(electrons > 0):
        ax.loglog(env.electron_energy_mev, np.where(electrons > 0, electrons, np.nan), "--",
                  label="trapped e⁻, outside")
    ax.set(xlabel="energy (MeV; GCR: MeV per nucleon)", ylabel="flux (cm⁻² s⁻¹ MeV⁻¹)",
           title="trapped and GCR spectra (orbit average)")
    ax.legend()
    return fig


def let_spectrum_figure(env, weibull, title=None):
    """Integral LET spectrum F(>L) at the part and the heavy-ion Weibull σ(L); ``title``
    defaults to the modelled GCR spectrum's."""
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    f = env.let_integral
    ax.loglog(env.let_grid, np.where(f > 0, f, np.nan), label="F(>LET) at part")
    ax.set(xlabel="LET (MeV cm²/mg)", ylabel="integral flux (cm⁻² s⁻¹)",
           title=title or f"GCR LET spectrum, solar {env.solar}")
    twin = ax.twinx()
    sigma = weibull(env.let_grid)
    twin.loglog(env.let_grid, np.where(sigma > 0, sigma, np.nan), "r--", label="Weibull σ(LET)")
    twin.set_ylabel("σ (cm² per bit)")
    ax.legend(loc="lower left")
    twin.legend(loc="upper right")
    return fig


def scenario_figures(orbit_table, shielding_mm_al, spe_model, device, solar="min",
                     imported=None):
    """``{"ground_track", "proton_spectra", "let_spectrum": Figure}`` of a scenario: its
    ``[orbit]`` table, shielding (mm Al), :class:`~neurosim.radiation.cosmic.SolarEventModel`
    and weight-SRAM device (a shipped name or a device TOML path), in solar phase ``solar``,
    with the spectra imported from other tools (``imported``) in place of the modelled ones.
    The spectra come from :func:`~neurosim.radiation.environment.scenario_spectra` (memoised
    per process)."""
    env = scenario_spectra(orbit_from_dict(orbit_table), float(shielding_mm_al), solar,
                           spe_model, imported)
    weibull = load_device(device).classes["weight_sram"].heavy_ion
    title = (f"LET spectrum imported from {os.path.basename(imported.let.path)}"
             if imported is not None and imported.let is not None else None)
    return {"ground_track": ground_track_figure(env), "proton_spectra": proton_spectra_figure(env),
            "let_spectrum": let_spectrum_figure(env, weibull, title)}
