"""`neurosim bench sim --quick --json` runs end to end and every backend agrees with the kernel."""
import json

import pytest

from neurosim import cli

KEYS = ("core_events_per_s", "reference_events_per_s", "brian2_events_per_s",
        "speedup_vs_brian2", "batch", "full_chip_ticks_per_s", "full_chip_memory_mb")


def test_bench_sim_quick_json(capsys):
    assert cli.main(["bench", "sim", "--quick", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in KEYS:
        assert key in out, key
        assert out[key] is not None and out[key] > 0, key
    assert out["batch"] == 4
    assert out["agree"] is True
    for row in out["per_batch"].values():
        assert row["reference_agrees"] and row["brian2_agrees"]
        assert row["synaptic_events"] > 0
        assert 0.05 < row["spike_fraction_per_tick"][0] < 0.6   # realistic activity
    assert out["full_chip"]["cores"] == 64
    assert abs(out["full_chip"]["mean_rate_hz"] - 20.0) < 2.0


def test_bench_rejects_bad_batch(capsys):
    assert cli.main(["bench", "sim", "--quick", "--batch", "0"]) == 2
    assert "batch" in capsys.readouterr().err


def test_bench_refuses_an_unknown_peer_naming_the_parameter(capsys):
    """The library names its parameter; the command line names the flag."""
    from neurosim import bench
    from neurosim.errors import ValidationError
    with pytest.raises(ValidationError, match="argument 'peer' is 'nest'") as caught:
        bench.run("sim", quick=True, verbose=False, peer="nest")
    assert caught.value.param == "peer"
    assert cli.main(["bench", "bounds", "--peer", "sanafe"]) == 2
    assert capsys.readouterr().err.startswith("neurosim bench: error: --peer is 'sanafe' for "
                                              "'bench bounds'")
