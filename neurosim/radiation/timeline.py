"""Fault timelines: one Monte Carlo run's faults over mission time, sampled vectorised.

Time is mission time in days; nothing here runs per tick or loops per bit (DESIGN.md "Mission
time versus chip time"). One run draws, with its own ``numpy.random.Generator``:

Solar cycle and solar particle events
    Mission year y is solar-active when (y + ``solar_cycle_phase_at_launch_years``) mod
    ``cycle_years`` < ``active_years`` ([spenvis]: 7 of 11; whole years, the granularity of
    :func:`neurosim.radiation.cosmic.sample_solar_events`). With ``cycle_model = "steps"`` (the
    default) active years use the solar-maximum rates of the physics (AP8-MAX, GCR at
    φ = 1100 MV), quiet years the solar-minimum ones (AP8-MIN, φ = 400 MV); with ``"sunspot"``
    the background rates follow the sunspot cycle month by month, λ_min + w(t)(λ_max − λ_min)
    (:mod:`neurosim.radiation.solar_cycle`). The rates are ``values["physics"]`` from
    :mod:`neurosim.radiation.environments`, the scenario's measured overrides applied
    (:func:`~neurosim.radiation.environments.upset_rates`).
    Solar particle events are discrete: a Poisson process of ``events_per_active_year`` in active
    years, each with its own fluence Φ₃₀ > 30 MeV from the log-normal of the statistical model
    [feynman1993] (:func:`~neurosim.radiation.cosmic.sample_solar_events`), lasting
    ``event_duration_days``; scheduled events are added with their given Φ₃₀.

Upsets (single-event upsets) per physical core and memory class k
    In each window w (a mission year or month, or a solar event) N ~ Poisson(μ_wk · s · bits_k) with
    μ_wk = λ_wk · Δt_w for a background window (λ_wk = λ_k,min + w (λ_k,max − λ_k,min), w its
    solar-maximum weight) and σ₃₀,k · Φ₃₀ for an event (λ upsets/bit/day and σ₃₀
    upsets/bit per cm⁻² from the physics, s = ``rate_scale``), times uniform in the window,
    positions uniform over the class's bits (with SECDED over the data *and* check bits of every
    word). A share ``mcu_share[k]`` of events (the device's multi-cell share) also flips the
    adjacent bit of the same word (column interleave 1: assumption); a share ``saa_share[k]`` of
    the background upsets happens in SAA passes — the within-day modulation, which matters only
    with ``scrub_after_saa`` (those upsets are then dropped: never live at a checkpoint). Classes
    and positions are the core's memory map, :class:`neurosim.chip.memory.CoreMemory`: ``sram``
    (crossbar, sign-magnitude weights, thresholds), ``potential`` (two's complement) and
    ``routing`` (axon, column, row); for TrueNorth 18-bit thresholds, 20-bit potentials, 20-bit
    routes. An upset lives from its time until the next scrub (every ``scrub_period_days`` P, at
    times φ + n·P, n = 0, 1, …, with the phase φ drawn uniformly in [0, P) per run from the run's
    generator, after every other draw; a checkpoint at a scrub time is evaluated before the
    scrub). The random phase keeps the checkpoints from aliasing with the scrub period: with
    φ = 0, 30-day scrubs read at 30.44-day checkpoints would see the live upsets ramp for
    P²/|Δ| ≈ 5.7 years and reset, an artefact of the sampling, not degradation. An upset also
    ends at the next power cycle of its power domain
    (:func:`neurosim.radiation.damage.upsets_cleared_at`) or a re-placement of its core. Two
    upsets of one bit cancel. SECDED corrects a word with exactly one flipped bit (data or check)
    when it is read; a word with two or more stays corrupted (detected, not corrected).

Permanent faults (accumulate, never heal)
    TID, per core and per chip (:mod:`neurosim.radiation.damage`): the dose is D(t) = Ḋ·t; the
    run draws one die factor, a failure dose per physical core and one for the chip's shared
    logic (log-normal, :func:`~neurosim.radiation.damage.sample_failure_doses`); a core stops at
    its own failure dose or the chip's, whichever comes first (all physical cores are on one
    chip: the program and its spares fit on one). No neuron dies of dose on its own: a core's 256
    neurons share one neuron circuit. Before a core fails, dose raises leakage; the mission reads
    ``stats["dose_krad"]`` for the power model. Constant-hazard neuron failures
    (``random_failure_rate_per_neuron_year``) add exponential death times per neuron.
    Stuck crossbar bits: N ~ Poisson(rate · A·N · T) per physical core, times uniform, positions
    uniform, stuck at 1 with probability ``stuck_at_one_fraction``.
    Latch-up on power domains of ``power_domain_cores`` consecutive cores
    (:func:`~neurosim.radiation.damage.domain_map`): N ~ Poisson(λ_SEL · k · T) per domain that
    holds a physical core (λ_SEL per core: the mission average of the physics, or the override),
    the struck core uniform among the domain's k chip cores, times uniform
    (:func:`~neurosim.radiation.damage.sample_domain_events`). A destructive event kills every
    core of its domain (:func:`~neurosim.radiation.damage.cores_killed_at`); every other event
    is detected and power-cycles the domain, which reloads it and clears every upset of every
    core in it; a latent one also leaves ``latent_stuck_bits`` crossbar bits stuck at random
    values in the struck core (which then counts as latched for power). Reloads and SEFI resets
    cost availability (:func:`~neurosim.radiation.damage.chip_availability`).

Spare cores and TMR
    Physical cores are the program's cores (three replicas of each hidden-layer core with
    ``tmr_hidden``) plus ``spare_cores`` spares. When the core hosting a logical core dies (TID or
    destructive latch-up), its contents are re-placed onto the first spare still alive (in order
    of death time); the spare has accumulated its own TID deaths and stuck bits since launch
    (unpowered parts are taken to degrade like powered ones: conservative). Without a live spare
    the logical core is dead. With TMR a hidden neuron's fault shows only if at least two of its
    three replicas are faulty at that moment; it then carries the union of its replicas' faults
    (conservative: a real voter would take the median). Voter neurons are not modelled.

The result is one :class:`~neurosim.chip.faults.FaultState` per checkpoint in the coordinates of
the logical program, with harmless entries (unused neurons, axons that no source drives) dropped,
rows sorted so that equal damage gives equal states, plus per-checkpoint statistics.
"""
import heapq
from dataclasses import dataclass

