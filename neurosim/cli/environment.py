"""``neurosim environment SCENARIO``: the particle environment of a scenario and the rates that
follow from it — per memory class the upset rate at solar minimum and maximum with its parts
(trapped protons, GCR heavy ions, GCR protons, solar events), the SAA share, the latch-up rate,
the dose rate — and, with ``--figures DIR``, the ground track over the AP8 flux map, the proton
spectra before and after the shielding and the LET spectrum with the device's Weibull curve."""
import os

from neurosim import fileio
from neurosim.cli.common import add_json_flag
from neurosim.radiation import environment as env
from neurosim.radiation import environments as envs
from neurosim.radiation import figures
from neurosim.mission import scenario as scn
from neurosim.radiation import schedule
from neurosim.radiation.device import MEMORY_CLASSES, load_device, uncorrectable_share


def add_arguments(sub):
    p = sub.add_parser(
        "environment", help="particle environment and upset/latch-up rates of a scenario",
        description="Compute a scenario's radiation environment from its orbit, shielding and "
                    "device (SGP4, AP8/AE8, GCR and solar-event spectra through the shielding, "
                    "folded with the device's cross-sections) and print, per memory class, the "
                    "upset rate at solar minimum and maximum with its parts, the SAA share, the "
                    "latch-up rate and the dose rate. Results are cached per input hash.")
    p.add_argument("scenario", metavar="SCENARIO", help="scenario TOML file")
    p.add_argument("--figures", metavar="DIR", default=None,
                   help="also save ground_track.png, proton_spectra.png and let_spectrum.png "
                        "(solar minimum) into DIR")
    add_json_flag(p)


def run(args):
    """The environment of ``args.scenario`` (module doc); the --json object."""
    if args.figures is not None:
        fileio.check_output_dir(args.figures, "--figures")
    scenario = scn.load(args.scenario)
    out = summary(scenario)
    if args.figures is not None:
        out["figures"] = save_figures(scenario, args.figures)
    if not args.json:
        print_summary(out)
    return out


def summary(scenario):
    """Per-class rates, parts, SAA share, latch-up and dose of a loaded scenario (JSON-ready).
    ``secded_uncorrectable_fraction``: the share of upset events SECDED cannot correct at the
    scenario's ``[mitigation] column_interleave`` for MCUs of the device's span
    (:func:`~neurosim.radiation.device.uncorrectable_share`); missions draw 2-cell clusters
    (:func:`~neurosim.radiation.snapshot.flipped_bits`), which any interleave ≥ 2 separates."""
    v = scenario.values
    phys = v["physics"]
    days = v["mission"]["duration_years"] * schedule.DAYS_PER_YEAR
    background, sigma30, saa, mcu = envs.upset_rates(v)
    mean = schedule.mission_mean_rates(v, days)
    interleave = v["mitigation"]["column_interleave"]
    classes = {}
    for i, k in enumerate(MEMORY_CLASSES):
        classes[k] = {
            "rate_per_bit_day": {p: background[p][i] for p in envs.PHASES},
            "mission_mean_rate_per_bit_day": mean[i],
            "parts_per_bit_day": {p: phys["parts"][p][k] for p in envs.PHASES},
            "solar_upsets_per_bit_per_fluence30": sigma30[i],
            "saa_share_of_upsets": {p: saa[p][i] for p in envs.PHASES},
            "mcu_share": mcu[i],
            "mcu_max_span": phys["mcu_span"][i],
            "secded_uncorrectable_fraction": uncorrectable_share(mcu[i], phys["mcu_span"][i],
                                                                 interleave),
            "device": phys["devices"][k],
            "source": scenario.sources.get(f"upsets.{k}_rate_per_bit_day", ""),
            "heavy_ion_cross_check_geo": fom_cross_check(scenario, k),
        }
    return {
        "scenario": scenario.name, "orbit": v["orbit"],
        "shielding_mm_al": v["environment"]["shielding_mm_al"], "classes": classes,
        "column_interleave": interleave, "secded": v["mitigation"]["secded"],
        "trapped_saa_share": phys["trapped_saa_share"],
        "trapped_proton_above_10mev_cm2_s": phys["trapped_proton_above_10mev_cm2_s"],
        "trapped_electron_above_1mev_cm2_s": phys["trapped_electron_above_1mev_cm2_s"],
        "trapped_electron_spectrum": phys["trapped_electron_spectrum"],
        "latchup_per_core_day": phys["latchup_per_core_day"],
        "latchup_used_per_core_day": schedule.mission_latchup_rate(v, days),
        "solar_active_share": schedule.active_share(v, days),
        "dose_rate_rad_per_year": v["dose"]["dose_rate_rad_per_year"],
        "alsat1_flight_rate_per_bit_day": envs.ALSAT1_FLIGHT_RATE_PER_BIT_DAY,
    }


