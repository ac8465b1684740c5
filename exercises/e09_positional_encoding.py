"""Exercise 9: sinusoidal positional encoding
Ejercicio 9: la codificación posicional sinusoidal

English
=======

Attention does not see order: shuffle the keys and each query's output stays the same.
So the transformer adds to each token's vector a vector that says where it is. The
paper's table (docs/04-transformer-map.md, "Positional encoding"), for position pos and
feature pair i:

    PE[pos, 2i]     = sin(pos / 10000 ** (2i / d_model))
    PE[pos, 2i + 1] = cos(pos / 10000 ** (2i / d_model))

Each pair of columns is a clock hand turning at its own speed: fast in the first columns,
slower and slower towards the last. 2i counts columns, not positions; both columns of a
pair use the same angle. When d_model is odd the last column is a sin with no cos.

Write sinusoidal_table(max_len, d_model) -> a NumPy array (max_len, d_model). The grader
compares with transformer/positional.py and puts your table inside a PositionalEncoding.

    python -m exercises check 9

Hints
-----
1. pos as a column, np.arange(max_len)[:, None], and the even column numbers 2i as a row,
   np.arange(0, d_model, 2)[None, :]: broadcasting makes the angle table.
2. Fill the even columns, table[:, 0::2], with sin and the odd ones, table[:, 1::2], with
   cos.
3. With an odd d_model there is one column fewer for cos than for sin.

Español
=======

La atención no ve el orden: si barajas las claves, la salida de cada consulta no cambia.
Por eso el transformer suma al vector de cada token un vector que dice dónde está. La
tabla del artículo (docs/es/04-transformer-map.md, "Codificación posicional"), para la
posición pos y el par de características i:

    PE[pos, 2i]     = sin(pos / 10000 ** (2i / d_model))
    PE[pos, 2i + 1] = cos(pos / 10000 ** (2i / d_model))

Cada par de columnas es una manecilla de reloj que gira a su propia velocidad: rápido en
las primeras columnas, cada vez más lento hacia las últimas. 2i cuenta columnas, no
posiciones; las dos columnas de un par usan el mismo ángulo. Si d_model es impar, la
última columna es un sin sin cos.

Escribe sinusoidal_table(max_len, d_model) -> un array de NumPy (max_len, d_model). El
corrector compara con transformer/positional.py y pone tu tabla dentro de un
PositionalEncoding.

    python -m exercises check 9

Pistas
------
1. pos como columna, np.arange(max_len)[:, None], y los números de columna pares 2i como
   fila, np.arange(0, d_model, 2)[None, :]: el broadcasting forma la tabla de ángulos.
2. Rellena las columnas pares, table[:, 0::2], con sin y las impares, table[:, 1::2], con
   cos.
3. Con d_model impar hay una columna menos para cos que para sin.
"""

import numpy as np  # noqa: F401 (you will need it)


def sinusoidal_table(max_len, d_model):
    """-> (max_len, d_model) array: sin in the even columns, cos in the odd ones.

    ES: -> array (max_len, d_model): sin en las columnas pares, cos en las impares.
    """
    raise NotImplementedError
