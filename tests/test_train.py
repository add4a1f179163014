import json

import numpy as np
import pytest

from neurosim import cli
from neurosim.mlp import MLP
from neurosim.errors import InputFileError, ValidationError
from neurosim.training import Options, common, load_recipe, nest, sparse_momentum, study
from neurosim.training import train as train_method
from neurosim.training.common import Optimizer, Params, capped_top_k, init_params, loss_and_grads


@pytest.mark.parametrize("activation", ["relu", "clipped_relu", "sigmoid"])
def test_gradient_check(activation):
    rng = np.random.default_rng(0)
    p = init_params([5, 4, 3, 3], activation, 1.5, rng, [1.0, 0.5, 1.0], dtype=np.float64)
    p.b = [rng.normal(0, 0.3, len(b)) for b in p.b]  # keep pre-activations off the kinks
    x, y = rng.random((7, 5)), rng.integers(0, 3, 7)
    _, gW, gb, _, _ = loss_and_grads(p, x, y)
    h = 1e-6
    for params, grads in ((p.W, gW), (p.b, gb)):
        for arr, g in zip(params, grads):
            num = np.zeros_like(arr)
            for idx in np.ndindex(arr.shape):
                arr[idx] += h
                up = loss_and_grads(p, x, y)[0]
                arr[idx] -= 2 * h
                down = loss_and_grads(p, x, y)[0]
                arr[idx] += h
                num[idx] = (up - down) / (2 * h)
            # includes masked positions (dense gradients) of layer 1
            np.testing.assert_allclose(g, num, atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_optimizer_keeps_missing_weights_zero_and_descends(kind):
    rng = np.random.default_rng(1)
    p = init_params([6, 5, 3], "relu", 1.0, rng, [0.5, 1.0])
    x = rng.random((40, 6)).astype(np.float32)
    y = np.argmax(x[:, :3], axis=1)
    opt = Optimizer(kind, 0.9, 1e-3)
    before = p.loss(x, y)
    for _ in range(100):
        _, gW, gb, _, _ = loss_and_grads(p, x, y)
        opt.step(p, gW, gb, 0.1 if kind == "sgd" else 0.01)
    assert p.loss(x, y) < 0.8 * before
    assert np.all(p.W[0][~p.M[0]] == 0)
    assert np.any(opt.momentum_of(0)[~p.M[0]] != 0)  # momentum also for missing weights


def brute_greedy(score, k, cap):
    out = np.zeros(score.shape, bool)
    cap = cap.copy()
    for flat in np.argsort(-score.ravel(), kind="stable"):
        i, j = divmod(flat, score.shape[1])
        if out.sum() == k or not np.isfinite(score[i, j]):
            break
        if cap[j] > 0:
            out[i, j], cap[j] = True, cap[j] - 1
    return out


def test_capped_top_k_is_greedy():
    rng = np.random.default_rng(2)
    for _ in range(50):
        score = rng.random((6, 4))
        score[rng.random((6, 4)) < 0.3] = -np.inf
        cap, k = rng.integers(0, 4, 4), int(rng.integers(0, 12))
        assert np.array_equal(capped_top_k(score, k, cap), brute_greedy(score, k, cap))


def test_sparse_momentum_regrows_where_momentum_is_largest():
    W0 = np.array([[1, 2], [3, 0.5], [0, 0]], np.float32)
    M0 = np.array([[1, 1], [1, 1], [0, 0]], bool)
    W1 = np.array([[1, 0], [2, 3]], np.float32)
    M1 = np.array([[1, 0], [1, 1]], bool)
    p = Params([W0, W1], [np.zeros(2, np.float32)] * 2, [M0, M1])
    opt = Optimizer("sgd")
    opt.m = [np.array([[.1, .1], [.1, .1], [5, .2]]), np.array([[.3, .9], [.3, .3]]),
             np.zeros(2), np.zeros(2)]
    # scores: mean |m| over active = 0.1 and 0.3 -> 0.25, 0.75; rate 0.5 prunes 2 + 2 = 4
    counts = sparse_momentum.prune_regrow(p, opt, 0.5, None)
    assert counts.tolist() == [1, 3]
    # layer 0: pruned (1,1)=0.5 and (0,0)=1; regrown at (2,0), the largest missing momentum
    assert p.M[0].tolist() == [[False, True], [True, False], [True, False]]
    assert p.W[0][2, 0] == 0 and p.W[0][0, 1] == 2 and p.W[0][1, 0] == 3
    assert p.M[1].all() and p.W[1].tolist() == [[0, 0], [0, 3]]
    assert sum(m.sum() for m in p.M) == 7


def test_allocate_passes_share_of_full_layer_on():
    assert sparse_momentum.allocate([0.7, 0.2, 0.1], 10, [2, 100, 100]).tolist() == [2, 5, 3]
    assert sparse_momentum.allocate([0.5, 0.5], 5, [10, 10]).sum() == 5


def test_sparse_momentum_exact_density_and_fan_in_every_epoch():
    rng = np.random.default_rng(3)
    x, y = rng.random((200, 30)).astype(np.float32), rng.integers(0, 4, 200)
    p = init_params([30, 20, 12, 4], "relu", 1.0, rng, [0.15] * 3, max_fan_in=5)
    budget = [m.sum() for m in p.M]
    opt = Optimizer("adam")
    for e in range(6):
        common.run_epoch(p, opt, x, y, 32, 0.01, rng)
        sparse_momentum.prune_regrow(p, opt, sparse_momentum.prune_rate(e, 6, 0.5), 5)
        assert sum(m.sum() for m in p.M) == sum(budget)
        assert max(m.sum(axis=0).max() for m in p.M) <= 5
        assert all(np.all(w[~m] == 0) for w, m in zip(p.W, p.M))
    assert [m.sum() for m in p.M] != budget  # redistribution actually moved weights


def test_prune_rate_cosine():
    assert sparse_momentum.prune_rate(0, 10, 0.5) == 0.5
    assert sparse_momentum.prune_rate(5, 10, 0.5) == pytest.approx(0.25)


def test_nest_removes_zero_weight_neuron_exactly():
    rng = np.random.default_rng(4)
    p = init_params([3, 4, 2], "relu", 1.0, rng)
    p.b[0][:] = [0.1, 0.5, 0.2, 0.3]
    p.W[0][:, 1] = 0  # neuron 1: no input weights -> constant output relu(0.5)
    p.W[1][3, :] = 0  # neuron 3: no output weights
    x = rng.random((50, 3)).astype(np.float32) + 0.5
    p.W[0][:, [0, 2]] = np.abs(p.W[0][:, [0, 2]])  # neurons 0 and 2 active and varying
    before = p.forward(x)[1][-1]
    removed = nest.prune_neurons(p, x, 0.0)
    assert removed == [2] and p.W[0].shape == (3, 2) and p.W[1].shape == (2, 2)
    np.testing.assert_allclose(p.forward(x)[1][-1], before, rtol=1e-5, atol=1e-6)


def test_nest_grows_connection_where_gradient_is_largest():
    p = init_params([3, 2], "relu", 1.0, np.random.default_rng(5))
    p.M[0][:] = [[True, False], [False, True], [False, False]]
    p.apply_masks()
    g = np.array([[9.0, 0.3], [0.1, 7.0], [-0.5, -2.0]], np.float32)  # largest dormant: (2, 1)
    assert nest.grow_connections(p, [g], 0.5, None) == [1]
    assert p.M[0][2, 1] and p.M[0].sum() == 3 and p.W[0][2, 1] > 0  # descent: −sign(g)
    p.M[0][:] = [[True, True], [False, True], [False, False]]
    # column 1 is full under max_fan_in=2 -> the best allowed dormant entry is (2, 0)
    assert nest.grow_connections(p, [g], 0.5, 2) == [1]
    assert p.M[0][2, 0] and not p.M[0][2, 1] and p.M[0].sum() == 4


def test_nest_grows_bridging_neuron():
    rng = np.random.default_rng(6)
    p = init_params([4, 3, 2], "relu", 1.0, rng)
    G = np.zeros((4, 2))
    G[2, 1] = 3.0
    G[0, 0] = -1.0
    assert nest.grow_neurons(p, G, 0, 1, None) == 1
    assert p.W[0].shape == (4, 4) and p.W[1].shape == (4, 2)
    assert p.W[0][2, 3] > 0 and p.W[1][3, 1] < 0  # bridges (n*=2, m*=1) against the gradient


def test_nest_final_retraining_keeps_the_pruned_mask():
    from neurosim.data import load
    x, y, _, _ = load("digits")
    kw = dict(epochs=3, seed=2, grow_rounds=1, grow_epochs=2, prune_rounds=2, retrain_epochs=1)
    before, _ = train_method("nest", x, y, [16], Options(**kw))
    after, _ = train_method("nest", x, y, [16], Options(final_epochs=3, **kw))
    assert [m.tolist() for m in before.M] == [m.tolist() for m in after.M]
    assert all(np.all(w[~m] == 0) for w, m in zip(after.W, after.M))


@pytest.mark.parametrize("balance, removed", [("uniform", [50, 10]), ("size", [50, 2])])
def test_nest_prune_balance_spares_small_layers(balance, removed):
    p = init_params([10, 10, 2], "relu", 1.0, np.random.default_rng(7))
    before, weights = [int(m.sum()) for m in p.M], [w.copy() for w in p.W]
    # 100 and 20 connections: size shares 1 and 0.2
    nest.prune_connections(p, 0.5, nest.prune_shares(p, balance))
    assert [b - int(m.sum()) for b, m in zip(before, p.M)] == removed
    for w, m in zip(weights, p.M):  # the survivors are the largest |w| of each layer
        assert np.abs(w[m]).min() >= np.abs(w[~m]).max()


def run_stub_pruning(monkeypatch, sizes, accept_from=30, **options):
    """nest.train with fit replaced by a stub (validation accuracy 1 while ≥ ``accept_from``
    connections remain, else 0) and neuron pruning off; returns (Params, number of fit calls)."""
    calls = []

    def fake_fit(p, opt, data, o, rng, bar, epochs=None):
        calls.append(p.n_connections)
        return p, float(p.n_connections >= accept_from)
    monkeypatch.setattr(nest, "fit", fake_fit)
    monkeypatch.setattr(nest, "prune_neurons", lambda p, x, fraction: [])
    x = np.zeros((4, sizes[0]), np.float32)
    o = Options(seed_density=1.0, grow_rounds=0, prune_rounds=20, prune_fraction=0.5,
                neuron_prune_fraction=0.0, **options)
    p, _ = nest.train((x, np.zeros(4, int), x, np.zeros(4, int)), sizes, o,
                      np.random.default_rng(0), None)
    return p, len(calls)


def test_nest_size_target_with_size_shares_over_layers(monkeypatch):
    # 100 + 20 connections, shares 1 and 0.2: Σ s_l n_l = 104, target 80 → f = 40/104;
    # layer 0 loses round(38.5) = 38, layer 1 round(1.54) = 2: exactly 80 in one round.
    p, fits = run_stub_pruning(monkeypatch, [10, 10, 2], max_params=80, prune_balance="size")
    assert [int(m.sum()) for m in p.M] == [62, 18] and fits == 2


def test_nest_size_target_never_stalls(monkeypatch):
    # 200 connections, target 199: f·n_l = 0.5 rounds to 0 in both layers; the largest still
    # loses one, so one round reaches the target instead of 20 rounds retraining the same net.
    p, fits = run_stub_pruning(monkeypatch, [10, 10, 10], max_params=199)
    assert p.n_connections == 199 and fits == 2


def test_nest_prunes_connections_after_a_neuron_was_removed():
    # Removing a neuron selects columns, which leaves the mask non-contiguous; connection pruning
    # must still write to it (a regression: ravel() of such a mask is a copy).
    rng = np.random.default_rng(8)
    p = init_params([6, 5, 3], "relu", 1.0, rng)
    nest.remove_neurons(p, 0, np.array([True, False, True, True, True]), np.zeros(5))
    assert not p.M[0].flags.c_contiguous
    weights = p.W[0].copy()
    nest.prune_connections(p, 0.5, [1.0, 1.0])
    assert p.M[0].sum() == 12 and np.abs(weights[p.M[0]]).min() >= np.abs(weights[~p.M[0]]).max()


@pytest.mark.parametrize("refinements, max_params, expected",
                         [(0, 0, 50), (2, 0, 33), (0, 40, 40), (2, 35, 35)])
def test_nest_pruning_stops_at_tolerance_refinement_and_size_target(
        monkeypatch, refinements, max_params, expected):
    # Halving 0.5: 100 → 50 → (25 no); 0.25: 50 → 38 → (28 no); 0.125: 38 → 33 → (29 no) →
    # stop. A size target cuts the step: 100 → 50 → 40 (f = 0.2) → stop; 100 → 50 → 35.
    p, _ = run_stub_pruning(monkeypatch, [10, 10], prune_refinements=refinements,
                            max_params=max_params)
    assert p.n_connections == expected


def test_nest_size_target_is_met_even_when_pruning_is_rejected(monkeypatch):
    # Every candidate below 100 connections is rejected: tolerance pruning stops at once, then the
    # network is pruned to the target anyway (f = 60/100 of the one layer) and retrained once.
    p, fits = run_stub_pruning(monkeypatch, [10, 10], accept_from=100, max_params=40)
    assert p.n_connections == 40 and fits == 3
    # without a target the rejected candidate is not kept
    p, _ = run_stub_pruning(monkeypatch, [10, 10], accept_from=100)
    assert p.n_connections == 100


def test_prune_to_target_over_several_layers_ends_at_or_below_it():
    p = init_params([10, 10, 3], "relu", 1.0, np.random.default_rng(9))
    nest.prune_to_target(p, 47, nest.prune_shares(p, "size"))
    assert 45 <= p.n_connections <= 47  # per-layer rounding may take up to one more per layer


def test_step_learning_rate_is_per_minibatch_like_torch_steplr():
    # StepLR(25000, 0.1) stepped before each minibatch: minibatch i (0-based) runs at
    # 0.1·0.1^⌊(i + 1)/25000⌋, so the 25,000th minibatch (i = 24,999) is the first at 0.01.
    rates = [common.learning_rate(0, 100, 0.1, "step", i) for i in (0, 24998, 24999, 49999)]
    np.testing.assert_allclose(rates, [0.1, 0.1, 0.01, 0.001])


def test_fit_counts_minibatches_across_epochs_for_the_step_schedule(monkeypatch):
    used = []
    monkeypatch.setattr(Optimizer, "step", lambda self, p, gW, gb, lr: used.append(lr))
    rng = np.random.default_rng(10)
    x, y = rng.random((30, 4)).astype(np.float32), rng.integers(0, 2, 30)
    p = init_params([4, 2], "relu", 1.0, rng)
    o = Options(optimizer="sgd", lr=1.0, lr_schedule="step", lr_step_iterations=4, lr_gamma=0.5,
                batch_size=10, epochs=3)
    common.fit(p, Optimizer("sgd"), (x, y, x, y), o, rng, common.progress_bar(None, "", False))
    # 3 minibatches per epoch; the rate halves before minibatches 3 and 7 (0-based)
    assert used == [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25]


@pytest.mark.parametrize("selection", ["best", "last"])
def test_fit_returns_last_epoch_model_under_last_selection(selection):
    rng = np.random.default_rng(11)
    x, y = rng.random((40, 4)).astype(np.float32), rng.integers(0, 2, 40)
    p = init_params([4, 3, 2], "relu", 1.0, rng)
    o = Options(epochs=3, model_selection=selection)
    kept, _ = common.fit(p, Optimizer("adam"), (x, y, x, y), o, rng,
                         common.progress_bar(None, "", False))
    assert (kept is p) == (selection == "last")


def test_prune_rate_per_iteration_as_the_papers_cosine_decay():
    # CosineAnnealingLR(T = E·batches, eta_min 0.005) read after epoch e: t/T = (e + 1)/E
    rate = sparse_momentum.prune_rate
    assert rate(99, 100, 0.5, 0.005, "iteration") == pytest.approx(0.005)
    assert rate(49, 100, 0.5, 0.005, "iteration") == pytest.approx(0.2525)
    assert rate(0, 100, 0.5, 0.005, "iteration") == pytest.approx(
        0.005 + 0.495 * 0.5 * (1 + np.cos(np.pi / 100)))


def test_published_prune_counts_spare_a_nearly_dense_layer():
    # layer 0: 85 of 100 active (sparsity 0.15 < 0.2) and score 0.8 > 1/2 -> rate min(0.5, 0.15),
    # ⌈0.15·85⌉ = 13; layer 1: 3 of 20 active, ⌈0.5·3⌉ = 2. Without the published rules:
    # round(42.5) = 42 and round(1.5) = 2.
    M0 = np.zeros((10, 10), bool)
    M0.ravel()[:85] = True
    M1 = np.zeros((10, 2), bool)
    M1.ravel()[:3] = True
    p = Params([M0.astype(np.float32), M1.astype(np.float32)], [np.zeros(10), np.zeros(2)],
               [M0, M1])
    assert sparse_momentum.layer_prune_counts(p, [0.8, 0.2], 0.5, True) == [13, 2]
    assert sparse_momentum.layer_prune_counts(p, [0.8, 0.2], 0.5, False) == [42, 2]
    # a nearly dense layer with a small score is pruned at the full rate
    assert sparse_momentum.layer_prune_counts(p, [0.2, 0.8], 0.5, True) == [43, 2]


def test_sparse_momentum_recipes_default_to_the_published_protocol(tmp_path):
    recipe = tmp_path / "r.toml"
    recipe.write_text('dataset = "digits"\nmethod = "sparse-momentum"\nhidden = [8]\n'
                      'lr = 0.05\n')
    _, _, _, o = load_recipe(recipe)
    assert (o.protocol, o.optimizer, o.momentum, o.weight_decay, o.batch_size, o.epochs) == (
        "dettmers2019", "sgd", 0.9, 5e-4, 100, 100)
    assert (o.lr_schedule, o.lr_step_iterations, o.lr_gamma) == ("step", 25000, 0.1)
    assert (o.prune_rate, o.prune_rate_min, o.prune_schedule) == (0.5, 0.005, "iteration")
    assert (o.val_fraction, o.model_selection, o.lr) == (0.1, "last", 0.05)  # recipe wins
    recipe.write_text('dataset = "digits"\nmethod = "dense"\nhidden = [8]\n')
    assert load_recipe(recipe)[3] == Options()  # other methods: no protocol
    recipe.write_text('dataset = "digits"\nmethod = "dense"\nhidden = [8]\nprotocol = "x"\n')
    with pytest.raises(InputFileError, match="field 'protocol' is 'x', expected one of none, "
                                             "dettmers2019"):
        load_recipe(recipe)


def test_trainers_learn_and_respect_fan_in():
    from neurosim.data import load
    x, y, xt, yt = load("digits")
    for method, extra in (("dense", {}), ("sparse-momentum", {"density": 0.15}),
                          ("nest", {"grow_rounds": 1, "grow_epochs": 4, "prune_rounds": 2,
                                    "retrain_epochs": 2})):
        o = Options(epochs=20, max_fan_in=12, seed=1, lr=0.005, **extra)
        p, _ = train_method(method, x, y, [32], o)
        mlp = p.to_mlp()
        assert max(s["max_fan_in"] for s in mlp.layer_stats()) <= 12, method
        assert mlp.accuracy(xt, yt) > 0.5, method  # chance is 0.1


def run_cli(argv, capsys):
    rc = cli.main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_train_and_info(tmp_path, capsys):
    out_path = tmp_path / "m.npz"
    rc, out, err = run_cli(["train", "--dataset", "digits", "--hidden", "16", "--method",
                            "sparse-momentum", "--density", "0.2", "--max-fan-in", "16",
                            "--epochs", "3", "-o", str(out_path), "--json"], capsys)
    assert rc == 0, err
    res = json.loads(out)
    assert {"test_accuracy", "params", "neurons", "density", "max_fan_in", "seconds"} <= set(res)
    assert res["neurons"] == 16 and res["max_fan_in"] <= 16
    mlp = MLP.load(out_path)
    assert mlp.n_params == res["params"] and mlp.provenance["method"] == "sparse-momentum"
    rc, out, _ = run_cli(["info", str(out_path), "--json"], capsys)
    info = json.loads(out)
    assert rc == 0 and info["sizes"] == [64, 16, 10] and len(info["layers"]) == 2
    assert sum(layer["nonzero"] for layer in info["layers"]) == res["params"]


@pytest.mark.parametrize("argv, message", [
    (["--dataset", "digits", "--hidden", "16,x", "--method", "dense"], "--hidden: '16,x'"),
    (["--dataset", "digits", "--hidden", "16", "--method", "adamw"], "--method is 'adamw'"),
    (["--dataset", "cifar", "--hidden", "16", "--method", "dense"], "--dataset is 'cifar'"),
    (["--dataset", "digits", "--method", "dense"], "--hidden: missing"),
    (["--dataset", "digits", "--hidden", "16", "--method", "dense", "--epochs", "0"],
     "--epochs is 0, expected ≥ 1"),
    (["--dataset", "digits", "--hidden", "16", "--method", "sparse-momentum", "--density", "2"],
     "--density is 2.0"),
    (["--dataset", "digits", "--hidden", "16", "--method", "dense", "--batch-size", "0"],
     "--batch-size is 0, expected ≥ 1"),
])
def test_cli_bad_arguments(tmp_path, capsys, argv, message):
    rc, out, err = run_cli(["train", *argv, "-o", str(tmp_path / "m.npz")], capsys)
    assert rc == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "m.npz").exists()


