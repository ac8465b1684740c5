"""Exercise 4: softmax's backward
Ejercicio 4: el backward de softmax

English
=======

Softmax along dim turns scores into probabilities:

    y_i = exp(x_i) / sum_j exp(x_j)

Every y_i depends on every x_k of its slice, through the shared denominator:

    dy_i/dx_k = y_i * (delta_ik - y_k)

The backward receives grad_output = dL/dy and returns dL/dx. Multiplying by that n x n
Jacobian is not needed; summing over i gives one pass over the data:

    dL/dx_k = sum_i grad_output_i * y_i * (delta_ik - y_k)
            = y_k * (grad_output_k - sum_i grad_output_i * y_i)

Write softmax_backward(grad_output, y, dim) with NumPy, from the output y that forward
saved. dim may be any dimension, negative too. docs/02-derivatives.md derives it step by
step. The grader plugs it into the engine, runs gradcheck and compares with PyTorch.

    python -m exercises check 4

Hints
-----
1. grad_output * y alone is only part of it: the subtracted term comes from the
   denominator, which every x_k changes.
2. The sum is of grad_output * y, along dim only, with keepdims=True so that it
   broadcasts back over the slice.
3. Check a case by hand: if grad_output is the same number everywhere, dL/dx is 0
   (softmax does not change when every score moves by the same amount).

Español
=======

Softmax a lo largo de dim convierte puntuaciones en probabilidades:

    y_i = exp(x_i) / sum_j exp(x_j)

Cada y_i depende de cada x_k de su corte, a través del denominador común:

    dy_i/dx_k = y_i * (delta_ik - y_k)

El backward recibe grad_output = dL/dy y devuelve dL/dx. No hace falta multiplicar por
ese jacobiano de n x n; sumando sobre i sale una sola pasada por los datos:

    dL/dx_k = sum_i grad_output_i * y_i * (delta_ik - y_k)
            = y_k * (grad_output_k - sum_i grad_output_i * y_i)

Escribe softmax_backward(grad_output, y, dim) con NumPy, a partir de la salida y que
guardó el forward. dim puede ser cualquier dimensión, también negativa.
docs/es/02-derivatives.md lo deriva paso a paso. El corrector lo conecta al motor,
ejecuta gradcheck y compara con PyTorch.

    python -m exercises check 4

Pistas
------
1. grad_output * y solo es una parte: el término que se resta viene del denominador, que
   cambia con cada x_k.
2. La suma es de grad_output * y, solo a lo largo de dim, con keepdims=True para que se
   difunda de vuelta sobre el corte.
3. Comprueba un caso a mano: si grad_output vale lo mismo en todas partes, dL/dx es 0
   (softmax no cambia si todas las puntuaciones se mueven lo mismo).
"""

import numpy as np  # noqa: F401 (you will need it)


def softmax_backward(grad_output, y, dim):
    """y = softmax(x, dim). grad_output, y: one shape; dim: an int -> grad_x, that shape.

    ES: y = softmax(x, dim). grad_output, y: una forma; dim: un int -> grad_x, esa forma.
    """
    raise NotImplementedError
