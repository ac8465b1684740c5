"""Exercise 8: multi-head split and merge
Ejercicio 8: dividir y unir las cabezas

English
=======

Multi-head attention runs several attentions side by side, each on its own slice of the
d_model features: num_heads heads of head_dim = d_model / num_heads features each
(docs/03-attention.md, "Multi-head attention"). Before attending, the projected queries,
keys and values are split into heads; after it, the heads are merged back:

    split_heads:  (batch, len, d_model) -> (batch, heads, len, head_dim)
    merge_heads:  (batch, heads, len, head_dim) -> (batch, len, d_model)

The features of one position are contiguous in memory, and a head must get, for every
position, its own head_dim of them. So split in two steps:

    x.reshape(batch, len, heads, head_dim).transpose(1, 2)

and merge is the inverse, in the opposite order. A plain reshape straight to (batch,
heads, len, head_dim) has the right shape and the wrong contents: it mixes positions
between heads, and then attention mixes words that have nothing to do with each other.

Write split_heads(x, num_heads) and merge_heads(x) with tinytorch tensor operations. The
grader compares with MultiHeadAttention.split_heads and merge_heads, then runs a
MultiHeadAttention that splits and merges with your functions.

    python -m exercises check 8

Hints
-----
1. head_dim = x.shape[-1] // num_heads.
2. transpose(1, 2) swaps len and heads.
3. merge_heads: transpose back first, then reshape to (batch, len, heads * head_dim).
4. merge_heads(split_heads(x, h)) == x holds for the plain reshape too: it is not enough
   of a test.

Español
=======

La atención multicabeza ejecuta varias atenciones en paralelo, cada una sobre su propio
trozo de las d_model características: num_heads cabezas de head_dim = d_model / num_heads
características cada una (docs/es/03-attention.md, "Atención multicabeza"). Antes de
atender, las consultas, claves y valores proyectados se dividen en cabezas; después, las
cabezas se vuelven a unir:

    split_heads:  (batch, len, d_model) -> (batch, heads, len, head_dim)
    merge_heads:  (batch, heads, len, head_dim) -> (batch, len, d_model)

Las características de una posición están contiguas en memoria, y una cabeza debe
recibir, para cada posición, sus propias head_dim. Así que divide en dos pasos:

    x.reshape(batch, len, heads, head_dim).transpose(1, 2)

y unir es lo inverso, en el orden contrario. Un reshape directo a (batch, heads, len,
head_dim) tiene la forma correcta y el contenido equivocado: mezcla posiciones entre
cabezas, y la atención acaba mezclando palabras que no tienen nada que ver.

Escribe split_heads(x, num_heads) y merge_heads(x) con operaciones de tensores de
tinytorch. El corrector compara con MultiHeadAttention.split_heads y merge_heads, y luego
hace funcionar un MultiHeadAttention que divide y une con tus funciones.

    python -m exercises check 8

Pistas
------
1. head_dim = x.shape[-1] // num_heads.
2. transpose(1, 2) intercambia len y heads.
3. merge_heads: primero el transpose de vuelta, luego reshape a (batch, len,
   heads * head_dim).
4. merge_heads(split_heads(x, h)) == x se cumple también con el reshape directo: no basta
   como prueba.
"""


def split_heads(x, num_heads):
    """x (batch, len, d_model) tensor -> (batch, num_heads, len, d_model // num_heads).

    ES: x (batch, len, d_model) -> (batch, num_heads, len, d_model // num_heads).
    """
    raise NotImplementedError


def merge_heads(x):
    """x (batch, heads, len, head_dim) tensor -> (batch, len, heads * head_dim).

    ES: x (batch, heads, len, head_dim) -> (batch, len, heads * head_dim).
    """
    raise NotImplementedError