def test_cli_batch_size_overrides_recipe(tmp_path, capsys):
    recipe = tmp_path / "r.toml"
    recipe.write_text('dataset = "digits"\nmethod = "dense"\nhidden = [8]\nbatch_size = 16\n'
                      'epochs = 1\n')
    out_path = tmp_path / "m.npz"
    rc, _, err = run_cli(["train", "--recipe", str(recipe), "--batch-size", "64", "-o",
                          str(out_path), "--json"], capsys)
    assert rc == 0, err
    assert MLP.load(out_path).provenance["options"]["batch_size"] == 64


@pytest.mark.parametrize("text, message", [
    ('dataset = "digits"\nmethod = "dense"\nhidden = [8]\nlearning_rate = 1\n',
     "field 'learning_rate' unknown"),
    ('dataset = "digits"\nmethod = "dense"\n', "field 'hidden' missing"),
    ('dataset = "digits"\nmethod = "dense"\nhidden = [8, -1]\n', "field 'hidden' is [8, -1]"),
    ('dataset = "digits"\nmethod = "dense"\nhidden = [8]\nepochs = "ten"\n',
     "field 'epochs' is 'ten', expected int"),
    ('dataset = "digits"\nmethod = [', "not valid TOML"),
    ('dataset = "digits"\nmethod = "nest"\nhidden = [8]\nfinal_epochs = -1\n',
     "field 'final_epochs' is -1, expected ≥ 0"),
    ('dataset = "digits"\nmethod = "nest"\nhidden = [8]\nprune_balance = "global"\n',
     "field 'prune_balance' is 'global', expected uniform or size"),
    ('dataset = "digits"\nmethod = "nest"\nhidden = [8]\nmax_params = -5\n',
     "field 'max_params' is -5, expected ≥ 0"),
])
def test_cli_bad_recipes(tmp_path, capsys, text, message):
    recipe = tmp_path / "r.toml"
    recipe.write_text(text)
    rc, _, err = run_cli(["train", "--recipe", str(recipe), "-o", str(tmp_path / "m.npz")], capsys)
    assert rc == 2 and message in err and str(recipe) in err and err.count("\n") == 1


