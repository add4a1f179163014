"""Orbits and ground tracks: SGP4 propagation [vallado2006] through the ``sgp4`` package.

An orbit is circular (``altitude_km``, ``inclination_deg``) or a two-line element set (TLE), or
``interplanetary`` (no Earth: no trapped belts, no geomagnetic shielding). The track is sampled
every ``step_s`` seconds over ``span_days`` days from ``epoch`` (defaults: 30 s over 4 days, about
64 revolutions in LEO, so the ground track covers every longitude about 64 times;
``tests/test_radiation_physics.py`` shows that halving the step and doubling the span changes the
orbit-averaged trapped-proton flux by < 2 %).

Positions are rotated from SGP4's TEME frame to Earth-fixed by the Greenwich mean sidereal angle
(polar motion and the equation of the equinoxes, < 1 km here, are neglected) and converted to
geodetic latitude, longitude and altitude on the WGS-84 ellipsoid.
"""
from dataclasses import dataclass

import numpy as np
from sgp4.api import WGS72, Satrec, jday
from sgp4.propagation import gstime

from ..errors import ValidationError

EARTH_RADIUS_KM = 6378.137  # WGS-84 equatorial radius
EARTH_MU_KM3_S2 = 398600.8  # WGS-72 (SGP4's constants)
WGS84_F = 1 / 298.257223563
ORBIT_KEYS = {"altitude_km", "inclination_deg", "tle", "kind", "step_s", "span_days", "epoch"}
EPOCH = (2020, 1, 1)  # assumption: a fixed epoch; AP8 ignores the date, SGP4 needs one


@dataclass(frozen=True)
class Orbit:
    """What to fly: ``kind`` is "circular", "tle" or "interplanetary"."""

    kind: str = "circular"
    altitude_km: float = 0.0
    inclination_deg: float = 0.0
    tle: tuple = ()
    step_s: float = 30.0
    span_days: float = 4.0

    @property
    def near_earth(self):
        """False for interplanetary cruise (no magnetosphere, no trapped belts)."""
        return self.kind != "interplanetary"


@dataclass(frozen=True)
class Track:
    """Sampled positions: time (s from epoch), geodetic lat/lon (deg), altitude (km), and
    Earth-fixed Cartesian x, y, z (km), one row per sample."""

    time_s: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    alt_km: np.ndarray
    xyz_km: np.ndarray


def circular_orbit(altitude_km, inclination_deg, step_s=30.0, span_days=4.0, where="[orbit]"):
    """A circular orbit; refuses an altitude < 100 km and an inclination outside [0, 180]."""
    alt = float(altitude_km)
    inc = float(inclination_deg)
    if not np.isfinite(alt) or alt < 100:
        raise ValidationError(f"{where} altitude_km is {altitude_km}; expected ≥ 100 km "
                              "(below that the orbit decays within hours)", "altitude_km")
    if not np.isfinite(inc) or not 0 <= inc <= 180:
        raise ValidationError(f"{where} inclination_deg is {inclination_deg}; "
                              "expected a number in [0, 180]", "inclination_deg")
    step, span = _check_sampling(step_s, span_days, where)
    return Orbit("circular", alt, inc, (), step, span)


def tle_orbit(line1, line2, step_s=30.0, span_days=4.0, where="[orbit]"):
    """An orbit from a two-line element set; refuses one that SGP4 cannot parse."""
    sat = _parse_tle(line1, line2, where)
    alt = (EARTH_MU_KM3_S2 / (sat.no_kozai / 60.0) ** 2) ** (1 / 3) - EARTH_RADIUS_KM
    _check_sampling(step_s, span_days, where)
    return Orbit("tle", float(alt), float(np.degrees(sat.inclo)), (line1, line2),
                 float(step_s), float(span_days))


def interplanetary_orbit():
    """Interplanetary cruise near 1 AU: no trapped belts, full (unshielded by Earth) GCR."""
    return Orbit("interplanetary")


def orbit_from_dict(table, where="[orbit]"):
    """Build an :class:`Orbit` from a scenario ``[orbit]`` table.

    Keys: ``altitude_km`` + ``inclination_deg`` (circular), or ``tle = [line1, line2]``, or
    ``kind = "interplanetary"``; optional ``step_s``, ``span_days``. An unknown key is refused.
    """
    unknown = sorted(set(table) - ORBIT_KEYS)
    if unknown:
        raise ValidationError(f"{where}: unknown key '{unknown[0]}'; expected one of "
                              f"{', '.join(sorted(ORBIT_KEYS))}", unknown[0])
    sampling = {k: table[k] for k in ("step_s", "span_days") if k in table}
    if table.get("kind") == "interplanetary":
        return interplanetary_orbit()
    if "tle" in table:
        tle = table["tle"]
        if not isinstance(tle, (list, tuple)) or len(tle) != 2:
            raise ValidationError(f"{where} tle is {tle!r}; expected two strings (TLE lines 1 "
                                  "and 2)", "tle")
        return tle_orbit(tle[0], tle[1], **sampling, where=where)
    for key in ("altitude_km", "inclination_deg"):
        if key not in table:
            raise ValidationError(f"{where}: missing '{key}'; a circular orbit needs "
                                  "altitude_km and inclination_deg (or give tle)")
    return circular_orbit(table["altitude_km"], table["inclination_deg"], **sampling,
                          where=where)


