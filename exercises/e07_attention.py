"""Exercise 7: scaled dot-product attention with its masks
Ejercicio 7: atención de producto escalar escalado, con sus máscaras

English
=======

Each query asks which keys match it; the answer is a mix of the values, weighted by how
well each key matches (docs/03-attention.md):

    scores  = q @ k.transpose(-2, -1) / sqrt(d_k)
    weights = softmax(scores, dim=-1)
    output  = weights @ v

with q (batch, heads, tgt_len, d_k), k (batch, heads, src_len, d_k) and v (batch, heads,
src_len, d_v): scores and weights are (batch, heads, tgt_len, src_len), output is
(batch, heads, tgt_len, d_v). Dividing by sqrt(d_k) keeps the scores' spread the same
for any head size, so the softmax does not saturate.

A mask says which keys a query may not see. As in nn.MultiheadAttention, True means "may
not attend": it has shape (tgt_len, src_len) or (batch, 1, tgt_len, src_len), and a
blocked score becomes a large negative number before the softmax, so its weight is 0:

    scores = scores.masked_fill(mask, -1e9)

The causal mask of a decoder blocks the future: query i may not see keys j > i, so it
is True above the diagonal.

Write scaled_dot_product_attention(q, k, v, mask=None) -> (output, weights) with
tinytorch operations on the tensors (so that the engine records them: training needs the
gradients), and causal_mask(size) -> a (size, size) bool tensor. The grader compares with
transformer/attention.py, runs gradcheck through your function, and runs a causal
MultiHeadAttention that attends with it.

    python -m exercises check 7

Hints
-----
1. k.transpose(-2, -1) swaps the last two dimensions; @ multiplies the last two and
   broadcasts the rest.
2. Scale before the mask and the softmax, by 1 / math.sqrt(d_k), d_k = q.shape[-1].
3. The softmax is over the keys: dim=-1.
4. tinytorch.ones(size, size, dtype=tinytorch.bool).triu(1) is True above the diagonal.

Español
=======

Cada consulta pregunta qué claves encajan con ella; la respuesta es una mezcla de los
valores, pesada por lo bien que encaja cada clave (docs/es/03-attention.md):

    scores  = q @ k.transpose(-2, -1) / sqrt(d_k)
    weights = softmax(scores, dim=-1)
    output  = weights @ v

con q (batch, heads, tgt_len, d_k), k (batch, heads, src_len, d_k) y v (batch, heads,
src_len, d_v): scores y weights son (batch, heads, tgt_len, src_len), y output es
(batch, heads, tgt_len, d_v). Dividir entre sqrt(d_k) mantiene igual la dispersión de las
puntuaciones sea cual sea el tamaño de la cabeza, y así el softmax no se satura.

Una máscara dice qué claves no puede ver una consulta. Como en nn.MultiheadAttention,
True significa "no puede atender": tiene forma (tgt_len, src_len) o (batch, 1, tgt_len,
src_len), y una puntuación bloqueada pasa a ser un número muy negativo antes del softmax,
así que su peso es 0:

    scores = scores.masked_fill(mask, -1e9)

La máscara causal de un decodificador bloquea el futuro: la consulta i no puede ver las
claves j > i, así que es True encima de la diagonal.

Escribe scaled_dot_product_attention(q, k, v, mask=None) -> (output, weights) con
operaciones de tinytorch sobre los tensores (para que el motor las registre: entrenar
necesita los gradientes), y causal_mask(size) -> un tensor bool de (size, size). El
corrector compara con transformer/attention.py, ejecuta gradcheck a través de tu función
y hace funcionar un MultiHeadAttention causal que atiende con ella.

    python -m exercises check 7

Pistas
------
1. k.transpose(-2, -1) intercambia las dos últimas dimensiones; @ multiplica las dos
   últimas y difunde el resto.
2. Escala antes de la máscara y del softmax, por 1 / math.sqrt(d_k), d_k = q.shape[-1].
3. El softmax es sobre las claves: dim=-1.
4. tinytorch.ones(size, size, dtype=tinytorch.bool).triu(1) es True encima de la diagonal.
"""

import math  # noqa: F401 (you will need these)

import tinytorch  # noqa: F401


def scaled_dot_product_attention(q, k, v, mask=None):
    """q (b, h, tgt, d_k), k (b, h, src, d_k), v (b, h, src, d_v); mask bool, True = blocked
    -> (output (b, h, tgt, d_v), weights (b, h, tgt, src)), tinytorch tensors.

    ES: igual; mask bool, True = bloqueado -> (output, weights), tensores de tinytorch.
    """
    raise NotImplementedError


def causal_mask(size):
    """-> (size, size) bool tensor, True above the diagonal (j > i: the future).

    ES: -> tensor bool (size, size), True encima de la diagonal (j > i: el futuro).
    """
    raise NotImplementedError
