"""Exercise 5: cross-entropy's backward
Ejercicio 5: el backward de la entropía cruzada

English
=======

The loss of a classifier, and of every model here (each predicted token is a class):
logits (N, C), one row of scores per example, and target (N,), the right class of each.
With p = softmax(logits) over the classes, the loss is the mean over the rows that count
of -log p[target]. A row whose target is ignore_index (padding) takes no part: it adds
nothing and is not counted. In the sum below, n runs over the rows that count:

    loss = sum_n -log p[n, target[n]] / count

Softmax and the log simplify each other. For one row, -log p[t] = -x_t + log sum_j exp(x_j),
so its gradient is the softmax minus the one-hot vector of the target:

    d(-log p[t]) / dx_k = p_k - (1 if k == t else 0)

Write cross_entropy_backward(grad_output, logits, target, ignore_index): grad_output is
dL/dloss (a number, as a 0-d array), and the result is dL/dlogits, shape (N, C). The
grader plugs it into the engine with the library's forward (tinytorch/ops/loss.py) and
compares with PyTorch's cross_entropy.

    python -m exercises check 5

Hints
-----
1. Compute p with a stable softmax: subtract each row's max before exp.
2. Subtract 1 at [n, target[n]] for the rows that count; set ignored rows to 0.
3. count is the number of rows whose target is not ignore_index, not N.
4. Multiply by grad_output at the end.

Español
=======

La pérdida de un clasificador, y de todos los modelos de aquí (cada token predicho es una
clase): logits (N, C), una fila de puntuaciones por ejemplo, y target (N,), la clase
correcta de cada una. Con p = softmax(logits) sobre las clases, la pérdida es la media
sobre las filas que cuentan de -log p[target]. Una fila cuyo objetivo es ignore_index
(relleno) no participa: no suma nada y no se cuenta. En la suma de abajo, n recorre las
filas que cuentan:

    loss = sum_n -log p[n, target[n]] / count

El softmax y el log se simplifican mutuamente. Para una fila,
-log p[t] = -x_t + log sum_j exp(x_j), así que su gradiente es el softmax menos el vector
one-hot del objetivo:

    d(-log p[t]) / dx_k = p_k - (1 if k == t else 0)

Escribe cross_entropy_backward(grad_output, logits, target, ignore_index): grad_output es
dL/dloss (un número, como array de 0 dimensiones), y el resultado es dL/dlogits, de forma
(N, C). El corrector lo conecta al motor con el forward de la biblioteca
(tinytorch/ops/loss.py) y compara con el cross_entropy de PyTorch.

    python -m exercises check 5

Pistas
------
1. Calcula p con un softmax estable: resta el máximo de cada fila antes de exp.
2. Resta 1 en [n, target[n]] para las filas que cuentan; pon a 0 las filas ignoradas.
3. count es el número de filas cuyo objetivo no es ignore_index, no N.
4. Multiplica por grad_output al final.
"""

import numpy as np  # noqa: F401 (you will need it)


def cross_entropy_backward(grad_output, logits, target, ignore_index=-100):
    """Mean cross-entropy. grad_output: 0-d; logits (N, C); target (N,) int -> (N, C).

    ES: entropía cruzada media. grad_output: 0-d; logits (N, C); target (N,) int -> (N, C).
    """
    raise NotImplementedError
