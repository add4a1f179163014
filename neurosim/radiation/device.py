"""Device response: cross-section curves of a chip's memory classes and of latch-up.

Curves (per bit, cm²; LET in MeV cm²/mg, proton energy in MeV):

- heavy-ion Weibull [petersen1992]: σ(L) = σ_sat (1 − exp(−((L − L₀)/W)^s)) for L > L₀, else 0;
- proton Weibull: the same form in proton energy E (E₀, W, s, σ_sat);
- proton Bendel two-parameter [stapor1990]: σ(E) = (B/A)^14 · 10⁻¹² (1 − exp(−0.18 Y^0.5))⁴,
  Y = (18/A)^0.5 (E − A), with A, B in MeV (A the onset, B fixes the saturation);
- latch-up Weibull σ_SEL(L) per chip (cm²).

A device file (TOML, ``data/devices/*.toml``) gives every value as ``{value = ..., source =
"..."}``; a value that had to be assumed says "assumption" in its source (:func:`assumed_fields`
lists them). Shipped: ``sram-28nm-bulk`` — heavy-ion Weibull of the 28 nm Kintex-7 block RAM
[lee2014kintex7], proton Bendel curve through two measured Kintex-7 points [sielewicz-kintex7],
[wirthlin2014jinst], latch-up onset of the Kintex-7 [berg2016nepp]; RPP depth, MCU and the rest of
the latch-up curve assumed — and ``sram-65nm-bulk`` (MCU span [ti-spracc0a]; all curves assumed:
no 65 nm fit with numbers was found). Memory classes
(``weight_sram``, ``potential``, ``routing``) share the device's cell unless a
``[classes.<name>]`` table overrides a curve. MCU: ``mcu.share`` is the fraction of upset events
that flip more than one cell; the cells of a cluster are physically adjacent along a row (up to
``mcu.max_span`` cells); with column interleaving ``interleave`` ≥ span the flipped cells belong
to different logical words, so SECDED corrects each (see :func:`words_with_multiple_flips`); a
cluster across rows always does [ti-spracc0a].
"""
import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import InputFileError, ValidationError

MEMORY_CLASSES = ("weight_sram", "potential", "routing")


@dataclass(frozen=True)
class Weibull:
    """σ(x) = σ_sat (1 − exp(−((x − x₀)/W)^s)) for x > x₀ (x: LET or proton energy)."""

    onset: float
    width: float
    shape: float
    sigma_sat: float

    def __call__(self, x):
        x = np.asarray(x, dtype=float)
        arg = np.maximum(x - self.onset, 0.0) / self.width
        return self.sigma_sat * (1.0 - np.exp(-arg ** self.shape))

    def quantile(self, fraction):
        """x where σ = fraction · σ_sat: x₀ + W (−ln(1 − fraction))^(1/s)."""
        return self.onset + self.width * (-math.log(1.0 - fraction)) ** (1.0 / self.shape)


@dataclass(frozen=True)
class Bendel:
    """Two-parameter Bendel proton cross-section [stapor1990]; A, B in MeV."""

    a_mev: float
    b_mev: float

    def __call__(self, energy_mev):
        e = np.asarray(energy_mev, dtype=float)
        y = np.sqrt(18.0 / self.a_mev) * np.maximum(e - self.a_mev, 0.0)
        return (self.b_mev / self.a_mev) ** 14 * 1e-12 * (1 - np.exp(-0.18 * np.sqrt(y))) ** 4


@dataclass(frozen=True)
class CellResponse:
    """One memory cell type: heavy-ion Weibull σ(LET), proton σ(E), the sensitive depth of
    the RPP (µm) and MCU figures."""

    heavy_ion: Weibull
    proton: object  # Weibull (in energy) or Bendel
    depth_um: float
    mcu_share: float
    mcu_max_span: int


@dataclass(frozen=True)
class Device:
    """A chip: its name, node, the cell response per memory class, latch-up per chip, and the
    source of every value (``sources['heavy_ion.sigma_sat']`` …)."""

    name: str
    node_nm: float
    classes: dict
    latchup: Weibull
    sources: dict = field(default_factory=dict)


def _value(table, key, where, sources, prefix):
    """``table[key]`` as ``{value, source}``; records the source; refuses a bare number."""
    entry = table.get(key)
    if not isinstance(entry, dict) or "value" not in entry or "source" not in entry:
        raise ValidationError(f"{where}: field '{prefix}{key}' is {entry!r}; expected "
                              "{value = <number>, source = \"...\"}")
    sources[f"{prefix}{key}"] = str(entry["source"])
    return entry["value"]


def weibull_from_table(table, where, sources, prefix):
    """A :class:`Weibull` from ``onset``/``width``/``shape``/``sigma_sat`` entries; refuses
    σ_sat ≤ 0, onset < 0, width ≤ 0 or shape ≤ 0."""
    vals = {k: float(_value(table, k, where, sources, prefix))
            for k in ("onset", "width", "shape", "sigma_sat")}
    checks = (("sigma_sat", vals["sigma_sat"] > 0, "> 0 cm²"), ("onset", vals["onset"] >= 0, "≥ 0"),
              ("width", vals["width"] > 0, "> 0"), ("shape", vals["shape"] > 0, "> 0"))
    for key, ok, expected in checks:
        if not ok or not math.isfinite(vals[key]):
            raise ValidationError(f"{where}: field '{prefix}{key}' is {vals[key]}; expected "
                                  f"{expected}")
    return Weibull(vals["onset"], vals["width"], vals["shape"], vals["sigma_sat"])


