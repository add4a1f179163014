"""Fault timelines: one Monte Carlo run's faults over mission time, sampled vectorised.

Time is mission time in days; nothing here runs per tick or loops per bit (DESIGN.md "Mission
time versus chip time"). One run draws, with its own ``numpy.random.Generator``:

Solar cycle and solar particle events
    Mission year y is solar-active when (y + ``solar_cycle_phase_at_launch_years``) mod
    ``cycle_years`` < ``active_years`` ([spenvis]: 7 of 11; whole years, the granularity of
    :func:`neurosim.radiation.cosmic.sample_solar_events`). With ``cycle_model = "sunspot"`` (the
    default) the background rates follow the sunspot cycle month by month,
    λ_min + w(t)(λ_max − λ_min), w(t) from Hathaway's average cycle
    (:mod:`neurosim.radiation.solar_cycle`); with ``"steps"`` active years use the solar-maximum
    rates of the physics (AP8-MAX, GCR at φ = 1100 MV), quiet years the solar-minimum ones
    (AP8-MIN, φ = 400 MV), whole years. The rates are ``values["physics"]`` from
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
    physically adjacent cell (2-cell clusters): with ``column_interleave`` k = 1 (the default)
    the adjacent bit of the same word, with k ≥ 2 and SECDED a bit of a neighbouring word of
    its group of k words (:func:`~neurosim.radiation.snapshot.flipped_bits`); a share
    ``saa_share[k]`` of
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
from dataclasses import dataclass

import numpy as np

from neurosim.chip.memory import CoreMemory
from neurosim.radiation.damage import (DomainEventModel, FailureDoseModel, chip_availability,
                                       cores_killed_at, domain_map, dose_krad_at,
                                       sample_domain_events, sample_failure_doses,
                                       upsets_cleared_at)
from neurosim.radiation.environments import upset_rates
from neurosim.radiation.schedule import DAYS_PER_YEAR, mission_latchup_rate, upset_windows
from neurosim.radiation.snapshot import (flipped_bits, isolated_cores, last_scrub_before,
                                         logical_state, service_periods, simple_state)


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
    """(positions per core, data bits per word, bits per word, column interleave) of each class.
    Without SECDED a word is one bit, so ``column_interleave`` has nothing to interleave: 1."""
    mit = values["mitigation"]
    if mit["secded"]:
        d, c = mit["secded_word_data_bits"], mit["secded_word_check_bits"]
        words = -(-data_bits // d)
        return words * (d + c), d, d + c, int(mit["column_interleave"])
    return data_bits.copy(), 1, 1, 1


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
    positions, word_data, word_bits, interleave = _word_geometry(values, data_bits)
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
    service = service_periods(n_slots, S, np.minimum(core_tid, killed), T)
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
        flips, n_live = flipped_bits(ev_core[live], ev_class[live], ev_pos[live],
                                      ev_mbu[live], positions, word_data, word_bits, data_bits,
                                      bool(mit["secded"]), interleave)
        st_live.append(n_live)
        stuck_now = (st_time <= t) & (host_slot[st_core] >= 0)
        if tmr:
            state, dead_logical, multiplicity = logical_state(
                layout, slot_core, host_slot, death, t, flips,
                st_core[stuck_now], st_pos[stuck_now], st_val[stuck_now])
        else:
            state, dead_logical, multiplicity = simple_state(
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