def _check_sampling(step_s, span_days, where="[orbit]"):
    """Refuse a step ≤ 0 or a span ≤ 0."""
    for name, value in (("step_s", step_s), ("span_days", span_days)):
        if not np.isfinite(float(value)) or float(value) <= 0:
            raise ValidationError(f"{where} {name} is {value}; expected a number > 0", name)
    return float(step_s), float(span_days)


def _parse_tle(line1, line2, where="[orbit]"):
    """A Satrec from two TLE lines, or a ValidationError quoting them."""
    shown = f"[{_clip(line1)!r}, {_clip(line2)!r}]"
    try:
        sat = Satrec.twoline2rv(str(line1), str(line2))
    except (ValueError, IndexError) as exc:
        raise ValidationError(f"{where} tle = {shown} does not parse ({exc}); expected two "
                              "TLE lines of 69 characters", "tle") from None
    if sat.error or sat.no_kozai <= 0:
        raise ValidationError(f"{where} tle = {shown} does not parse (SGP4 error "
                              f"{sat.error}); expected a valid two-line element set", "tle")
    return sat


def _clip(text, limit=72):
    """``text`` as a string, cut to ``limit`` characters with "…" (for one-line messages)."""
    text = str(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _circular_satrec(orbit):
    """SGP4 elements of a circular orbit (e ≈ 0, no drag) at :data:`EPOCH`."""
    a_km = EARTH_RADIUS_KM + orbit.altitude_km
    mean_motion_rad_min = np.sqrt(EARTH_MU_KM3_S2 / a_km ** 3) * 60.0
    jd, fr = jday(*EPOCH, 0, 0, 0)
    sat = Satrec()
    sat.sgp4init(WGS72, "i", 1, jd + fr - 2433281.5, 0.0, 0.0, 0.0, 1e-7, 0.0,
                 np.radians(orbit.inclination_deg), 0.0, mean_motion_rad_min, 0.0)
    return sat


def propagate(orbit):
    """The sampled :class:`Track` of ``orbit`` (not for interplanetary orbits)."""
    if orbit.kind == "tle":
        sat = _parse_tle(*orbit.tle)
        jd0, fr0 = sat.jdsatepoch, sat.jdsatepochF
    else:
        sat = _circular_satrec(orbit)
        jd0, fr0 = jday(*EPOCH, 0, 0, 0)
    t = np.arange(0.0, orbit.span_days * 86400.0, orbit.step_s)
    jd = np.full(t.shape, jd0)
    fr = fr0 + t / 86400.0
    err, r_teme, _ = sat.sgp4_array(jd, fr)
    if np.any(err):
        raise ValidationError(f"[orbit] SGP4 failed (error {int(err.max())}) for this orbit; "
                              "expected an orbit that stays above the atmosphere")
    xyz = _teme_to_ecef(r_teme, jd + fr)
    lat, lon, alt = geodetic(xyz)
    return Track(t, lat, lon, alt, xyz)


def _teme_to_ecef(r_teme, jd_ut1):
    """Rotate TEME positions by the Greenwich mean sidereal angle θ: x' = R_z(θ) x."""
    theta = np.array([gstime(j) for j in jd_ut1]) if np.ndim(jd_ut1) else gstime(jd_ut1)
    c, s = np.cos(theta), np.sin(theta)
    x, y, z = r_teme[:, 0], r_teme[:, 1], r_teme[:, 2]
    return np.column_stack([c * x + s * y, -s * x + c * y, z])


def geodetic(xyz_km):
    """WGS-84 geodetic latitude, longitude (deg) and height (km) of Earth-fixed positions
    (Bowring's closed form, error < 1 m in LEO)."""
    a = EARTH_RADIUS_KM
    b = a * (1 - WGS84_F)
    e2 = 1 - (b / a) ** 2
    ep2 = (a / b) ** 2 - 1
    x, y, z = xyz_km[:, 0], xyz_km[:, 1], xyz_km[:, 2]
    p = np.hypot(x, y)
    th = np.arctan2(z * a, p * b)
    lat = np.arctan2(z + ep2 * b * np.sin(th) ** 3, p - e2 * a * np.cos(th) ** 3)
    n = a / np.sqrt(1 - e2 * np.sin(lat) ** 2)
    alt = p / np.cos(lat) - n
    return np.degrees(lat), np.degrees(np.arctan2(y, x)), alt
