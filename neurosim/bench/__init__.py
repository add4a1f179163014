"""``neurosim bench …``: one module per benchmark, peers side by side.

- :mod:`.sim`: the tick kernel against the numpy reference and Brian2;
- :mod:`.full_chip`: the whole 4,096-core chip in real time (run in a child process);
- :mod:`.sanafe_peer`: the same networks in SANA-FE's TrueNorth architecture (optional extra
  ``peer``).

- :mod:`.bounds`: chip-level Erf/Fep of a full program, and their share of a checkpoint;
- :mod:`.mission`: checkpoint evaluations per second on 1 worker and on all workers.
"""
from neurosim.bench import bounds, mission, sanafe_peer, sim
from neurosim.errors import ValidationError

PEERS = ("sanafe",)


def run(what, batch=None, ticks=None, quick=False, verbose=True, peer=None):
    """Entry point of ``neurosim bench WHAT``; returns the dict ``--json`` prints."""
    if peer is not None and (what != "sim" or peer not in PEERS):
        raise ValidationError(f"argument 'peer' is '{peer}' for 'bench {what}'; expected "
                              "'sanafe' with 'bench sim'", param="peer")
    if what == "sim" and peer == "sanafe":
        return sanafe_peer.bench(ticks=ticks, quick=quick, verbose=verbose)
    if what == "sim":
        return sim.bench_sim(batch=batch, ticks=ticks, quick=quick, verbose=verbose)
    if what == "bounds":
        return bounds.bench_bounds(quick=quick, verbose=verbose)
    if what == "mission":
        return mission.bench_mission(quick=quick, verbose=verbose)
    raise ValidationError(f"benchmark '{what}' is unknown; expected sim, bounds or mission")
