"""The Python API (`import neurosim as ns`): the README's notebook example, call by call, with the
values each step must reach."""
import numpy as np
import pytest

import neurosim as ns
from neurosim import api


def test_the_pipeline_from_python(tmp_path):
    x_train, y_train, x_test, y_test = ns.load_dataset("digits")
    mlp = api.train("digits", "dense", hidden=[32], epochs=5, seed=1)
    assert mlp.sizes == [64, 32, 10] and mlp.provenance["test_accuracy"] > 0.85

    program = ns.compile(mlp, chip="truenorth", calibration_samples=200, anneal=False)
    assert program.n_cores >= 1 and program.meta["compiler"]["neurons"] >= 42
    counts = ns.simulate(program, x_test[:200], ticks=64).counts
    assert np.mean(np.argmax(counts, axis=1) == y_test[:200]) > 0.8

    report = api.power(program, x_test[:20])
    assert 40 < report.power_mw < 100          # whole-chip static power dominates (~64 mW)

    bound = ns.bound(mlp, x_test[:50], fail_prob=0.05, samples=20, seed=0)
    assert bound["observed_max"] <= bound["fep"] and bound["observed_mean"] <= bound["erf"]


def test_mission_results_from_python(tmp_path):
    pd = pytest.importorskip("pandas", reason="to_dataframe needs pandas (test extra)")
    res = ns.run_mission("leo_10y", runs=2, out_dir=str(tmp_path / "m"), workers=1, progress=False,
                         model="models/digits_dense.npz")
    assert res.summary["runs"] == 2
    frame = ns.load_results(tmp_path / "m").to_dataframe()
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == 2 * res.summary["checkpoints"]
    assert frame["accuracy"].between(0, 1).all()
    curve = frame.groupby("time_days")["accuracy"].quantile(0.05)     # the README's plot
    assert len(curve) == res.summary["checkpoints"]


def test_files_by_path_are_accepted():
    x = ns.load_dataset("digits")[2][:10]
    bound = ns.bound("models/digits_dense.npz", x, fail_prob=0.02, samples=5)
    assert bound["sizes"][0] == 64