def fom_cross_check(scenario, cls):
    """Petersen's figure of merit beside the integral RPP for memory class ``cls``: both rates
    (upsets/bit/day) of the class's heavy-ion curve in GEO at solar minimum behind the
    scenario's shielding, the only orbit of the FOM coefficient [petersen1992]; the FOM is a
    ±2–3× estimate meant for curves of the usual shape (README, validation table)."""
    v = scenario.values
    device = load_device(v["device"][cls] or v["device"]["name"])
    geo = env.environment_report(env.PHYSICS_PRESETS["geo"].orbit,
                                 v["environment"]["shielding_mm_al"], device, "min")
    entry = geo["classes"][cls]
    fom, irpp = entry["petersen_fom_geo_rate_per_bit_day"], entry["parts_per_bit_day"][
        "gcr_heavy_ion"]
    return {"petersen_fom_rate_per_bit_day": fom, "irpp_rate_per_bit_day": irpp,
            "irpp_over_fom": irpp / fom if fom > 0 else None}


def save_figures(scenario, out_dir):
    """Save the environment figures at solar minimum into ``out_dir``; returns their paths."""
    v = scenario.values
    device = v["device"]["weight_sram"] or v["device"]["name"]
    made = figures.scenario_figures(v["orbit"], v["environment"]["shielding_mm_al"],
                                    envs.solar_model(v["solar_events"]), device,
                                    imported=envs.imported_spectra(v["environment"]))
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for name, fig in made.items():
        path = os.path.join(out_dir, f"{name}.png")
        with fileio.atomic_write(path, "wb", suffix=".png") as (f, _):
            fig.savefig(f, format="png", dpi=110)
        paths.append(path)
    return paths


def print_summary(out):
    """The text table of :func:`summary`."""
    print(f"environment of {out['scenario']}: orbit {envs.orbit_text(out['orbit'])}, "
          f"{out['shielding_mm_al']:g} mm Al, solar-active share of the mission "
          f"{out['solar_active_share']:.0%}")
    print(f"{'class':<12} {'phase':<5} {'upsets/bit/day':>14} {'trapped p':>10} {'GCR ions':>10} "
          f"{'GCR p':>10} {'SAA share':>9}  device")
    for k, c in out["classes"].items():
        for p in envs.PHASES:
            parts = c["parts_per_bit_day"][p]
            print(f"{k:<12} {p:<5} {c['rate_per_bit_day'][p]:>14.3g} "
                  f"{parts['trapped_proton']:>10.3g} {parts['gcr_heavy_ion']:>10.3g} "
                  f"{parts['gcr_proton']:>10.3g} {c['saa_share_of_upsets'][p]:>9.0%}  "
                  f"{c['device']}")
        print(f"{'':<12} solar events: {c['solar_upsets_per_bit_per_fluence30']:.3g} upsets/bit "
              f"per cm⁻² of fluence > 30 MeV; mission mean {c['mission_mean_rate_per_bit_day']:.3g}"
              f" upsets/bit/day")
        check = c["heavy_ion_cross_check_geo"]
        ratio = (f"IRPP/FOM {check['irpp_over_fom']:.2g}" if check["irpp_over_fom"] is not None
                 else "no FOM")
        print(f"{'':<12} heavy-ion cross-check in GEO (solar min, this shielding): IRPP "
              f"{check['irpp_rate_per_bit_day']:.3g}, Petersen FOM "
              f"{check['petersen_fom_rate_per_bit_day']:.3g} upsets/bit/day ({ratio}; the FOM is "
              "a ±2–3× estimate for curves of the usual shape)")
        secded = (f"SECDED cannot correct {c['secded_uncorrectable_fraction']:.0%} of events at "
                  f"column interleave {out['column_interleave']}" if out["secded"] else
                  "SECDED is off: every MCU stays in force")
        print(f"{'':<12} MCUs: {c['mcu_share']:.0%} of events, up to {c['mcu_max_span']} cells; "
              f"{secded}")
    lu = out["latchup_per_core_day"]
    print(f"latch-up: {lu['min']:.3g} (min) / {lu['max']:.3g} (max) per core per day; "
          f"used {out['latchup_used_per_core_day']:.3g}")
    print(f"trapped protons > 10 MeV: {out['trapped_proton_above_10mev_cm2_s']['min']:.3g} "
          f"cm⁻² s⁻¹ (min), SAA share of that flux {out['trapped_saa_share']['min']:.0%}; dose "
          f"rate {out['dose_rate_rad_per_year']:g} rad(Si)/yr (scenario); Alsat-1 flight "
          f"average {out['alsat1_flight_rate_per_bit_day']:.3g} upsets/bit/day (a comparison: "
          "another device)")
    electrons = out["trapped_electron_above_1mev_cm2_s"]
    print("trapped electrons (AE8, orbit average, outside the shielding), J(>1 MeV): "
          + " / ".join(f"{electrons[p]:.3g} ({p})" for p in envs.PHASES) + " cm⁻² s⁻¹; "
          "spectrum in the JSON (trapped_electron_spectrum)")
    for path in out.get("figures", []):
        print(f"wrote {path}")