def _proton_curve(table, where, sources, prefix):
    """Proton curve: ``model = "bendel"`` (a_mev, b_mev) or ``"weibull"`` (in MeV)."""
    model = table.get("model", "weibull")
    if model == "bendel":
        a = float(_value(table, "a_mev", where, sources, prefix))
        b = float(_value(table, "b_mev", where, sources, prefix))
        if not a > 0 or not b > 0:
            raise ValidationError(f"{where}: field '{prefix}a_mev/b_mev' is {a}/{b}; "
                                  "expected both > 0 MeV")
        return Bendel(a, b)
    if model != "weibull":
        raise ValidationError(f"{where}: field '{prefix}model' is {model!r}; expected "
                              "'weibull' or 'bendel'")
    return weibull_from_table(table, where, sources, prefix)


def _cell(table, base, where, sources, prefix):
    """A :class:`CellResponse` from ``table``, falling back on ``base`` for missing parts."""
    hi = (weibull_from_table(table["heavy_ion"], where, sources, f"{prefix}heavy_ion.")
          if "heavy_ion" in table else base.heavy_ion)
    pr = (_proton_curve(table["proton"], where, sources, f"{prefix}proton.")
          if "proton" in table else base.proton)
    rpp, mcu = table.get("rpp"), table.get("mcu")
    depth = (float(_value(rpp, "depth_um", where, sources, f"{prefix}rpp."))
             if rpp else base.depth_um)
    share = (float(_value(mcu, "share", where, sources, f"{prefix}mcu."))
             if mcu else base.mcu_share)
    span = (int(_value(mcu, "max_span", where, sources, f"{prefix}mcu."))
            if mcu else base.mcu_max_span)
    if not depth > 0 or not 0 <= share < 1 or span < 1:
        raise ValidationError(f"{where}: depth_um {depth}, mcu.share {share}, mcu.max_span "
                              f"{span}; expected depth > 0, share in [0, 1), span ≥ 1")
    return CellResponse(hi, pr, depth, share, span)


def device_from_dict(data, where="[device]"):
    """Build a :class:`Device` from a parsed device table (see module doc for the layout)."""
    sources = {}
    for key in ("heavy_ion", "proton", "rpp", "mcu", "latchup"):
        if key not in data:
            raise ValidationError(f"{where}: missing table '{key}'")
    empty = CellResponse(None, None, 1.0, 0.0, 1)
    base = _cell(data, empty, where, sources, "")
    classes = {}
    extra = data.get("classes", {})
    unknown = sorted(set(extra) - set(MEMORY_CLASSES))
    if unknown:
        raise ValidationError(f"{where}: unknown memory class '{unknown[0]}'; expected one of "
                              f"{', '.join(MEMORY_CLASSES)}")
    for name in MEMORY_CLASSES:
        classes[name] = _cell(extra[name], base, where, sources, f"classes.{name}.") \
            if name in extra else base
    latch = weibull_from_table(data["latchup"], where, sources, "latchup.")
    return Device(str(data.get("name", "device")), float(data.get("node_nm", 0)), classes,
                  latch, sources)


def assumed_fields(dev):
    """Keys of ``dev.sources`` (``"heavy_ion.onset"`` …) whose source says "assumption": the
    values a test report of the chip should replace, sorted."""
    return sorted(key for key, text in dev.sources.items() if "assumption" in text.lower())


def shipped_devices():
    """Names of the packaged device files."""
    folder = resources.files("neurosim.radiation").joinpath("data/devices")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_device(name_or_path):
    """A shipped device by name (see :func:`shipped_devices`) or a device TOML file."""
    if name_or_path in shipped_devices():
        text = resources.files("neurosim.radiation").joinpath(
            f"data/devices/{name_or_path}.toml").read_text()
        where = f"device '{name_or_path}'"
    else:
        path = Path(name_or_path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise InputFileError(f"{path}: cannot read device file ({exc.strerror}); expected "
                                 f"a TOML file or one of {', '.join(shipped_devices())}") from None
        where = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(f"{where}: not valid TOML ({exc})") from None
    return device_from_dict(data, where)


def words_with_multiple_flips(span, interleave):
    """Largest number of flipped bits that one MCU of ``span`` adjacent cells puts into one
    logical word when physically adjacent cells belong to words ``interleave`` apart:
    ⌈span / interleave⌉. SECDED corrects the MCU iff this is 1."""
    return math.ceil(span / max(int(interleave), 1))


def secded_uncorrectable_fraction(cell, interleave):
    """Fraction of upset *events* that SECDED cannot correct in memory of ``cell``
    (:func:`uncorrectable_share` of its MCU share and span)."""
    return uncorrectable_share(cell.mcu_share, cell.mcu_max_span, interleave)


def uncorrectable_share(mcu_share, span, interleave):
    """Fraction of upset events SECDED cannot correct: ``mcu_share`` if an MCU of ``span`` cells
    can put two flips in one word (interleave < span), else 0."""
    return mcu_share if words_with_multiple_flips(span, interleave) > 1 else 0.0


def petersen_fom(weibull):
    """Petersen's figure of merit FOM = σ_sat / L₀.₂₅² (cm² (MeV cm²/mg)⁻²), L₀.₂₅ the LET at
    a quarter of saturation [petersen1992]."""
    return weibull.sigma_sat / weibull.quantile(0.25) ** 2


FOM_GEO_COEFFICIENT = 200.0  # upsets/bit/day per FOM unit, GEO solar minimum [petersen1992]