import numpy as np

from neurosim.chip.faults import FaultState
from neurosim.chip.memory import (CROSSBAR, POTENTIAL, ROUTING, SRAM, THRESHOLD, WEIGHT,
                                  CoreMemory)
from neurosim.radiation import solar_cycle
from neurosim.radiation.cosmic import sample_solar_events
from neurosim.radiation.damage import (DomainEventModel, FailureDoseModel, chip_availability,
                                       cores_killed_at, domain_map, dose_krad_at,
                                       sample_domain_events, sample_failure_doses,
                                       upsets_cleared_at)
from neurosim.radiation.environment import is_solar_active
from neurosim.radiation.environments import latchup_rate, mean_rates, solar_model, upset_rates

DAYS_PER_YEAR = 365.25
MONTH_DAYS = DAYS_PER_YEAR / 12  # background windows of the "sunspot" cycle model


@dataclass(frozen=True, eq=False)
class ChipLayout:
    """What the sampler needs to know about the compiled program."""

    C: int
    memory: CoreMemory        # the bit layout of one core
    used_neurons: np.ndarray  # (C, N) bool
    used_axons: np.ndarray    # (C, A) bool: axons some input or neuron drives
    hidden_cores: np.ndarray  # (C,) bool: cores holding no output neuron
    crossbar: np.ndarray      # (C, A, N) bool, pristine
    core_xy: np.ndarray       # (C, 2)
    spare_xy: np.ndarray      # (S_max, 2) free grid positions, nearest the program first

    @classmethod
    def from_program(cls, program, max_spares=64):
        C = program.n_cores
        used_axons = np.zeros(program.crossbar.shape[:2], bool)
        used_axons[program.input_core, program.input_axon] = True
        routed = (program.dest_core >= 0) & program.enabled
        used_axons[program.dest_core[routed], program.dest_axon[routed]] = True
        out_cores = np.zeros(C, bool)
        out_cores[program.output_core] = True
        prof = program.profile
        taken = {(int(r), int(c)) for r, c in program.core_xy}
        centre = program.core_xy.mean(axis=0)
        free = [(r, c) for r in range(prof.grid_rows) for c in range(prof.grid_cols)
                if (r, c) not in taken]
        free.sort(key=lambda rc: (abs(rc[0] - centre[0]) + abs(rc[1] - centre[1]), rc))
        return cls(C=C, memory=CoreMemory.of_program(program),
                   used_neurons=program.enabled.copy(), used_axons=used_axons,
                   hidden_cores=~out_cores, crossbar=program.crossbar,
                   core_xy=program.core_xy.copy(),
                   spare_xy=np.array(free[:max_spares], np.int32).reshape(-1, 2))

    @property
    def A(self):
        return self.memory.axons

    @property
    def N(self):
        return self.memory.neurons

    def data_bits(self):
        """Data bits per core of each class (sram, potential, routing)."""
        return self.memory.data_bits()


@dataclass
class RunTimeline:
    """One run: ``faults[k]`` in force at checkpoint k, and per-checkpoint statistics (arrays of
    length K): upsets (events since the previous checkpoint, all in-service cores), live_upsets
    (flipped bits in force after SECDED), dead_cores, spares_used, latched_cores, dose_krad
    (accumulated dose), power_cycles (domain power cycles so far), isolated_cores (chip cores
    switched off for good after destructive latch-ups),
    core_multiplicity (K, C) live physical copies of each logical core, core_xy (K, C, 2);
    ``availability``: share of the mission the chip answers (latch-up reloads, SEFI resets)."""

    faults: list
    stats: dict
    core_multiplicity: np.ndarray
    core_xy: np.ndarray
    solar_events: int
    availability: float = 1.0


