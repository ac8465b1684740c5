"""Exercise 6: layer norm's backward
Ejercicio 6: el backward de layer norm

English
=======

Layer norm normalises each vector (the last dimension, n features) to mean 0 and
variance 1, then scales and shifts it:

    mu   = mean(x)
    var  = mean((x - mu) ** 2)
    rstd = 1 / sqrt(var + eps)
    xhat = (x - mu) * rstd
    y    = xhat * weight + bias

weight and bias have shape (n,) and are shared by every row. The backward, with
h = grad_output * weight (the gradient that reaches xhat), the means taken over the last
dimension and sum_rows summing over all the others (every row shares weight and bias):

    grad_x      = rstd * (h - mean(h) - xhat * mean(h * xhat))
    grad_weight = sum_rows(grad_output * xhat)
    grad_bias   = sum_rows(grad_output)

The two mean terms are there because mu and var depend on every x_i of the row: moving
one x_i moves them, and through them every y of the row (docs/02-derivatives.md derives
it).

Write layer_norm_backward(grad_output, xhat, rstd, weight) -> (grad_x, grad_weight,
grad_bias), from what the library's forward saves: xhat (like x) and rstd (..., 1). The
grader runs your backward in the engine behind the library's forward, with gradcheck for
x, weight and bias, and compares with torch.nn.functional.layer_norm.

    python -m exercises check 6

Hints
-----
1. rstd * grad_output * weight alone misses both mean terms.
2. Take the means over the last dimension with keepdims=True.
3. grad_weight and grad_bias have shape (n,): sum over every dimension but the last.

Español
=======

Layer norm normaliza cada vector (la última dimensión, n características) a media 0 y
varianza 1, y luego lo escala y desplaza:

    mu   = mean(x)
    var  = mean((x - mu) ** 2)
    rstd = 1 / sqrt(var + eps)
    xhat = (x - mu) * rstd
    y    = xhat * weight + bias

weight y bias tienen forma (n,) y las comparten todas las filas. El backward, con
h = grad_output * weight (el gradiente que llega a xhat), las medias tomadas sobre la
última dimensión y sum_rows sumando sobre todas las demás (todas las filas comparten
weight y bias):

    grad_x      = rstd * (h - mean(h) - xhat * mean(h * xhat))
    grad_weight = sum_rows(grad_output * xhat)
    grad_bias   = sum_rows(grad_output)

Los dos términos de medias están porque mu y var dependen de cada x_i de la fila: mover
un x_i las mueve, y a través de ellas cada y de la fila (docs/es/02-derivatives.md lo
deriva).

Escribe layer_norm_backward(grad_output, xhat, rstd, weight) -> (grad_x, grad_weight,
grad_bias), a partir de lo que guarda el forward de la biblioteca: xhat (como x) y rstd
(..., 1). El corrector ejecuta tu backward en el motor detrás del forward de la
biblioteca, con gradcheck para x, weight y bias, y compara con
torch.nn.functional.layer_norm.

    python -m exercises check 6

Pistas
------
1. rstd * grad_output * weight a secas pierde los dos términos de medias.
2. Toma las medias sobre la última dimensión con keepdims=True.
3. grad_weight y grad_bias tienen forma (n,): suma sobre todas las dimensiones menos la
   última.
"""

import numpy as np  # noqa: F401 (you will need it)


def layer_norm_backward(grad_output, xhat, rstd, weight):
    """grad_output, xhat (..., n); rstd (..., 1); weight (n,) -> (grad_x, grad_w, grad_b).

    ES: grad_output, xhat (..., n); rstd (..., 1); weight (n,) -> (grad_x, grad_w, grad_b).
    """
    raise NotImplementedError
