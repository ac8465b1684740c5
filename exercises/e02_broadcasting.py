"""Exercise 2: broadcasting and its unbroadcast
Ejercicio 2: el broadcasting y cómo deshacerlo

English
=======

x of shape (2, 3) plus b of shape (3,) works: NumPy broadcasting copies b along a new
leading dimension, once per row. Both copies of b were used, so both send gradient back,
and b's gradient is their sum (docs/01-backprop.md, "Broadcasting"). In general an input
is copied along the leading dimensions it lacks and along every dimension where it has
size 1; its gradient is grad_output summed over exactly those dimensions:

    x (2, 3) + b (3,)       grad_b = grad_output.sum(axis=0)
    x (2, 3) * c (2, 1)     grad_c = (grad_output * x).sum(axis=1, keepdims=True)
    x (4, 2, 3) + d (1, 3)  grad_d = grad_output.sum(axis=0).sum(axis=0, keepdims=True)

Write unbroadcast(grad, shape): grad has the broadcast shape, and the result is grad
summed back to shape. The engine does this in one place for every op, sum_to in
tinytorch/autograd/engine.py; the grader puts your function in its place and runs
gradcheck on ops whose inputs broadcast.

Then write broadcast_mul_backward(grad_output, a, b) for y = a * b where a and b may have
different shapes: the product rule of exercise 1, then each gradient summed back to its
input's shape.

    python -m exercises check 2

Hints
-----
1. First sum over the leading dimensions that shape lacks: grad.ndim - len(shape) of them.
2. Then, for each dimension where shape has 1 and grad does not, sum with keepdims=True.
3. A sum, not a mean: every copy sends its whole gradient.
4. grad_output * b has the broadcast shape; unbroadcast it to a.shape.

Español
=======

x de forma (2, 3) más b de forma (3,) funciona: el broadcasting de NumPy copia b a lo
largo de una nueva dimensión inicial, una vez por fila. Las dos copias de b se usaron,
así que las dos devuelven gradiente, y el gradiente de b es su suma
(docs/es/01-backprop.md, "Broadcasting"). En general, una entrada se copia a lo largo de
las dimensiones iniciales que le faltan y de cada dimensión donde tiene tamaño 1; su
gradiente es grad_output sumado exactamente sobre esas dimensiones:

    x (2, 3) + b (3,)       grad_b = grad_output.sum(axis=0)
    x (2, 3) * c (2, 1)     grad_c = (grad_output * x).sum(axis=1, keepdims=True)
    x (4, 2, 3) + d (1, 3)  grad_d = grad_output.sum(axis=0).sum(axis=0, keepdims=True)

Escribe unbroadcast(grad, shape): grad tiene la forma difundida, y el resultado es grad
sumado de vuelta a shape. El motor lo hace en un solo sitio para todas las ops, sum_to en
tinytorch/autograd/engine.py; el corrector pone tu función en su lugar y ejecuta
gradcheck con ops cuyas entradas se difunden.

Después escribe broadcast_mul_backward(grad_output, a, b) para y = a * b, donde a y b
pueden tener formas distintas: la regla del producto del ejercicio 1 y luego cada
gradiente sumado de vuelta a la forma de su entrada.

    python -m exercises check 2

Pistas
------
1. Suma primero sobre las dimensiones iniciales que le faltan a shape: grad.ndim -
   len(shape) de ellas.
2. Luego, en cada dimensión donde shape tiene 1 y grad no, suma con keepdims=True.
3. Una suma, no una media: cada copia devuelve su gradiente entero.
4. grad_output * b tiene la forma difundida; deshaz el broadcasting hasta a.shape.
"""

import numpy as np  # noqa: F401 (you will need it)


def unbroadcast(grad, shape):
    """grad: the broadcast shape; shape: a tuple that broadcasts to it -> grad summed to shape.

    ES: grad: la forma difundida; shape: una tupla que se difunde a ella -> grad sumado a shape.
    """
    raise NotImplementedError


def broadcast_mul_backward(grad_output, a, b):
    """y = a * b, a and b broadcast together -> (grad_a of a.shape, grad_b of b.shape).

    ES: y = a * b, a y b se difunden juntos -> (grad_a con a.shape, grad_b con b.shape).
    """
    raise NotImplementedError