# ---------------------------------------------------------------------- solar cycle and events
def solar_years(values, total_days):
    """Whole mission years: (edges in days (n+1,), solar-active flag per year (n,)); year y is
    active when :func:`neurosim.radiation.environment.is_solar_active` says so for a cycle that
    started ``solar_cycle_phase_at_launch_years`` before launch."""
    return _edges(total_days, DAYS_PER_YEAR), np.array(
        [_active(values, y) for y in range(_n_windows(total_days, DAYS_PER_YEAR))], bool)


def _n_windows(total_days, length_days):
    return max(1, int(np.ceil(total_days / length_days - 1e-12)))


def _edges(total_days, length_days):
    """Window edges every ``length_days`` from 0, the last one at ``total_days``."""
    edges = np.minimum(np.arange(_n_windows(total_days, length_days) + 1) * length_days,
                       total_days)
    edges[-1] = total_days
    return edges


def _active(values, year):
    """Whether mission year ``year`` is solar-active (see :func:`solar_years`)."""
    se = values["solar_events"]
    return is_solar_active(year, -values["mission"]["solar_cycle_phase_at_launch_years"],
                           se["cycle_years"], se["active_years"])


def cycle_model(values):
    """``[solar_events] cycle_model``: "steps" (default) or "sunspot"
    (:mod:`neurosim.radiation.solar_cycle`)."""
    return values["solar_events"].get("cycle_model", "steps")


def background_windows(values, total_days):
    """Windows of constant background rates: (edges in days (n+1,), solar-maximum weight w per
    window (n,)); a window's rate is λ_min + w (λ_max − λ_min). Steps: mission years, w = 1 in
    active years and 0 in quiet ones. Sunspot: months, w the month's mean of
    :func:`neurosim.radiation.solar_cycle.activity_weight`."""
    if cycle_model(values) != "sunspot":
        edges, active = solar_years(values, total_days)
        return edges, active.astype(np.float64)
    se = values["solar_events"]
    edges = _edges(total_days, MONTH_DAYS)
    weight = solar_cycle.mean_weights(edges / DAYS_PER_YEAR,
                                      -values["mission"]["solar_cycle_phase_at_launch_years"],
                                      se["cycle_years"], se["active_years"])
    return edges, weight


def active_share(values, total_days):
    """Share of the mission in solar-active years."""
    edges, active = solar_years(values, total_days)
    return float(np.diff(edges)[active].sum() / total_days) if total_days > 0 else 0.0


def max_weight(values, total_days):
    """Mission mean of the solar-maximum weight of the background rates (:func:`active_share`
    with steps)."""
    edges, weight = background_windows(values, total_days)
    return float(np.sum(np.diff(edges) * weight) / total_days) if total_days > 0 else 0.0


def mission_mean_rates(values, total_days):
    """Mission-average upsets/bit/day per class over ``total_days`` (solar events averaged in;
    :func:`neurosim.radiation.environments.mean_rates`)."""
    return mean_rates(values, active_share(values, total_days), max_weight(values, total_days))


def mission_latchup_rate(values, total_days):
    """Latch-ups per core per day over ``total_days``: the override or the physics weighted by
    the mission mean of the solar-maximum weight
    (:func:`neurosim.radiation.environments.latchup_rate`)."""
    return latchup_rate(values, max_weight(values, total_days))


def solar_events(values, total_days, rng):
    """The run's solar particle events: (start days, duration days, Φ₃₀ in cm⁻²), drawn by
    :func:`neurosim.radiation.cosmic.sample_solar_events` in active years, then the scheduled
    ones; events starting after the mission end are dropped."""
    se = values["solar_events"]
    years, fluence = sample_solar_events(solar_model(se), total_days / DAYS_PER_YEAR, rng,
                                         lambda y: _active(values, y))
    start = np.concatenate([years * DAYS_PER_YEAR, [e["start_day"] for e in se["scheduled"]]])
    dur = np.concatenate([np.full(years.size, se["event_duration_days"]),
                          [e["duration_days"] for e in se["scheduled"]]])
    fluence = np.concatenate([fluence, [e["fluence30_cm2"] for e in se["scheduled"]]])
    keep = start < total_days
    return start[keep], np.minimum(dur[keep], total_days - start[keep]), fluence[keep]