def test_cli_info_missing_file(tmp_path, capsys):
    rc, _, err = run_cli(["info", str(tmp_path / "none.npz")], capsys)
    assert rc == 2 and "none.npz: no such file" in err


def fake_runs(monkeypatch, accuracy):
    """study.run_one replaced by records of test accuracy ``accuracy[(density, seed)]``;
    returns the list of (density, seed) it was called with."""
    calls = []

    def run_one(dataset, hidden, density, seed, epochs, data_dir):
        calls.append((density, seed))
        return {"dataset": dataset, "hidden": list(hidden), "epochs": epochs, "density": density,
                "seed": seed, "method": "x", "test_accuracy": accuracy[density, seed],
                "validation_accuracy": 0.5, "params": int(1000 * density), "seconds": 1.0}
    monkeypatch.setattr(study, "run_one", run_one)
    return calls


def test_density_study_table_gaps_and_published_figures(tmp_path, monkeypatch):
    acc = {(1.0, 0): 0.90, (1.0, 1): 0.92, (0.05, 0): 0.89, (0.05, 1): 0.90}
    calls = fake_runs(monkeypatch, acc)
    out = tmp_path / "s"
    res = study.density_study("digits", densities=(0.05,), seeds=(0, 1), out_dir=out, epochs=2)
    assert calls == [(1.0, 0), (1.0, 1), (0.05, 0), (0.05, 1)]
    dense, sparse = res["rows"]
    assert dense["density"] == 1.0 and dense["test_accuracy_mean"] == pytest.approx(91.0)
    assert sparse["gap_to_dense"] == pytest.approx(1.5)  # 91.0 − 89.5
    assert sparse["test_accuracy_per_seed"] == "89.00 90.00"
    assert sparse["published_accuracy"] == 98.53
    assert sparse["published_gap_to_dense"] == pytest.approx(0.16)
    assert {p.name for p in out.iterdir()} == {"runs.json", "density.csv", "density.json",
                                               "density.png"}
    assert (out / "density.csv").read_text().splitlines()[2].startswith("0.05,2,89.5")
    # a second call with one more seed trains only the missing runs
    acc.update({(1.0, 2): 0.91, (0.05, 2): 0.88})
    res = study.density_study("digits", densities=(0.05,), seeds=(0, 1, 2), out_dir=out,
                              epochs=2)
    assert calls[4:] == [(1.0, 2), (0.05, 2)] and res["rows"][1]["seeds"] == 3


