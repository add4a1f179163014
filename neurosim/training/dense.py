"""Dense training: every connection exists (minibatch SGD-Nesterov or Adam, weight decay,
learning-rate schedule, early stopping on a validation split; equations in ``common``).

With ``max_fan_in`` = N: one dense warm-up epoch at the initial learning rate, then each neuron
keeps its N inputs of largest |w| (Han et al. 2015 magnitude pruning, applied once) and training
continues for ``epochs`` epochs on that fixed mask.
"""
from neurosim.training.common import Optimizer, fit, init_params, keep_largest_inputs, run_epoch


def train(data, sizes, o, rng, bar):
    """Return (Params, best validation accuracy)."""
    p = init_params(sizes, o.activation, o.steepness, rng)
    opt = Optimizer(o.optimizer, o.momentum, o.weight_decay)
    if o.max_fan_in is not None:
        run_epoch(p, opt, data[0], data[1], o.batch_size, o.lr, rng)
        keep_largest_inputs(p, o.max_fan_in)
    return fit(p, opt, data, o, rng, bar)