def upset_windows(values, total_days, rng):
    """Windows of constant upset statistics: (start (W,), length (W,), expected upsets per bit
    per class (W, 3) before ``rate_scale``, SAA share per class (W, 3)), and the event count:
    the background windows of :func:`background_windows` (rates and SAA shares interpolated
    between solar minimum and maximum by their weight), one window per solar event."""
    background, sigma30, saa_share, _ = upset_rates(values)
    edges, weight = background_windows(values, total_days)
    w = weight[:, None]
    bg = (1 - w) * np.asarray(background["min"])[None, :] + w * np.asarray(background["max"])
    saa = (1 - w) * np.asarray(saa_share["min"])[None, :] + w * np.asarray(saa_share["max"])
    start, dur, fluence = solar_events(values, total_days, rng)
    spe = fluence[:, None] * np.asarray(sigma30, np.float64)[None, :]
    lengths = np.diff(edges)
    return (np.concatenate([edges[:-1], start]), np.concatenate([lengths, dur]),
            np.concatenate([bg * lengths[:, None], spe]),
            np.concatenate([saa, np.zeros_like(spe)]), int(start.size))


# ---------------------------------------------------------------------- damage and domains
def failure_dose_model(dose):
    """The :class:`~neurosim.radiation.damage.FailureDoseModel` of a ``[dose]`` section."""
    return FailureDoseModel(dose["failure_dose_median_krad"], dose["die_log_sd"],
                            dose["core_log_sd"])


@dataclass(frozen=True)
class DomainDraw:
    """One run's latch-ups and SEFIs (``events``, :class:`~neurosim.radiation.damage.DomainEvents`)
    on the power domains ``of_core`` (per physical core) under ``model``; per latch-up the struck
    chip core (``core``, ≥ the physical cores when it is not one of ours) and whether it is
    latent."""

    events: object
    of_core: np.ndarray
    model: DomainEventModel
    core: np.ndarray
    latent: np.ndarray


def latchup_domains(values, n_cores, total_days, rng):
    """Draw latch-ups per domain of ``power_domain_cores`` k consecutive cores at k · λ_SEL per
    domain (λ_SEL per core per day, :func:`mission_latchup_rate`) and SEFIs per chip; each non-destructive latch-up is latent with probability latent / (recoverable +
    latent); the struck core is uniform among the domain's k chip cores."""
    lu = values["latchup"]
    k = int(lu["power_domain_cores"])
    of_core = domain_map(n_cores, k)
    model = DomainEventModel(mission_latchup_rate(values, total_days) * k,
                             lu["destructive_fraction"], lu["sefi_rate_per_chip_day"],
                             lu["sefi_reset_seconds"] / 86400.0)
    events = sample_domain_events(int(of_core.max()) + 1, 1, total_days, model, rng)
    n = events.latchup_days.size
    kept = lu["recoverable_fraction"] + lu["latent_fraction"]
    latent = ~events.destructive & (rng.random(n) * kept < lu["latent_fraction"])
    core = events.latchup_domains * k + rng.integers(0, k, n)
    return DomainDraw(events, of_core, model, core, latent)


