"""Weight encodings: how an integer weight level q becomes crossbar bits on typed axons.

On a typed profile (TrueNorth) the weight of synapse (i, j) is c_ij · s_j[type_i]. An encoding
gives each input up to k axons, one per type t, and each neuron the type weights
s_j[t] = g_j · coef[t] (g_j a per-neuron integer scale). A level q is written as digits d_t ∈ {0,1}
(the crossbar bits of the input's axons) with Σ_t d_t coef[t] = q, so the synapse realises g_j q.

- ``trinary`` (Esser et al. 2016): coef = (+1, −1), q ∈ {−1, 0, +1}; an input uses its + axon, its
  − axon, or neither. Axons per input ≤ 2, so a core takes 128 inputs.
- ``bitplane`` with k bits (k ≤ 4 = the number of types): coef = (1, 2, …, 2^{k−2}, −2^{k−1}),
  two's complement, q ∈ [−2^{k−1}, 2^{k−1} − 1]. Axons per input ≤ k: 4 bits → 64 inputs a core.
- ``direct`` (profiles with one weight per synapse, ``ideal``): one axon per input, the synapse
  weight is q itself, q ∈ [weight_min, weight_max], g = 1.

Only the (input, type) axons some neuron of the core actually uses are allocated, so sparse
digit patterns cost fewer axons (and fewer copies of the source neuron: one per axon).
"""
from dataclasses import dataclass

import numpy as np

from neurosim.errors import ValidationError

ENCODINGS = ("trinary", "bitplane")


@dataclass(frozen=True)
class Encoding:
    """coef (k,) int: the type weights in units of g; None for ``direct``."""

    name: str
    coef: tuple
    qmin: int
    qmax: int
    gmax: int            # largest per-neuron scale g with |g · coef| within the weight range

    @property
    def axons_per_input(self):
        return len(self.coef)

    @property
    def typed(self):
        return self.name != "direct"

    def digits(self, q):
        """Crossbar bits (…, k) bool of integer levels q, with Σ_t d_t coef[t] = q."""
        q = np.asarray(q, dtype=np.int64)
        if self.name == "direct":
            return (q != 0)[..., None]
        if self.name == "trinary":
            return np.stack([q > 0, q < 0], axis=-1)
        k = len(self.coef)
        u = q & ((1 << k) - 1)                                   # two's complement, k bits
        return ((u[..., None] >> np.arange(k)) & 1).astype(bool)


def get_encoding(name, profile, bits=4):
    """The encoding ``name`` for ``profile`` (``direct`` whenever the profile is untyped)."""
    if not profile.typed_weights:
        return Encoding("direct", (1,), profile.weight_min, profile.weight_max, 1)
    wmax = min(profile.weight_max, -profile.weight_min)
    if name == "trinary":
        if profile.axon_types < 2:
            raise ValidationError(f"weight encoding 'trinary' needs 2 axon types; chip "
                                  f"'{profile.name}' has {profile.axon_types}")
        return Encoding("trinary", (1, -1), -1, 1, wmax)
    if name == "bitplane":
        if not 2 <= bits <= profile.axon_types:
            raise ValidationError(f"bitplane bits is {bits}; expected 2..{profile.axon_types} "
                                  f"(the axon types of chip '{profile.name}')")
        coef = tuple(1 << t for t in range(bits - 1)) + (-(1 << (bits - 1)),)
        return Encoding("bitplane", coef, -(1 << (bits - 1)), (1 << (bits - 1)) - 1,
                        wmax >> (bits - 1))
    raise ValidationError(f"weight encoding '{name}' is unknown; expected one of "
                          f"{', '.join(ENCODINGS)}")
