"""Exercise 10: one Adam step
Ejercicio 10: un paso de Adam

English
=======

Adam gives every parameter its own step size, from two running averages of its gradient
(tinytorch/optim/adam.py; docs/05-training-loop.md). At step t = 1, 2, ..., with m and v
starting at 0:

    m     = beta1 * m + (1 - beta1) * grad
    v     = beta2 * v + (1 - beta2) * grad ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    param = param - lr * m_hat / (sqrt(v_hat) + eps)

m is a running mean of the gradient, v of its square. Both start at 0, so in the first
steps they are too small, by exactly the factors (1 - beta ** t): m_hat and v_hat undo
that (the bias correction). Each coordinate then moves by about lr in the direction of
its average gradient, less where the gradient is noisy.

Write adam_step(param, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps) ->
(param, exp_avg, exp_avg_sq), the new values, NumPy arrays (exp_avg is m, exp_avg_sq is
v, as PyTorch names them; step is t, starting at 1). The grader compares with tinytorch's
Adam step by step, trains a Linear layer with an optimizer that calls your function, and
compares with torch.optim.Adam.

    python -m exercises check 10

Hints
-----
1. Update m and v first; the bias correction uses the new ones.
2. eps goes outside the square root.
3. Return new arrays (or update copies): the caller keeps exp_avg and exp_avg_sq for the
   next step.

Español
=======

Adam da a cada parámetro su propio tamaño de paso, a partir de dos medias móviles de su
gradiente (tinytorch/optim/adam.py; docs/es/05-training-loop.md). En el paso
t = 1, 2, ..., con m y v empezando en 0:

    m     = beta1 * m + (1 - beta1) * grad
    v     = beta2 * v + (1 - beta2) * grad ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    param = param - lr * m_hat / (sqrt(v_hat) + eps)

m es una media móvil del gradiente, v de su cuadrado. Las dos empiezan en 0, así que en
los primeros pasos son demasiado pequeñas, justo por los factores (1 - beta ** t): m_hat
y v_hat lo deshacen (la corrección de sesgo). Cada coordenada se mueve entonces más o
menos lr en la dirección de su gradiente medio, menos donde el gradiente es ruidoso.

Escribe adam_step(param, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps) ->
(param, exp_avg, exp_avg_sq), los valores nuevos, arrays de NumPy (exp_avg es m,
exp_avg_sq es v, como los llama PyTorch; step es t, empezando en 1). El corrector compara
con el Adam de tinytorch paso a paso, entrena una capa Linear con un optimizador que
llama a tu función y compara con torch.optim.Adam.

    python -m exercises check 10

Pistas
------
1. Actualiza primero m y v; la corrección de sesgo usa los nuevos.
2. eps va fuera de la raíz cuadrada.
3. Devuelve arrays nuevos (o actualiza copias): quien llama guarda exp_avg y exp_avg_sq
   para el paso siguiente.
"""

import numpy as np  # noqa: F401 (you will need it)


def adam_step(param, grad, exp_avg, exp_avg_sq, step, lr=1e-3, beta1=0.9, beta2=0.999,
              eps=1e-8):
    """Arrays of one shape; step: t >= 1 -> (param, exp_avg, exp_avg_sq) after this step.

    ES: arrays de una forma; step: t >= 1 -> (param, exp_avg, exp_avg_sq) tras este paso.
    """
    raise NotImplementedError
