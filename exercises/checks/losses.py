"""Graders of exercises 4-6: the backward of softmax, cross-entropy and layer norm.

As in autograd.py: random cases against the library's backward (with the typical wrong
answers computed beside it), then the student's backward plugged into the engine as a
tinytorch Function and checked by ``gradcheck`` in float64, then PyTorch when installed.
"""

from __future__ import annotations

import numpy as np

import tinytorch as tt
from tinytorch.ops.loss import CrossEntropy
from tinytorch.ops.normalization import LayerNorm
from tinytorch.ops.softmax import Softmax

from .. import solutions as ref
from ..grading import (IGNORED_UPSTREAM, Mistake, Text, compare, describe, engine_gradcheck,
                       for_cases, student_op, torch_or_none)

# -- 4. softmax ---------------------------------------------------------------------------------

NO_SUBTRACTION = Text(
    "your result equals grad_output * y: the subtraction term is missing. Every y_i depends "
    "on every x_k (they share the denominator), dy_i/dx_k = y_i (delta_ik - y_k), so "
    "dL/dx = y * (grad_output - sum(grad_output * y)) along dim.",
    "tu resultado es grad_output * y: falta el término que se resta. Cada y_i depende de "
    "cada x_k (comparten el denominador), dy_i/dx_k = y_i (delta_ik - y_k), luego "
    "dL/dx = y * (grad_output - sum(grad_output * y)) a lo largo de dim.")
DIAGONAL_ONLY = Text(
    "your result equals grad_output * y * (1 - y): that is only the diagonal of the "
    "Jacobian (dy_i/dx_i = y_i (1 - y_i)). The off-diagonal terms dy_i/dx_k = -y_i y_k add "
    "up to the sum over the whole row: dL/dx = y * (grad_output - sum(grad_output * y)).",
    "tu resultado es grad_output * y * (1 - y): es solo la diagonal del jacobiano "
    "(dy_i/dx_i = y_i (1 - y_i)). Los términos fuera de la diagonal, dy_i/dx_k = -y_i y_k, "
    "suman sobre toda la fila: dL/dx = y * (grad_output - sum(grad_output * y)).")
UNWEIGHTED_SUM = Text(
    "the sum in the subtracted term is of grad_output * y, not of grad_output alone: "
    "dL/dx = y * (grad_output - sum(grad_output * y)).",
    "la suma del término que se resta es de grad_output * y, no solo de grad_output: "
    "dL/dx = y * (grad_output - sum(grad_output * y)).")
WRONG_AXIS = Text(
    "sum along dim only (with keepdims=True), not over the whole array: each slice along "
    "dim is its own softmax.",
    "suma solo a lo largo de dim (con keepdims=True), no sobre todo el array: cada corte a "
    "lo largo de dim es un softmax aparte.")