# ---------------------------------------------------------------------- sampling
def _word_geometry(values, data_bits):
    """(positions per core, data bits per word, bits per word) of each class."""
    mit = values["mitigation"]
    if mit["secded"]:
        d, c = mit["secded_word_data_bits"], mit["secded_word_check_bits"]
        words = -(-data_bits // d)
        return words * (d + c), d, d + c
    return data_bits.copy(), 1, 1


def sample(values, layout, times_days, rng):
    """Sample one run's :class:`RunTimeline` at checkpoint ``times_days`` (sorted, > 0)."""
    up, dose, lu, syn, mit = (values[s] for s in ("upsets", "dose", "latchup", "synapses",
                                                  "mitigation"))
    inf = np.inf
    times = np.asarray(times_days, np.float64)
    T = float(times[-1])
    K = len(times)
    C, A, N = layout.C, layout.A, layout.N
    tmr = bool(mit["tmr_hidden"])
    reps = np.where(layout.hidden_cores & tmr, 3, 1)
    slot_core = np.repeat(np.arange(C), reps)
    slot_rep = np.concatenate([np.arange(r) for r in reps])
    n_slots = len(slot_core)
    S = int(mit["spare_cores"])
    P = n_slots + S

    # --- upsets: background windows (years or months) and solar events
    w_start, w_len, w_mu, w_saa, n_solar = upset_windows(values, T, rng)
    data_bits = layout.data_bits()
    positions, word_data, word_bits = _word_geometry(values, data_bits)
    expected = w_mu[:, None, :] * up["rate_scale"] * positions[None, None, :]
    counts = rng.poisson(np.broadcast_to(expected, (len(w_len), P, 3)))
    total = int(counts.sum())
    win, ev_core, ev_class = np.nonzero(counts)
    reps_n = counts[win, ev_core, ev_class]
    win, ev_core, ev_class = (np.repeat(x, reps_n) for x in (win, ev_core, ev_class))
    ev_time = w_start[win] + rng.random(total) * w_len[win]
    ev_pos = np.floor(rng.random(total) * positions[ev_class]).astype(np.int64)
    ev_pos = np.minimum(ev_pos, positions[ev_class] - 1)
    ev_mbu = rng.random(total) < np.asarray(upset_rates(values)[3])[ev_class]
    ev_saa = rng.random(total) < w_saa[win, ev_class]

    # --- permanent: TID per core and chip, random neuron deaths
    doses = sample_failure_doses(np.zeros(P, np.int64), failure_dose_model(dose), rng)
    core_tid, _ = doses.failure_days(dose["dose_rate_rad_per_year"])
    death = np.full((P, N), np.inf)
    if dose["random_failure_rate_per_neuron_year"] > 0:
        death = rng.exponential(DAYS_PER_YEAR / dose["random_failure_rate_per_neuron_year"],
                                (P, N))

    # --- stuck crossbar bits
    n_st = rng.poisson(syn["stuck_rate_per_bit_year"] * A * N * T / DAYS_PER_YEAR, P)
    st_core = np.repeat(np.arange(P), n_st)
    st_time = rng.random(st_core.size) * T
    st_pos = rng.integers(0, A * N, st_core.size)
    st_val = rng.random(st_core.size) < syn["stuck_at_one_fraction"]

    # --- latch-up on power domains, SEFI
    domains = latchup_domains(values, P, T, rng)
    k_lat = int(lu["latent_stuck_bits"])
    lat_hit = domains.latent & (domains.core < P)
    lat_core, lat_time = domains.core[lat_hit], domains.events.latchup_days[lat_hit]
    lat_pos = rng.integers(0, A * N, (lat_core.size, k_lat))
    lat_val = rng.random((lat_core.size, k_lat)) < 0.5

    # --- scrub phase: drawn last, so that every draw above is as without scrubbing
    scrub = mit["scrub_period_days"]
    scrub_phase = rng.random() * scrub

    # --- service: which physical core hosts each slot when
    ev = domains.events
    destructive = ev.destructive
    killed = cores_killed_at(ev.latchup_days[destructive], ev.latchup_domains[destructive],
                             domains.of_core)
    service = _service(n_slots, S, np.minimum(core_tid, killed), T)
    # service[p] = (start, end, slot) or None
    srv_start = np.full(P, inf)
    srv_end = np.full(P, -inf)
    srv_slot = np.full(P, -1)
    for p, (a, b, s) in service.items():
        srv_start[p], srv_end[p], srv_slot[p] = a, b, s

    # latent stuck bits of a core in service join the stuck list
    lat_ok = (lat_time >= srv_start[lat_core]) & (lat_time < srv_end[lat_core])
    lat_core, lat_time = lat_core[lat_ok], lat_time[lat_ok]
    if k_lat and lat_core.size:
        st_core = np.concatenate([st_core, np.repeat(lat_core, k_lat)])
        st_time = np.concatenate([st_time, np.repeat(lat_time, k_lat)])
        st_pos = np.concatenate([st_pos, lat_pos[lat_ok].ravel()])
        st_val = np.concatenate([st_val, lat_val[lat_ok].ravel()])
    order = np.argsort(st_time, kind="stable")
    st_core, st_time, st_pos, st_val = (x[order] for x in (st_core, st_time, st_pos, st_val))

    # upsets on a core in service at their time (counted per interval); those that can be live
    in_srv = (ev_time >= srv_start[ev_core]) & (ev_time < srv_end[ev_core])
    count_time = np.sort(ev_time[in_srv])
    live_ok = in_srv & ~ev_saa if mit["scrub_after_saa"] else in_srv
    sel = np.nonzero(live_ok)[0]
    ev_time, ev_core, ev_class, ev_pos, ev_mbu = (x[sel] for x in (ev_time, ev_core, ev_class,
                                                                    ev_pos, ev_mbu))
    cycles = ~destructive
    ev_cleared = upsets_cleared_at(ev_time, ev_core, ev.latchup_days[cycles],
                                   ev.latchup_domains[cycles], domains.of_core)

    faults, st_upsets, st_live, st_dead, st_spares, st_latched = [], [], [], [], [], []
    mult_out = np.zeros((K, C), np.int16)
    xy_out = np.repeat(layout.core_xy[None], K, axis=0)
    prev_t = 0.0
    prev_state = None
    cache = {}
    for k, t in enumerate(times):
        # host of each slot at t
        hosting = (srv_start <= t) & (t < srv_end)
        host_slot = np.where(hosting, srv_slot, -1)
        w0 = srv_start.copy()
        if scrub > 0:
            w0 = np.maximum(w0, last_scrub_before(t, scrub, scrub_phase))
        st_upsets.append(int(np.searchsorted(count_time, t, "right")
                             - np.searchsorted(count_time, prev_t, "right")))
        prev_t = t
        live = ((host_slot[ev_core] >= 0) & (ev_time > w0[ev_core]) & (ev_time <= t)
                & (ev_cleared > t))
        flips, n_live = _flipped_bits(ev_core[live], ev_class[live], ev_pos[live],
                                      ev_mbu[live], positions, word_data, word_bits, data_bits,
                                      bool(mit["secded"]))
        st_live.append(n_live)
        stuck_now = (st_time <= t) & (host_slot[st_core] >= 0)
        if tmr:
            state, dead_logical, multiplicity = _logical_state(
                layout, slot_core, host_slot, death, t, flips,
                st_core[stuck_now], st_pos[stuck_now], st_val[stuck_now])
        else:
            state, dead_logical, multiplicity = _simple_state(
                layout, host_slot, death, t, flips, st_core[stuck_now], st_pos[stuck_now],
                st_val[stuck_now], cache)
        if prev_state is not None and state == prev_state:
            state = prev_state
        faults.append(state)
        prev_state = state
        st_dead.append(dead_logical)
        mult_out[k] = multiplicity
        st_spares.append(int(np.count_nonzero(np.isfinite(srv_start[n_slots:])
                                              & (srv_start[n_slots:] <= t))))
        st_latched.append(int(np.count_nonzero((lat_time <= t) & (host_slot[lat_core] >= 0)
                                                if lat_core.size else 0)))
        # spare placement: logical core c (replica 0) hosted by spare p ≥ n_slots
        for p in np.nonzero((host_slot >= 0) & (np.arange(P) >= n_slots))[0]:
            s = host_slot[p]
            if slot_rep[s] == 0 and p - n_slots < len(layout.spare_xy):
                xy_out[k, slot_core[s]] = layout.spare_xy[p - n_slots]
    stats = {"upsets": np.array(st_upsets, np.int32), "live_upsets": np.array(st_live, np.int32),
             "dead_cores": np.array(st_dead, np.int16), "spares_used": np.array(st_spares, np.int16),
             "latched_cores": np.array(st_latched, np.int16),
             "dose_krad": dose_krad_at(times, dose["dose_rate_rad_per_year"]),
             "power_cycles": np.searchsorted(ev.latchup_days[cycles], times, "right").astype(
                 np.int32),
             "isolated_cores": isolated_cores(ev, int(lu["power_domain_cores"]), times)}
    return RunTimeline(faults, stats, mult_out, xy_out, n_solar,
                       chip_availability(ev, domains.of_core, domains.model, T))


def isolated_cores(events, cores_per_domain, times):
    """Chip cores switched off for good by each time: ``cores_per_domain`` per domain that had a
    destructive latch-up (the power model no longer charges their static power)."""
    first = {}
    for t, d in zip(events.latchup_days[events.destructive],
                    events.latchup_domains[events.destructive]):
        first.setdefault(int(d), float(t))
    dead_at = np.sort(np.fromiter(first.values(), np.float64, len(first)))
    return (np.searchsorted(dead_at, times, "right") * cores_per_domain).astype(np.int32)


def last_scrub_before(t, period, phase):
    """The last scrub strictly before mission day ``t`` for scrubs at ``phase + n·period``
    (n = 0, 1, …): ``phase + (⌈(t − phase)/period⌉ − 1)·period``, negative when there was none yet
    (a checkpoint at a scrub time sees the upsets that scrub is about to clear)."""
    return phase + (np.ceil((t - phase) / period) - 1) * period


def _simple_state(layout, host_slot, death, t, flips, st_core, st_pos, st_val, cache):
    """:func:`_logical_state` without TMR (slot = logical core), the permanent part cached."""
    C = layout.C
    logical = np.arange(C)
    hosted = np.nonzero(host_slot >= 0)[0]
    dmask = death[hosted] <= t
    key = (host_slot.tobytes(), int(dmask.sum()), int(st_core.size))
    if cache.get("key") != key:
        lc = host_slot[hosted]
        pi, j = np.nonzero(dmask)
        c = lc[pi]
        ok = layout.used_neurons[c, j]
        stuck = _stuck_entries(layout, st_core, st_pos, st_val, host_slot, logical)
        cache.update(key=key, dead_cores=np.setdiff1d(logical, lc),
                     dead_neurons=_canon(np.stack([c[ok], j[ok]], 1), 2),
                     perm=np.stack(stuck, 1), mult=np.bincount(lc, minlength=C).astype(np.int16))
    upsets = _upset_entries(layout, flips, host_slot, logical)
    fs = _assemble(layout, logical, cache["dead_neurons"], cache["dead_cores"], cache["perm"],
                   upsets, _keep_all)
    return fs, int(cache["dead_cores"].size), cache["mult"]


def _keep_all(slot, neuron):
    return np.ones(slot.size, bool)


def _stuck_entries(layout, st_core, st_pos, st_val, host_slot, slot_core):
    """Permanent stuck crossbar bits in force, in time order: (slot, axon, neuron, value) of those
    that touch a used neuron and a used axon (``slot_core`` maps a slot to its logical core)."""
    slot = host_slot[st_core]
    bits = layout.memory.decode(SRAM, st_pos)       # stuck positions are crossbar cells
    c = slot_core[slot]
    ok = layout.used_neurons[c, bits.neuron] & layout.used_axons[c, bits.row]
    return slot[ok], bits.row[ok], bits.neuron[ok], st_val[ok].astype(np.int64)


def _upset_entries(layout, flips, host_slot, slot_core):
    """Flipped bits in force, decoded by the core's memory map: {field: (slot, row, neuron,
    bit)}, keeping those that touch a used neuron (and, for a crossbar bit, a used axon)."""
    decoded = [(host_slot[core], layout.memory.decode(cls, pos))
               for cls, (core, pos) in flips.items() if core.size]
    if not decoded:
        return _NO_UPSETS
    slot = np.concatenate([d[0] for d in decoded])
    field, row, neuron, bit = (np.concatenate([d[1][i] for d in decoded]) for i in range(4))
    c = slot_core[slot]
    ok = layout.used_neurons[c, neuron] & ((field != CROSSBAR) | layout.used_axons[c, row])
    return {f: tuple(x[ok & (field == f)] for x in (slot, row, neuron, bit))
            for f in (CROSSBAR, WEIGHT, THRESHOLD, POTENTIAL, ROUTING)}


_NO_UPSETS = {f: (np.zeros(0, np.int64),) * 4
              for f in (CROSSBAR, WEIGHT, THRESHOLD, POTENTIAL, ROUTING)}


def _assemble(layout, slot_core, dead_neurons, dead_cores, permanent, upsets, vote):
    """The FaultState from dead units, permanent stuck rows and the upsets whose (slot, neuron)
    passes ``vote``; an upset crossbar bit reads as stuck at the flipped pristine value."""
    def rows(entry, cols):
        if entry[0].size == 0:
            return np.zeros((0, 1 + len(cols)), np.int64)
        v = vote(entry[0], entry[2])
        return np.stack([slot_core[entry[0][v]]] + [entry[i][v] for i in cols], 1)

    xb = rows(upsets[CROSSBAR], (1, 2))
    if xb.size or permanent.size:
        flipped = 1 - layout.crossbar[xb[:, 0], xb[:, 1], xb[:, 2]].astype(np.int64)
        stuck = _merge_stuck(np.column_stack([xb, flipped]), permanent)
    else:
        stuck = permanent
    return FaultState(
        dead_neurons=dead_neurons, dead_cores=dead_cores, stuck_synapses=stuck,
        weight_flips=_canon(rows(upsets[WEIGHT], (1, 2, 3)), 4),
        threshold_flips=_canon(rows(upsets[THRESHOLD], (2, 3)), 3),
        potential_flips=_canon(rows(upsets[POTENTIAL], (2, 3)), 3),
        routing_flips=_canon(rows(upsets[ROUTING], (2, 3)), 3))


def _service(n_slots, S, death_day, T):
    """Service intervals: {physical core: (start, end, slot)}; a core stops at ``death_day[p]``
    (TID of core or chip, destructive latch-up of its domain) and its slot moves to the first
    spare still alive then (spares in index order), in order of death time."""
    service = {}
    heap = []
    for s in range(n_slots):
        service[s] = (0.0, np.inf, s)
        if death_day[s] < T:
            heapq.heappush(heap, (float(death_day[s]), s, s))
    spares = list(range(n_slots, n_slots + S))
    while heap:
        d, p, s = heapq.heappop(heap)
        service[p] = (service[p][0], d, s)
        while spares:
            q = spares.pop(0)
            if death_day[q] > d:
                service[q] = (d, np.inf, s)
                if death_day[q] < T:
                    heapq.heappush(heap, (float(death_day[q]), q, s))
                break
    return service


def _flipped_bits(core, cls, pos, mbu, positions, word_data, word_bits, data_bits, secded):
    """Bits in force: (per class, arrays (core, data bit)), number of flipped bits after SECDED.

    Multi-bit events flip the partner bit (pos ^ 1, kept in the word and the memory); flips of
    one bit cancel in pairs; with SECDED words with exactly one flipped bit are corrected."""
    if core.size == 0:
        return {k: (np.zeros(0, np.int64), np.zeros(0, np.int64)) for k in range(3)}, 0
    partner = pos ^ 1
    partner_ok = mbu & (partner < positions[cls]) & (partner // word_bits == pos // word_bits)
    partner = np.where(partner_ok | ~mbu, partner, pos - 1)
    extra = mbu & (partner >= 0)
    core = np.concatenate([core, core[extra]])
    cls = np.concatenate([cls, cls[extra]])
    pos = np.concatenate([pos, partner[extra]])
    key = (core * 3 + cls) * (positions.max() + 1) + pos
    uk, cnt = np.unique(key, return_counts=True)
    uk = uk[cnt % 2 == 1]
    pos = uk % (positions.max() + 1)
    cc = uk // (positions.max() + 1)
    core, cls = cc // 3, cc % 3
    if secded:
        wkey = cc * (positions.max() + 1) + pos // word_bits
        _, inv, wcnt = np.unique(wkey, return_inverse=True, return_counts=True)
        keep = wcnt[inv] >= 2
        core, cls, pos = core[keep], cls[keep], pos[keep]
        in_word = pos % word_bits
        is_data = in_word < word_data
        data = (pos // word_bits) * word_data + in_word
        is_data &= data < data_bits[cls]
        n_flipped = int(core.size)
        core, cls, pos = core[is_data], cls[is_data], data[is_data]
    else:
        n_flipped = int(core.size)
    return {k: (core[cls == k], pos[cls == k]) for k in range(3)}, n_flipped


def _logical_state(layout, slot_core, host_slot, death, t, flips, st_core, st_pos, st_val):
    """The FaultState of the logical program at time t under TMR, dead logical cores,
    multiplicity. A neuron's fault shows when at least two of its replicas are faulty (or its
    core has one copy); it then carries the union of its replicas' faults."""
    C, N = layout.C, layout.N
    used = layout.used_neurons
    hosted = host_slot >= 0
    host_of_slot = np.full(slot_core.size, -1)
    host_of_slot[host_slot[hosted]] = np.nonzero(hosted)[0]
    dead_slots = np.nonzero(host_of_slot < 0)[0]
    hp = np.nonzero(hosted)[0]
    dn_p, dn_j = np.nonzero(death[hp] <= t)
    dn_slot = host_slot[hp[dn_p]]
    keep = used[slot_core[dn_slot], dn_j]
    dead = (dn_slot[keep], dn_j[keep])
    stuck = _stuck_entries(layout, st_core, st_pos, st_val, host_slot, slot_core)
    upsets = _upset_entries(layout, flips, host_slot, slot_core)
    # faulty (slot, neuron) pairs: dead neurons, faults of every kind, every used neuron of a
    # dead slot; a logical neuron is bad when faulty in ≥ 2 replicas or its core has one copy
    keys = [np.stack([dead[0], dead[1]], 1), np.stack([stuck[0], stuck[2]], 1)]
    keys += [np.stack([e[0], e[2]], 1) for e in upsets.values()]
    for s in dead_slots:
        js = np.nonzero(used[slot_core[s]])[0]
        keys.append(np.stack([np.full(js.size, s), js], 1))
    pairs = np.unique(np.concatenate(keys), axis=0)
    ul, cnt = np.unique(slot_core[pairs[:, 0]] * N + pairs[:, 1], return_counts=True)
    total = np.bincount(slot_core, minlength=C)
    bad = ul[(cnt >= 2) | (total[ul // N] <= 1)]

    def vote(slot, j):
        return np.isin(slot_core[slot] * N + j, bad)

    # a logical core is dead when fewer than 2 (of 3) replicas live, or its single copy died
    multiplicity = total - np.bincount(slot_core[dead_slots], minlength=C)
    dead_cores = np.nonzero(multiplicity < np.where(total > 1, 2, 1))[0]
    dead_rows = []
    for s in dead_slots:
        c = slot_core[s]
        if c in dead_cores:
            continue
        js = np.nonzero(used[c])[0]
        v = vote(np.full(js.size, s), js)
        dead_rows.append(np.stack([np.full(v.sum(), c), js[v]], 1))
    v = vote(*dead)
    dead_rows.append(np.stack([slot_core[dead[0][v]], dead[1][v]], 1))
    dead_neurons = _canon(np.concatenate(dead_rows), 2)
    dead_neurons = dead_neurons[~np.isin(dead_neurons[:, 0], dead_cores)]
    v = vote(stuck[0], stuck[2])
    permanent = np.stack([slot_core[stuck[0][v]]] + [x[v] for x in stuck[1:]], 1)
    fs = _assemble(layout, slot_core, dead_neurons, dead_cores.astype(np.int64), permanent,
                   upsets, vote)
    return fs, int(dead_cores.size), multiplicity


def _canon(rows, width):
    """Rows sorted and unique (the same bit flipped in two TMR replicas is one logical flip)."""
    if rows is None or len(rows) == 0:
        return np.zeros((0, width), np.int64)
    return np.unique(np.asarray(rows, np.int64).reshape(-1, width), axis=0)


def _merge_stuck(upsets, permanent):
    """Crossbar entries: upsets (value = flipped pristine bit) then permanent stuck bits, the
    later permanent event winning; permanent bits override upsets at the same position."""
    up = _canon(upsets, 4)
    if permanent is None or len(permanent) == 0:
        perm = np.zeros((0, 4), np.int64)
    else:
        perm = np.asarray(permanent, np.int64)
        # keep the last event per position (the input is in time order)
        pos = perm[:, :3]
        _, first_rev = np.unique(pos[::-1], axis=0, return_index=True)
        perm = perm[::-1][first_rev]
    if up.size and perm.size:
        pk = {tuple(r) for r in perm[:, :3].tolist()}
        up = up[[tuple(r) not in pk for r in up[:, :3].tolist()]]
    return _canon(np.concatenate([up, perm]), 4)
