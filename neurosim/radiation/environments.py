"""Radiation environment presets: sourced rates only.

A preset fills in the scenario fields for which REFERENCES.md §3 has a published figure, each with
its ``source`` string. Where no figure exists the preset leaves the field out and the scenario file
must give it (with its own ``source``); the scenario loader refuses a scenario that lacks one.

Models the figures feed (see :mod:`neurosim.radiation.timeline`):

- upsets in a memory class in an interval Δt: N ~ Poisson(λ · bits · Δt), λ in upsets/bit/day;
- total ionising dose D(t) = Ḋ · t (rad(Si)/year · years); a unit dies when D(t) passes the
  failure dose it drew;
- the solar cycle: 11 years, of which 7 are solar-active (SPENVIS; ECSS-E-ST-10-04C Annex I).

Figures (REFERENCES.md §3):

===========================  =============================  ==========================================
figure                       value                          source
===========================  =============================  ==========================================
LEO upset rate               4.04e-7 upsets/bit/day         Alsat-1 (686 km sun-synchronous orbit),
                                                            8 years, commercial memories
LEO multi-bit fraction       1.4 % (98.6 % single-bit)      Alsat-1
LEO SAA share of upsets      ~90 %                          UoSAT-2 (Wu et al. 2025, secondary)
LEO dose rate                ~150 rad(Si)/year              behind ~10 mm Al (secondary)
GEO block-RAM upset rate     5.29e-9 upsets/bit/day         Lee et al. 2018 (16 nm FPGA, CREME96,
                                                            solar minimum, 100 mil Al; secondary)
GEO flip-flop upset rate     2.08e-8 upsets/bit/day         same
===========================  =============================  ==========================================

Predicted rates are uncertain by at least 2× (CREME vs CRRES flight data: ratio 0.8–2.4); use the
scenario's ``[upsets] rate_scale`` for sensitivity studies.

Presets:

``leo-sso``  the Alsat-1 orbit itself: upset rate, multi-bit fraction, SAA share, LEO dose rate.
``leo-iss``  the same LEO figures: REFERENCES has no ISS-specific (400 km, 51.6°) figure; the
             Alsat-1 rate from a higher, polar orbit is likely conservative for the ISS orbit
             (an assumption, stated in the source strings).
``geo``      the CREME96 block-RAM rate for all SRAM classes (TrueNorth keeps weights, potentials
             and routing in core SRAM); SAA share 0 (GEO does not cross the inner belt). No sourced
             GEO dose rate or multi-bit fraction: the scenario must give them.
``deep-space`` SAA share 0 (no trapped belts); no sourced upset rate, dose rate or multi-bit
             fraction: the scenario must give them.
"""
from dataclasses import dataclass, field

ALSAT1 = ("Alsat-1 (686 km sun-synchronous LEO), 8 years of commercial-memory upsets: "
          "4.04e-7 upsets/bit/day, 98.6 % single-bit (REFERENCES.md §3)")
ALSAT1_ISS = ("Alsat-1 (686 km SSO) rate used for the ISS orbit: no ISS-specific figure in "
              "REFERENCES.md §3; likely conservative for 400 km / 51.6° (assumption)")
SAA_UOSAT2 = ("UoSAT-2: ~90 % of LEO upsets in the South Atlantic Anomaly (Wu et al. 2025, "
              "secondary; REFERENCES.md §3)")
LEO_DOSE = "~150 rad(Si)/year in LEO behind ~10 mm Al (secondary; REFERENCES.md §3)"
GEO_BRAM = ("Lee et al. 2018 (16 nm FPGA, CREME96, GEO, solar minimum, 100 mil Al): block RAM "
            "5.29e-9 upsets/bit/day (secondary; REFERENCES.md §3)")
NO_SAA_GEO = "GEO (35,786 km) does not cross the South Atlantic Anomaly (inner trapped belt)"
NO_SAA_DEEP = "deep space: no trapped-particle belts, so no South Atlantic Anomaly"
SOLAR_CYCLE = ("11-year solar cycle, 7 solar-active years (SPENVIS; JPL model in "
               "ECSS-E-ST-10-04C Annex I; REFERENCES.md §3)")
CREME_UNCERTAINTY = "predicted rates uncertain by ≥ 2× (CREME vs CRRES: ratio 0.8–2.4)"


@dataclass(frozen=True)
class Environment:
    """A preset: ``values`` maps ``section.key`` to a number; ``sources`` the same keys to a
    source string; ``shielding_mm_al`` the shielding the figures hold for."""

    name: str
    description: str
    shielding_mm_al: float
    values: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)


def _upset_rate(rate, source):
    """One measured per-bit upset rate, applied to weight SRAM, potentials and routing alike."""
    return {f"upsets__{kind}_rate_per_bit_day": (rate, source)
            for kind in ("weight_sram", "potential", "routing")}


def _env(name, description, shielding, **entries):
    values = {k.replace("__", "."): v[0] for k, v in entries.items()}
    sources = {k.replace("__", "."): v[1] for k, v in entries.items()}
    return Environment(name, description, shielding, values, sources)


PRESETS = {
    "leo-sso": _env(
        "leo-sso", "sun-synchronous LEO (the Alsat-1 orbit, 686 km)", 10.0,
        **_upset_rate(4.04e-7, ALSAT1),
        upsets__multi_bit_fraction=(0.014, ALSAT1),
        upsets__saa_share=(0.9, SAA_UOSAT2),
        dose__dose_rate_rad_per_year=(150.0, LEO_DOSE),
    ),
    "leo-iss": _env(
        "leo-iss", "ISS-like LEO (400 km, 51.6°), with the Alsat-1 figures", 10.0,
        **_upset_rate(4.04e-7, ALSAT1_ISS),
        upsets__multi_bit_fraction=(0.014, ALSAT1_ISS),
        upsets__saa_share=(0.9, SAA_UOSAT2),
        dose__dose_rate_rad_per_year=(150.0, LEO_DOSE),
    ),
    "geo": _env(
        "geo", "geostationary orbit (CREME96 figures at solar minimum)", 2.54,
        **_upset_rate(5.29e-9, GEO_BRAM),
        upsets__saa_share=(0.0, NO_SAA_GEO),
    ),
    "deep-space": _env(
        "deep-space", "interplanetary cruise: only the absence of trapped belts is preset", 0.0,
        upsets__saa_share=(0.0, NO_SAA_DEEP),
    ),
}


def get_preset(name):
    """The preset called ``name`` or None."""
    return PRESETS.get(name)
