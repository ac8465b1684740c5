"""Exercise 1: the backward of mul, pow and exp
Ejercicio 1: el backward de mul, pow y exp

English
=======

Every op of tinytorch is a Function with a forward and a backward (docs/01-backprop.md,
docs/02-derivatives.md). The backward receives
grad_output = dL/dy, the gradient of the loss with respect to the op's output, and
returns dL/dx for each input: the local derivative times grad_output (the chain rule).
All three ops here work element by element, so each gradient has its input's shape.

    y = a * b      dy/da = b                 dy/db = a
    y = a ** b     dy/da = b * a ** (b - 1)  dy/db = a ** b * ln(a) = y * ln(a)
    y = exp(x)     dy/dx = exp(x) = y

Write the three functions below with NumPy: mul_backward and pow_backward return
(grad_a, grad_b); exp_backward returns grad_x. pow_backward also receives y = a ** b,
which forward saved, and exp_backward receives only y: the output is all it needs.
Here a, b and grad_output have the same shape, and a > 0 in pow.

The grader plugs your backward into the engine as a Function, runs tinytorch's gradcheck
(finite differences in float64, docs/06-gradcheck.md) and compares with PyTorch when it is
installed:

    python -m exercises check 1

Hints
-----
1. Multiply each local derivative by grad_output: dL/da = grad_output * dy/da.
2. In mul, a's gradient uses b, the *other* input.
3. In pow, b is the exponent: a ** b = exp(b * ln(a)), so the power rule is only for a.
4. exp's derivative is itself: use the saved y; no new exp is needed.

Español
=======

Cada op de tinytorch es una Function con un forward y un backward (docs/es/01-backprop.md,
docs/es/02-derivatives.md). El backward recibe
grad_output = dL/dy, el gradiente de la pérdida respecto a la salida de la op, y
devuelve dL/dx para cada entrada: la derivada local por grad_output (la regla de la
cadena). Las tres ops de aquí trabajan elemento a elemento, así que cada gradiente tiene
la forma de su entrada.

    y = a * b      dy/da = b                 dy/db = a
    y = a ** b     dy/da = b * a ** (b - 1)  dy/db = a ** b * ln(a) = y * ln(a)
    y = exp(x)     dy/dx = exp(x) = y

Escribe las tres funciones de abajo con NumPy: mul_backward y pow_backward devuelven
(grad_a, grad_b); exp_backward devuelve grad_x. pow_backward recibe también y = a ** b,
que guardó el forward, y exp_backward recibe solo y: la salida es todo lo que necesita.
Aquí a, b y grad_output tienen la misma forma, y a > 0 en pow.

El corrector conecta tu backward al motor como una Function, ejecuta el gradcheck de
tinytorch (diferencias finitas en float64, docs/es/06-gradcheck.md) y compara con PyTorch si está
instalado:

    python -m exercises check 1

Pistas
------
1. Multiplica cada derivada local por grad_output: dL/da = grad_output * dy/da.
2. En mul, el gradiente de a usa b, la *otra* entrada.
3. En pow, b es el exponente: a ** b = exp(b * ln(a)), así que la regla de la potencia es
   solo para a.
4. La derivada de exp es ella misma: usa la y guardada; no hace falta otra exp.
"""

import numpy as np  # noqa: F401 (you will need it)


def mul_backward(grad_output, a, b):
    """y = a * b. grad_output, a, b: arrays of one shape -> (grad_a, grad_b), that shape.

    ES: y = a * b. grad_output, a, b: arrays de una misma forma -> (grad_a, grad_b).
    """
    raise NotImplementedError


def pow_backward(grad_output, a, b, y):
    """y = a ** b (a > 0). grad_output, a, b, y: one shape -> (grad_a, grad_b).

    ES: y = a ** b (a > 0). grad_output, a, b, y: una forma -> (grad_a, grad_b).
    """
    raise NotImplementedError


def exp_backward(grad_output, y):
    """y = exp(x). grad_output, y: one shape -> grad_x, that shape.

    ES: y = exp(x). grad_output, y: una forma -> grad_x, esa forma.
    """
    raise NotImplementedError
