"""`neurosim bound --inputs`: the papers' 4-4-4-4-4-1 setting from the command line."""
import json

import numpy as np
import pytest

from neurosim import cli
from neurosim.bounds import erf, fep, omega
from neurosim.bounds.studies import input_grid, random_network


@pytest.fixture(scope="module")
def networks(tmp_path_factory):
    d = tmp_path_factory.mktemp("nets")
    rng = np.random.default_rng(5)
    paths = []
    for k in range(3):
        net = random_network((4, 4, 4, 4, 4, 1), rng)
        paths.append((d / f"net{k}.npz", net))
        net.save(paths[-1][0])
    return paths


def bound_json(capsys, *args):
    assert cli.main(["bound", *map(str, args), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_grid_inputs_reproduce_the_papers_claims(networks, capsys):
    # every (network, layer, crash count): Omega over all subsets on the 5^4 grid; Fep ≥ Omega_max
    # always (a theorem); Erf ≥ Omega_mean (the paper's claim, true on these networks)
    x = input_grid(4, 5)
    cases = fep_ok = erf_ok = 0
    for path, net in networks:
        for layer in range(1, 5):
            for c in range(1, 5):
                out = bound_json(capsys, path, "--inputs", "grid:5", "--failures", c, "--layer",
                                 layer, "--samples", 5)
                om = omega(net, layer, c, x)
                assert out["omega_max"] == pytest.approx(om.max)
                assert out["omega_mean"] == pytest.approx(om.mean)
                f = [c if l == layer else 0 for l in range(1, 5)]
                assert out["fep"] == pytest.approx(fep(net, f))
                assert out["erf"] == pytest.approx(erf(net, np.array(f) / 4))
                assert out["n_inputs"] == 625 and out["dataset"] == "grid:5"
                cases += 1
                fep_ok += out["omega_max"] <= out["fep"] * (1 + 1e-9)
                erf_ok += out["erf"] >= out["omega_mean"]
    assert cases == 48 and fep_ok == 48
    assert erf_ok == 48


def test_npy_inputs_and_errors(networks, capsys, tmp_path):
    path, net = networks[0]
    x = np.random.default_rng(0).random((30, 4))
    np.save(tmp_path / "x.npy", x)
    out = bound_json(capsys, path, "--inputs", tmp_path / "x.npy", "--fail-prob", 0.25,
                     "--samples", 50)
    assert out["n_inputs"] == 30 and out["omega_max"] is None
    assert out["erf"] == pytest.approx(erf(net, 0.25))
    np.save(tmp_path / "wide.npy", np.zeros((3, 5)))
    np.save(tmp_path / "big.npy", np.full((3, 4), 2.0))
    for args, msg in ((["--inputs", "grid:20"], "160,000 points, above the limit of 100,000"),
                      (["--inputs", "grid:1"], "K ≥ 2"),
                      (["--inputs", "grid:x"], "K ≥ 2"),
                      (["--inputs", tmp_path / "none.npy"], "no such file"),
                      (["--inputs", tmp_path / "wide.npy"], "shape (3, 5)"),
                      (["--inputs", tmp_path / "big.npy"], "expected input rates in [0, 1]"),
                      (["--inputs", "grid:3", "--dataset", "digits"], "both given"),
                      ([], "--dataset digits: shape (450, 64), expected (n, 4)")):
        assert cli.main(["bound", str(path), "--failures", "1", "--layer", "1",
                         *map(str, args)]) == 2, args
        err = capsys.readouterr().err
        assert msg in err and len(err.strip().splitlines()) == 1, err


def test_text_output_prints_omega_against_fep_and_erf(networks, capsys):
    path, _ = networks[1]
    assert cli.main(["bound", str(path), "--inputs", "grid:3", "--failures", "1", "--layer", "3",
                     "--samples", "5"]) == 0
    text = capsys.readouterr().out
    assert "Omega (every subset)      max" in text and "(≤ Fep)" in text
