"""``neurosim bench …``: one module per benchmark, peers side by side.

- :mod:`.sim`: the tick kernel against the numpy reference and Brian2;
- :mod:`.full_chip`: the whole 4,096-core chip in real time (run in a child process);
- :mod:`.sanafe_peer`: the same networks in SANA-FE's TrueNorth architecture (optional extra
  ``peer``).

``bench bounds`` lives in :mod:`neurosim.bounds.command`, ``bench mission`` in
:mod:`neurosim.mission`.
"""
from neurosim.errors import ValidationError

PEERS = ("sanafe",)


def run(what, batch=None, ticks=None, quick=False, verbose=True, peer=None):
    """Entry point of ``neurosim bench WHAT``; returns the dict ``--json`` prints."""
    if peer is not None and (what != "sim" or peer not in PEERS):
        raise ValidationError(f"--peer is '{peer}' for 'bench {what}'; expected 'sanafe' with "
                              "'bench sim'")
    if what == "sim" and peer == "sanafe":
        from neurosim.bench import sanafe_peer
        return sanafe_peer.bench(ticks=ticks, quick=quick, verbose=verbose)
    if what == "sim":
        from neurosim.bench.sim import bench_sim
        return bench_sim(batch=batch, ticks=ticks, quick=quick, verbose=verbose)
    if what == "mission":
        from neurosim.mission import bench_mission
        return bench_mission(quick=quick, verbose=verbose)
    raise ValidationError(f"benchmark '{what}' is unknown; expected 'sim'")