@pytest.mark.parametrize("kwargs, message", [
    ({"densities": (0.05, 1.5)}, "argument 'densities' is [0.05, 1.5]; expected values in (0, 1)"),
    ({"seeds": (-1,)}, "argument 'seeds' is [-1]; expected integers ≥ 0"),
    ({"epochs": 0}, "argument 'epochs' is 0; expected an integer ≥ 1")])
def test_density_study_bad_arguments_before_any_work(tmp_path, monkeypatch, kwargs, message):
    calls = fake_runs(monkeypatch, {})
    with pytest.raises(ValidationError) as err:
        study.density_study("digits", out_dir=tmp_path / "s", **kwargs)
    assert str(err.value) == message and calls == [] and not (tmp_path / "s").exists()
    assert err.value.param == next(iter(kwargs))


def test_study_list_flags():
    assert study.parse_list("0, 1,2", "--seeds", int) == [0, 1, 2]
    assert study.parse_list("0.01,0.1", "--densities", float) == [0.01, 0.1]
    with pytest.raises(ValidationError, match="^--seeds: '1,x', expected comma-separated numbers "
                                              "such as 0,1,2$"):
        study.parse_list("1,x", "--seeds", int)


def test_density_study_refuses_an_output_path_that_is_a_file(tmp_path, monkeypatch, capsys):
    calls = fake_runs(monkeypatch, {})
    (tmp_path / "f").write_text("")
    with pytest.raises(ValidationError, match="argument 'out_dir' .*: is a file, expected a "
                                              "directory"):
        study.density_study("digits", out_dir=tmp_path / "f")
    assert calls == []
    assert cli.main(["train", "--study", "density", "--dataset", "digits", "--out",
                     str(tmp_path / "f")]) == 2        # the command line names its flag
    assert capsys.readouterr().err == (f"neurosim train: error: --out {tmp_path / 'f'}: is a "
                                       "file, expected a directory\n") and calls == []


def test_density_study_run_trains_under_the_published_protocol():
    dense = study.run_one("digits", (16,), 1.0, 0, 2, None)
    sparse = study.run_one("digits", (16,), 0.2, 0, 2, None)
    assert dense["method"] == "dense" and dense["params"] == 64 * 16 + 16 * 10
    assert sparse["method"] == "sparse-momentum" and sparse["params"] <= 205 + 32
    assert sparse["params"] > 0.15 * (64 * 16 + 16 * 10)
