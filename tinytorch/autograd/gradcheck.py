"""gradcheck: compare a function's analytic gradients with finite differences.

For a random upstream gradient ``v`` (one per output), backward gives the
vector-Jacobian product ``v^T J`` for every input element at once. The same
number, numerically, is the central difference of ``<v, f(x)>``::

    d<v, f>/dx_i  ~  (<v, f(x + eps e_i)> - <v, f(x - eps e_i)>) / (2 eps)

with error O(eps^2). In float64 with eps = 1e-6 that is accurate to ~1e-9; in
float32 rounding alone is ~1e-7 / 1e-6 = 0.1, which is why float32 is refused.
A random ``v`` (not all ones) catches a backward that ignores its upstream gradient.
"""

from __future__ import annotations

import numpy as np

from ..backend import as_numpy
from .grad_mode import no_grad


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` with a report that reproduces the failure."""


def _outputs(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def gradcheck(fn, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, grad_outputs=None, seed: int = 0) -> bool:
    """True when ``fn``'s backward matches central differences for every input that
    requires grad; otherwise raise ``GradcheckError`` (or return False) with a report.

    ``inputs``: a Tensor or tuple of Tensors (float64 for the ones that require grad).
    ``grad_outputs``: upstream gradients (arrays/tensors); random N(0, 1) by default.
    """
    from ..tensor import Tensor  # noqa: PLC0415 (circular at import time only)

    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise ValueError(
                f"gradcheck: input {i} is {inputs[i].dtype}; finite differences need float64 "
                f"(in float32, rounding error ~1e-7/eps swamps the check). Use x.double().")
    if not checked:
        raise ValueError("gradcheck: no input requires grad; nothing to check")

    outs = _outputs(fn(*inputs))
    rng = np.random.default_rng(seed)
    if grad_outputs is None:
        vs = [rng.standard_normal(o.shape) for o in outs]
    else:
        vs = [as_numpy(g.array if isinstance(g, Tensor) else g) for g in _outputs(grad_outputs)]

    # Analytic: backward of <v, f(x)> gives v^T J for every input.
    for t in inputs:
        if isinstance(t, Tensor):
            t.grad = None
    total = None
    for o, v in zip(outs, vs):
        if o.requires_grad:
            term = (o * Tensor(v.astype(o.dtype))).sum()
            total = term if total is None else total + term
    if total is not None:
        total.backward()
    analytic = {i: (as_numpy(inputs[i].grad.array) if inputs[i].grad is not None
                    else np.zeros(inputs[i].shape)) for i in checked}

    # Numeric: perturb one element at a time on a copy of each input.
    def objective(arrays):
        with no_grad():
            args = [Tensor(a) if j in checked else inputs[j] for j, a in enumerate(arrays)]
            res = _outputs(fn(*args))
        return sum(float((as_numpy(r.array).astype(np.float64) * v).sum()) for r, v in zip(res, vs))

    arrays = [t.array.copy() if isinstance(t, Tensor) else t for t in inputs]
    for i in checked:
        x = arrays[i]
        numeric = np.zeros(x.shape)
        flat = x.reshape(-1)  # a view: writes perturb arrays[i]
        for k in range(flat.size):
            orig = flat[k]
            flat[k] = orig + eps
            plus = objective(arrays)
            flat[k] = orig - eps
            minus = objective(arrays)
            flat[k] = orig
            numeric.reshape(-1)[k] = (plus - minus) / (2 * eps)
        a = analytic[i]
        bad = np.abs(a - numeric) > atol + rtol * np.abs(numeric)
        if bad.any():
            k = int(np.argmax(np.where(bad, np.abs(a - numeric), -1)))
            idx = np.unravel_index(k, x.shape) if x.shape else ()
            report = (
                f"gradcheck failed for input {i} (shape {x.shape}) at element {tuple(int(j) for j in idx)}:\n"
                f"  numeric  {numeric.reshape(-1)[k]:.10g}\n"
                f"  analytic {a.reshape(-1)[k]:.10g}\n"
                f"  {int(bad.sum())} of {bad.size} elements differ; eps={eps}, atol={atol}, rtol={rtol}\n"
                f"  input {i}:\n{np.array2string(as_numpy(inputs[i].array), precision=6, threshold=50)}\n"
                f"  upstream gradient(s): {[np.array2string(v, precision=4, threshold=20) for v in vs]}\n"
                f"  numeric gradient:\n{np.array2string(numeric, precision=6, threshold=50)}\n"
                f"  analytic gradient:\n{np.array2string(a, precision=6, threshold=50)}")
            if raise_exception:
                raise GradcheckError(report)
            return False
    return True