def check_softmax(student, examples: int) -> list:
    def one(draw):
        shape = draw.shape(1, 3)
        dim = draw.integer(-len(shape), len(shape) - 1)
        x, g = draw.array(shape), draw.array(shape)
        y = Softmax().forward(x, dim)
        case = describe(y=y, dim=dim)
        gy = g * y
        compare("softmax_backward", student.softmax_backward(g, y, dim),
                ref.softmax_backward(g, y, dim), case,
                [(gy, NO_SUBTRACTION), (gy * (1 - y), DIAGONAL_ONLY),
                 (gy - y * g.sum(axis=dim, keepdims=True), UNWEIGHTED_SUM),
                 (gy - y * gy.sum(), WRONG_AXIS),
                 (ref.softmax_backward(np.ones_like(g), y, dim), IGNORED_UPSTREAM)])

    for_cases(one, examples)

    def in_engine(draw):
        shape = draw.shape(1, 3, 3)
        dim = draw.integer(-len(shape), len(shape) - 1)
        op = student_op("SoftmaxByStudent", lambda x: _saved_output(Softmax().forward(x, dim)),
                        lambda g, y: student.softmax_backward(g, y, dim))
        engine_gradcheck(op.apply, (tt.tensor(draw.array(shape), requires_grad=True),), ("x",),
                         Text(f"softmax with your backward, dim={dim}",
                              f"softmax con tu backward, dim={dim}"))

    for_cases(in_engine, max(2, examples // 4))
    checked = [Text(f"{examples} random cases (any dim) against Softmax.backward",
                    f"{examples} casos aleatorios (cualquier dim) contra Softmax.backward"),
               Text("plugged into the engine: gradcheck in float64 passes",
                    "conectado al motor: gradcheck en float64 pasa")]
    torch = torch_or_none()
    if torch is not None:
        def against_torch(draw):
            shape = draw.shape(1, 3)
            dim = draw.integer(-len(shape), len(shape) - 1)
            x, g = draw.array(shape), draw.array(shape)
            tx = torch.tensor(x, requires_grad=True)
            y = torch.softmax(tx, dim)
            y.backward(torch.tensor(g))
            compare("softmax_backward", student.softmax_backward(g, y.detach().numpy(), dim),
                    tx.grad.numpy(), describe(y=x, dim=dim))

        for_cases(against_torch, max(2, examples // 4))
        checked.append(Text("agrees with torch.softmax's gradient",
                            "coincide con el gradiente de torch.softmax"))
    return checked


def _saved_output(y):
    return y, (y,)


# -- 5. cross-entropy ---------------------------------------------------------------------------

NOT_AVERAGED = Text(
    "the loss is the *mean* over the rows that count, so each row's gradient is divided by "
    "their number: (softmax(logits) - one_hot(target)) / count * grad_output.",
    "la pérdida es la *media* sobre las filas que cuentan, así que el gradiente de cada fila "
    "se divide entre su número: (softmax(logits) - one_hot(target)) / count * grad_output.")
COUNT_VALID = Text(
    "divide by the number of rows whose target is not ignore_index, not by all the rows: "
    "the mean is taken over the rows that count.",
    "divide entre el número de filas cuyo objetivo no es ignore_index, no entre todas las "
    "filas: la media se toma sobre las filas que cuentan.")
ZERO_IGNORED = Text(
    "a row whose target is ignore_index takes no part in the loss: its gradient is 0.",
    "una fila cuyo objetivo es ignore_index no participa en la pérdida: su gradiente es 0.")
NO_ONE_HOT = Text(
    "d loss/d logits = softmax(logits) - one_hot(target): subtract 1 at each row's target "
    "class.",
    "d pérdida/d logits = softmax(logits) - one_hot(target): resta 1 en la clase objetivo "
    "de cada fila.")
SIGN = Text(
    "the sign is flipped: the loss is -log p[target], so its gradient is "
    "softmax(logits) - one_hot(target), not one_hot - softmax.",
    "el signo está al revés: la pérdida es -log p[target], así que su gradiente es "
    "softmax(logits) - one_hot(target), no one_hot - softmax.")


def check_cross_entropy(student, examples: int, ignore_index: int = -100) -> list:
    def one(draw):
        n, c = draw.integer(1, 4), draw.integer(2, 5)
        logits, g = draw.array((n, c), -3.0, 3.0), draw.array(())
        target = np.array([draw.integer(0, c - 1) for _ in range(n)], dtype=np.int64)
        ignored = np.array([draw.integer(0, 3) == 0 for _ in range(n)])
        ignored[draw.integer(0, n - 1)] = False           # at least one row counts
        target[ignored] = ignore_index
        case = describe(logits=logits, target=target, grad_output=float(g))
        p = Softmax().forward(logits, -1)
        one_hot = np.zeros_like(p)
        rows = np.nonzero(~ignored)[0]
        one_hot[rows, target[rows]] = 1.0
        valid = (~ignored)[:, None]
        count = int(valid.sum())
        right = (p - one_hot) * valid / count * g
        compare("cross_entropy_backward",
                student.cross_entropy_backward(g, logits, target, ignore_index),
                ref.cross_entropy_backward(g, logits, target, ignore_index), case,
                [(right * count, NOT_AVERAGED), (right * count / n, COUNT_VALID),
                 ((p - one_hot) / count * g, ZERO_IGNORED), (p * valid / count * g, NO_ONE_HOT),
                 (-right, SIGN), (right / g, IGNORED_UPSTREAM)])

    for_cases(one, examples)

    def in_engine(draw):
        n, c = draw.integer(1, 3), draw.integer(2, 4)
        target = np.array([draw.integer(0, c - 1) for _ in range(n)], dtype=np.int64)

        def forward(x):
            return CrossEntropy().forward(x, target), (x,)

        op = student_op("CrossEntropyByStudent", forward,
                        lambda g, x: student.cross_entropy_backward(g, x, target, ignore_index))
        engine_gradcheck(op.apply, (tt.tensor(draw.array((n, c), -3.0, 3.0),
                                              requires_grad=True),),
                         ("logits",), Text("cross-entropy with your backward",
                                           "la entropía cruzada con tu backward"))

    for_cases(in_engine, max(2, examples // 4))
    checked = [Text(f"{examples} random cases (ignored rows included) against "
                    f"CrossEntropy.backward",
                    f"{examples} casos aleatorios (con filas ignoradas) contra "
                    f"CrossEntropy.backward"),
               Text("plugged into the engine: gradcheck in float64 passes",
                    "conectado al motor: gradcheck en float64 pasa")]
    torch = torch_or_none()
    if torch is not None:
        def against_torch(draw):
            n, c = draw.integer(1, 4), draw.integer(2, 5)
            logits, g = draw.array((n, c), -3.0, 3.0), draw.array(())
            target = np.array([draw.integer(0, c - 1) for _ in range(n)], dtype=np.int64)
            tx = torch.tensor(logits, requires_grad=True)
            torch.nn.functional.cross_entropy(tx, torch.tensor(target)).backward(torch.tensor(g))
            compare("cross_entropy_backward",
                    student.cross_entropy_backward(g, logits, target, ignore_index),
                    tx.grad.numpy(), describe(logits=logits, target=target))

        for_cases(against_torch, max(2, examples // 4))
        checked.append(Text("agrees with torch.nn.functional.cross_entropy's gradient",
                            "coincide con el gradiente de torch.nn.functional.cross_entropy"))
    return checked


# -- 6. layer norm --------------------------------------------------------------------------------

NO_MEAN_TERMS = Text(
    "your grad_x equals rstd * grad_output * weight: the two mean terms are missing. The mean "
    "and the variance depend on every x_i of the row, so each x_i also moves them: "
    "dL/dx = rstd * (h - mean(h) - xhat * mean(h * xhat)), with h = grad_output * weight.",
    "tu grad_x es rstd * grad_output * weight: faltan los dos términos de medias. La media y "
    "la varianza dependen de cada x_i de la fila, así que cada x_i también las mueve: "
    "dL/dx = rstd * (h - mean(h) - xhat * mean(h * xhat)), con h = grad_output * weight.")
NO_VARIANCE_TERM = Text(
    "the term from the variance is missing: dL/dx = rstd * (h - mean(h) - xhat * "
    "mean(h * xhat)). mean(h) comes from the mean, xhat * mean(h * xhat) from the variance.",
    "falta el término de la varianza: dL/dx = rstd * (h - mean(h) - xhat * "
    "mean(h * xhat)). mean(h) viene de la media; xhat * mean(h * xhat), de la varianza.")
NO_MEAN_TERM = Text(
    "the term from the mean is missing: dL/dx = rstd * (h - mean(h) - xhat * mean(h * xhat)).",
    "falta el término de la media: dL/dx = rstd * (h - mean(h) - xhat * mean(h * xhat)).")
NO_WEIGHT = Text(
    "multiply by the weight first: the gradient that reaches xhat is h = grad_output * "
    "weight (y = xhat * weight + bias), and the formula uses h.",
    "multiplica primero por el peso: el gradiente que llega a xhat es h = grad_output * "
    "weight (y = xhat * weight + bias), y la fórmula usa h.")


def _layer_norm_forward(x, w, b):
    """(y, xhat like x, rstd (..., 1)) from the library's LayerNorm forward."""
    node = LayerNorm()
    y = node.forward(x, w, b, normalized_shape=(x.shape[-1],), eps=1e-5)
    xhat, rstd, _ = node.saved
    return y, xhat.reshape(x.shape), rstd.reshape(x.shape[:-1] + (1,))


def check_layer_norm(student, examples: int) -> list:
    def one(draw):
        shape = draw.shape(1, 2) + (draw.integer(3, 6),)
        x, g = draw.array(shape), draw.array(shape)
        w, b = draw.array(shape[-1:]), draw.array(shape[-1:])
        _, xhat, rstd = _layer_norm_forward(x, w, b)
        case = describe(grad_output=g, weight=w)
        got = student.layer_norm_backward(g, xhat, rstd, w)
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            raise Mistake(Text(
                f"layer_norm_backward must return three gradients, (grad_x, grad_weight, "
                f"grad_bias); it returned {type(got).__name__} (for {case.en}).",
                f"layer_norm_backward debe devolver tres gradientes, (grad_x, grad_weight, "
                f"grad_bias); devolvió {type(got).__name__} (con {case.es})."))
        gx, gw, gb = ref.layer_norm_backward(g, xhat, rstd, w)
        h = g * w

        def mean(a):
            return a.mean(axis=-1, keepdims=True)

        compare(Text("grad_x of layer_norm_backward", "grad_x de layer_norm_backward"),
                got[0], gx, case,
                [(rstd * h, NO_MEAN_TERMS), (rstd * (h - mean(h)), NO_VARIANCE_TERM),
                 (rstd * (h - xhat * mean(h * xhat)), NO_MEAN_TERM),
                 (rstd * (g - mean(g) - xhat * mean(g * xhat)), NO_WEIGHT)])
        compare(Text("grad_weight of layer_norm_backward", "grad_weight de layer_norm_backward"),
                got[1], gw, case)
        compare(Text("grad_bias of layer_norm_backward", "grad_bias de layer_norm_backward"),
                got[2], gb, case)

    for_cases(one, examples)

    def in_engine(draw):
        shape = draw.shape(1, 2, 3) + (draw.integer(2, 4),)

        def forward(x, w, b):
            y, xhat, rstd = _layer_norm_forward(x, w, b)
            return y, (xhat, rstd, w)

        op = student_op("LayerNormByStudent", forward, student.layer_norm_backward)
        inputs = tuple(tt.tensor(draw.array(s), requires_grad=True)
                       for s in (shape, shape[-1:], shape[-1:]))
        engine_gradcheck(op.apply, inputs, ("x", "weight", "bias"),
                         Text("layer norm with your backward", "layer norm con tu backward"))

    for_cases(in_engine, max(2, examples // 4))
    checked = [Text(f"{examples} random cases against LayerNorm.backward",
                    f"{examples} casos aleatorios contra LayerNorm.backward"),
               Text("plugged into the engine: gradcheck in float64 passes for x, weight, bias",
                    "conectado al motor: gradcheck en float64 pasa para x, weight y bias")]
    torch = torch_or_none()
    if torch is not None:
        def against_torch(draw):
            shape = draw.shape(1, 2) + (draw.integer(2, 5),)
            x, g = draw.array(shape), draw.array(shape)
            w, b = draw.array(shape[-1:]), draw.array(shape[-1:])
            tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
            torch.nn.functional.layer_norm(tx, shape[-1:], tw, tb, 1e-5).backward(
                torch.tensor(g))
            _, xhat, rstd = _layer_norm_forward(x, w, b)
            got = student.layer_norm_backward(g, xhat, rstd, w)
            case = describe(grad_output=g, weight=w)
            for name, mine, theirs in zip(("grad_x", "grad_weight", "grad_bias"), got,
                                          (tx, tw, tb)):
                compare(name, mine, theirs.grad.numpy(), case, atol=1e-5, rtol=1e-4)

        for_cases(against_torch, max(2, examples // 4))
        checked.append(Text("agrees with torch.nn.functional.layer_norm's gradients",
                            "coincide con los gradientes de torch.nn.functional.layer_norm"))
    return checked
