"""Graders of exercises 7-9: attention with its masks, splitting and merging heads, the
sinusoidal positional encoding.

Each answer is compared with the library's (transformer/attention.py,
multi_head_attention.py, positional.py) on random inputs, with the typical wrong answers
computed beside it; then plugged into the library's own modules (a MultiHeadAttention
that attends with the student's function or splits heads with it, a PositionalEncoding
whose table is the student's) and their outputs compared with the untouched modules'.
"""

from __future__ import annotations

import math

import numpy as np

import tinytorch as tt
from transformer import multi_head_attention as mha_module
from transformer.layout import AttentionMask
from transformer.multi_head_attention import MultiHeadAttention
from transformer.positional import PositionalEncoding

from .. import solutions as ref
from ..grading import (Mistake, Text, compare, describe, engine_gradcheck, for_cases,
                       torch_or_none)

# -- 7. attention -------------------------------------------------------------------------------

NO_SCALE = Text(
    "your output equals attention without the scale: divide the scores by sqrt(d_k) "
    "before the softmax, softmax(q kᵀ / sqrt(d_k)) v. Without it the scores grow with the "
    "head size and the softmax saturates (one weight near 1, tiny gradients).",
    "tu salida es la atención sin la escala: divide las puntuaciones entre sqrt(d_k) antes "
    "del softmax, softmax(q kᵀ / sqrt(d_k)) v. Sin ella las puntuaciones crecen con el "
    "tamaño de la cabeza y el softmax se satura (un peso cerca de 1, gradientes diminutos).")
SCALE_NOT_SQRT = Text(
    "the scale is 1 / sqrt(d_k), not 1 / d_k: a dot product of d_k terms of variance 1 has "
    "variance d_k, so its standard deviation is sqrt(d_k).",
    "la escala es 1 / sqrt(d_k), no 1 / d_k: un producto escalar de d_k términos de "
    "varianza 1 tiene varianza d_k, así que su desviación típica es sqrt(d_k).")
MASK_IGNORED = Text(
    "your output equals attention without the mask: the mask was ignored. Where mask is "
    "True, set the score to a large negative number (scores.masked_fill(mask, -1e9)) before "
    "the softmax, so that those weights become 0.",
    "tu salida es la atención sin la máscara: la máscara se ignoró. Donde la máscara es "
    "True, pon la puntuación a un número muy negativo (scores.masked_fill(mask, -1e9)) "
    "antes del softmax, para que esos pesos queden en 0.")
MASK_INVERTED = Text(
    "the mask is inverted: here True means \"may not attend\" (nn.MultiheadAttention's "
    "convention), so the scores to block are those where mask is True.",
    "la máscara está al revés: aquí True significa \"no puede atender\" (la convención de "
    "nn.MultiheadAttention), así que hay que bloquear las puntuaciones donde la máscara es "
    "True.")
SOFTMAX_DIM = Text(
    "take the softmax over the keys, the last dimension (dim=-1): each query's weights over "
    "the keys sum to 1.",
    "toma el softmax sobre las claves, la última dimensión (dim=-1): los pesos de cada "
    "consulta sobre las claves suman 1.")
NOT_IN_GRAPH = Text(
    "compute with tinytorch operations on the tensors (q @ k.transpose(-2, -1), "
    "masked_fill, softmax), not on NumPy arrays: the engine records only tensor "
    "operations, and training needs the gradients.",
    "calcula con operaciones de tinytorch sobre los tensores (q @ k.transpose(-2, -1), "
    "masked_fill, softmax), no con arrays de NumPy: el motor solo registra operaciones con "
    "tensores, y entrenar necesita los gradientes.")
CAUSAL_PAST = Text(
    "causal means that position i may not see the positions *after* it: True above the "
    "diagonal (j > i), as triu(1) gives, and False on and below it.",
    "causal significa que la posición i no puede ver las posiciones *posteriores*: True "
    "encima de la diagonal (j > i), como da triu(1), y False en ella y debajo.")
CAUSAL_DIAGONAL = Text(
    "a position may attend to itself: the diagonal stays False (triu with diagonal=1).",
    "una posición puede atenderse a sí misma: la diagonal queda en False (triu con "
    "diagonal=1).")


def _pair(got, case: Text):
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Mistake(Text(
            f"scaled_dot_product_attention must return (output, weights); it returned "
            f"{type(got).__name__} (for {case.en}).",
            f"scaled_dot_product_attention debe devolver (output, weights); devolvió "
            f"{type(got).__name__} (con {case.es})."))
    return got


def _draw_attention(draw):
    """(q, k, v, mask) float64 tensors and a bool mask tensor or None."""
    b, h, tq, d = draw.integer(1, 2), draw.integer(1, 2), draw.integer(1, 4), draw.integer(2, 4)
    kind = draw.choice(["none", "causal", "random"])
    tk = tq if kind == "causal" else draw.integer(1, 4)
    q, k, v = (tt.tensor(draw.array(s), requires_grad=True)
               for s in ((b, h, tq, d), (b, h, tk, d), (b, h, tk, draw.integer(1, 3))))
    if kind == "none":
        return q, k, v, None
    if kind == "causal":
        return q, k, v, ref.causal_mask(tq)
    shape = (tq, tk) if draw.boolean() else (b, 1, tq, tk)
    blocked = draw.rng().random(shape) < 0.4
    first = np.zeros(shape, dtype=bool)
    first[..., draw.integer(0, tk - 1)] = True
    blocked &= ~first                     # every query keeps at least one key
    return q, k, v, tt.tensor(blocked)


def _np(t):
    return t.detach().numpy()


def _textbook(q, k, v, blocked, scale=None, dim=-1):
    """softmax(q kᵀ * scale, masked_fill(blocked, -1e9)) v, as a student writes it: the
    typical wrong answers are this with one thing changed."""
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = (q @ k.transpose(-2, -1)) * scale
    if blocked is not None:
        scores = scores.masked_fill(blocked, -1e9)
    weights = scores.softmax(dim=dim)
    return weights @ v, weights


def check_attention(student, examples: int) -> list:
    def one(draw):
        q, k, v, mask = _draw_attention(draw)
        case = describe(q=_np(q), k=_np(k), v=_np(v), mask=None if mask is None else _np(mask))
        out, weights = _pair(student.scaled_dot_product_attention(q, k, v, mask), case)
        d = q.shape[-1]
        variants = [(_textbook(q, k, v, mask, scale=1.0), NO_SCALE),
                    (_textbook(q, k, v, mask, scale=1.0 / d), SCALE_NOT_SQRT),
                    (_textbook(q, k, v, mask, dim=-2), SOFTMAX_DIM)]
        if mask is not None:
            variants += [(_textbook(q, k, v, None), MASK_IGNORED),
                         (_textbook(q, k, v, ~mask), MASK_INVERTED)]
        right = ref.scaled_dot_product_attention(q, k, v, mask)
        for i, name in enumerate((Text("the output of scaled_dot_product_attention",
                                       "la salida de scaled_dot_product_attention"),
                                  Text("the weights from scaled_dot_product_attention",
                                       "los pesos de scaled_dot_product_attention"))):
            compare(name, (out, weights)[i], right[i].detach().numpy(), case,
                    [(wrong[i].detach().numpy(), hint) for wrong, hint in variants])
        if getattr(out, "grad_fn", None) is None:
            raise Mistake(Text(f"the output of scaled_dot_product_attention is not a tensor "
                               f"recorded by the engine (for {case.en}).",
                               f"la salida de scaled_dot_product_attention no es un tensor "
                               f"registrado por el motor (con {case.es})."), NOT_IN_GRAPH)

        size = draw.integer(2, 5)
        ones = np.ones((size, size), dtype=bool)
        compare("causal_mask", student.causal_mask(size), ref.causal_mask(size).numpy(),
                describe(size=size),
                [(np.triu(ones), CAUSAL_DIAGONAL), (np.tril(ones, -1), CAUSAL_PAST),
                 (np.tril(ones), CAUSAL_PAST)])

    for_cases(one, examples)

    def in_engine(draw):
        q, k, v, mask = _draw_attention(draw)
        engine_gradcheck(lambda q, k, v: student.scaled_dot_product_attention(q, k, v, mask)[0],
                         (q, k, v), ("q", "k", "v"),
                         Text("your attention, through the engine",
                              "tu atención, a través del motor"))

    def in_the_model(draw):
        b, n, heads = draw.integer(1, 2), draw.integer(1, 4), draw.integer(1, 2)
        layer = MultiHeadAttention(heads * draw.integer(1, 3), heads).double()
        x = tt.tensor(draw.array((b, n, layer.embed_dim)))
        causal = AttentionMask(causal=True)
        expected = _np(layer(x, x, x, mask=causal))

        def theirs(q, k, v, attn_mask=None, dropout_p=0.0):
            blocked, _ = attn_mask.scores_masks(q.shape[-2], k.shape[-2])
            return student.scaled_dot_product_attention(
                q, k, v, None if blocked is None else tt.tensor(blocked))

        saved, mha_module.scaled_dot_product_attention = \
            mha_module.scaled_dot_product_attention, theirs
        try:
            got = layer(x, x, x, mask=causal)
        finally:
            mha_module.scaled_dot_product_attention = saved
        compare(Text("a causal MultiHeadAttention that attends with your function",
                     "un MultiHeadAttention causal que atiende con tu función"),
                got, expected, describe(x=x.numpy(), num_heads=heads))

    examples_engine = max(2, examples // 4)
    for_cases(in_engine, examples_engine)
    for_cases(in_the_model, examples_engine)
    checked = [Text(f"{examples} random cases (no mask, causal, random masks) against "
                    f"attention_composed, and causal_mask",
                    f"{examples} casos aleatorios (sin máscara, causal, máscaras aleatorias) "
                    f"contra attention_composed, y causal_mask"),
               Text("gradcheck in float64 through your attention passes for q, k and v",
                    "gradcheck en float64 a través de tu atención pasa para q, k y v"),
               Text("a causal MultiHeadAttention attending with your function gives the "
                    "library's output",
                    "un MultiHeadAttention causal que atiende con tu función da la salida de "
                    "la biblioteca")]
    torch = torch_or_none()
    if torch is not None:
        def against_torch(draw):
            q, k, v, mask = _draw_attention(draw)
            tq, tk, tv = (torch.tensor(_np(t)) for t in (q, k, v))
            allowed = None if mask is None else torch.tensor(~mask.numpy())  # True = attend
            expected = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv,
                                                                         attn_mask=allowed)
            out, _ = student.scaled_dot_product_attention(q, k, v, mask)
            compare(Text("the output of scaled_dot_product_attention",
                         "la salida de scaled_dot_product_attention"),
                    out, expected.numpy(), describe(q=_np(q), k=_np(k)))

        for_cases(against_torch, examples_engine)
        checked.append(Text("agrees with torch.nn.functional.scaled_dot_product_attention",
                            "coincide con torch.nn.functional.scaled_dot_product_attention"))
    return checked


# -- 8. heads ---------------------------------------------------------------------------------

PLAIN_RESHAPE = Text(
    "a plain reshape to (batch, heads, len, head_dim) mixes positions between heads: the "
    "features of one position are contiguous, so reshape to (batch, len, heads, head_dim) "
    "first, then swap len and heads with transpose(1, 2).",
    "un reshape directo a (batch, heads, len, head_dim) mezcla posiciones entre cabezas: "
    "las características de una posición están contiguas, así que haz primero reshape a "
    "(batch, len, heads, head_dim) y luego intercambia len y heads con transpose(1, 2).")
NO_TRANSPOSE = Text(
    "after the reshape to (batch, len, heads, head_dim), swap len and heads with "
    "transpose(1, 2): attention wants (batch, heads, len, head_dim).",
    "después del reshape a (batch, len, heads, head_dim), intercambia len y heads con "
    "transpose(1, 2): la atención quiere (batch, heads, len, head_dim).")
MERGE_PLAIN_RESHAPE = Text(
    "merging is the inverse of splitting: transpose(1, 2) back to (batch, len, heads, "
    "head_dim) first, then reshape to (batch, len, heads * head_dim). A plain reshape "
    "puts one head's positions where another position's features should be.",
    "unir es lo inverso de dividir: primero transpose(1, 2) de vuelta a (batch, len, heads, "
    "head_dim), luego reshape a (batch, len, heads * head_dim). Un reshape directo pone las "
    "posiciones de una cabeza donde deberían ir las características de otra posición.")


def check_heads(student, examples: int) -> list:
    def one(draw):
        b, n, heads, dh = (draw.integer(1, 3) for _ in range(4))
        x = tt.tensor(draw.array((b, n, heads * dh)))
        case = describe(x=x.numpy(), num_heads=heads)
        compare("split_heads", student.split_heads(x, heads), ref.split_heads(x, heads).numpy(),
                case, [(x.reshape(b, heads, n, dh).numpy(), PLAIN_RESHAPE),
                       (x.reshape(b, n, heads, dh).numpy(), NO_TRANSPOSE)])
        y = tt.tensor(draw.array((b, heads, n, dh)))
        compare("merge_heads", student.merge_heads(y), ref.merge_heads(y).numpy(),
                describe(x=y.numpy()), [(y.reshape(b, n, heads * dh).numpy(),
                                         MERGE_PLAIN_RESHAPE)])

    for_cases(one, examples)

    def in_the_model(draw):
        b, n, heads = draw.integer(1, 2), draw.integer(2, 4), draw.integer(2, 3)
        layer = MultiHeadAttention(heads * draw.integer(1, 3), heads).double()
        x = tt.tensor(draw.array((b, n, layer.embed_dim)), requires_grad=True)
        expected = layer(x, x, x)
        expected.sum().backward()
        expected_grad, x.grad = x.grad.numpy(), None
        layer.split_heads = lambda t: student.split_heads(t, heads)
        layer.merge_heads = student.merge_heads
        got = layer(x, x, x)
        case = describe(x=x.detach().numpy(), num_heads=heads)
        compare(Text("a MultiHeadAttention that splits and merges heads with your functions",
                     "un MultiHeadAttention que divide y une las cabezas con tus funciones"),
                got, expected.detach().numpy(), case, [])
        if getattr(got, "grad_fn", None) is None:
            raise Mistake(Text("the output of MultiHeadAttention with your functions is not "
                               "recorded by the engine.",
                               "la salida de MultiHeadAttention con tus funciones no queda "
                               "registrada en el motor."), NOT_IN_GRAPH)
        got.sum().backward()
        compare(Text("the gradient for the input of that MultiHeadAttention",
                     "el gradiente de la entrada de ese MultiHeadAttention"),
                x.grad, expected_grad, case)

    for_cases(in_the_model, max(2, examples // 4))
    return [Text(f"{examples} random cases against MultiHeadAttention.split_heads and "
                 f"merge_heads",
                 f"{examples} casos aleatorios contra MultiHeadAttention.split_heads y "
                 f"merge_heads"),
            Text("a MultiHeadAttention using your functions gives the library's output and "
                 "gradients",
                 "un MultiHeadAttention con tus funciones da la salida y los gradientes de la "
                 "biblioteca")]


# -- 9. positional encoding ---------------------------------------------------------------------

SWAPPED_SIN_COS = Text(
    "sin and cos are swapped: sin goes in the even columns (0, 2, 4, ...), cos in the odd "
    "ones.",
    "sin y cos están intercambiados: sin va en las columnas pares (0, 2, 4, ...) y cos en "
    "las impares.")
HALVES = Text(
    "the sines and cosines are interleaved, not in two halves: column 2i holds "
    "sin(pos / 10000^(2i/d_model)) and column 2i + 1 the cos of the same angle.",
    "los senos y cosenos van intercalados, no en dos mitades: la columna 2i lleva "
    "sin(pos / 10000^(2i/d_model)) y la columna 2i + 1 el cos del mismo ángulo.")
COLUMN_EXPONENT = Text(
    "columns 2i and 2i + 1 share one frequency: the exponent is 2i / d_model for both, so "
    "an odd column j uses (j - 1) / d_model, not j / d_model.",
    "las columnas 2i y 2i + 1 comparten frecuencia: el exponente es 2i / d_model en ambas, "
    "así que una columna impar j usa (j - 1) / d_model, no j / d_model.")
PAIR_EXPONENT = Text(
    "the exponent is 2i / d_model, where i counts the pairs of columns: with i / d_model the "
    "slowest clock turns twice too fast.",
    "el exponente es 2i / d_model, donde i cuenta los pares de columnas: con i / d_model el "
    "reloj más lento gira el doble de rápido.")


def _table(max_len, d_model, exponent, cos_first=False, halves=False):
    """Sinusoidal tables, right and wrong: ``exponent(j)`` for column j."""
    pos = np.arange(max_len, dtype=np.float64)[:, None]
    j = np.arange(d_model)
    if halves:  # [sin of every frequency | cos of every frequency]
        k = (d_model + 1) // 2
        angle = pos / np.power(10000.0, np.where(j < k, j, j - k) * 2 / d_model)
        return np.where(j < k, np.sin(angle), np.cos(angle))
    angle = pos / np.power(10000.0, exponent(j) / d_model)
    even = (j % 2 == 0) != cos_first
    return np.where(even, np.sin(angle), np.cos(angle))


def check_positional(student, examples: int) -> list:
    def one(draw):
        max_len, d_model = draw.integer(1, 8), draw.integer(1, 10)
        case = describe(max_len=max_len, d_model=d_model)
        compare("sinusoidal_table", student.sinusoidal_table(max_len, d_model),
                ref.sinusoidal_table(max_len, d_model), case,
                [(_table(max_len, d_model, lambda j: j - j % 2, cos_first=True),
                  SWAPPED_SIN_COS),
                 (_table(max_len, d_model, None, halves=True), HALVES),
                 (_table(max_len, d_model, lambda j: j), COLUMN_EXPONENT),
                 (_table(max_len, d_model, lambda j: j // 2), PAIR_EXPONENT)],
                atol=1e-6, rtol=1e-5)

    for_cases(one, examples)

    def in_the_model(draw):
        max_len, d_model = draw.integer(2, 8), draw.integer(2, 10)
        x = tt.tensor(draw.array((draw.integer(1, 2), draw.integer(1, max_len), d_model)))
        layer = PositionalEncoding(d_model, max_len)
        expected = layer(x).numpy()
        table = np.asarray(student.sinusoidal_table(max_len, d_model), dtype=np.float32)
        layer.pe = tt.from_numpy(table)
        compare(Text("a PositionalEncoding with your table", "un PositionalEncoding con tu "
                     "tabla"), layer(x), expected, describe(x=x.numpy()), atol=1e-6)

    for_cases(in_the_model, max(2, examples // 4))
    return [Text(f"{examples} random sizes (odd d_model too) against "
                 f"positional.sinusoidal_table",
                 f"{examples} tamaños aleatorios (también d_model impar) contra "
                 f"positional.sinusoidal_table"),
            Text("a PositionalEncoding with your table gives the library's output",
                 "un PositionalEncoding con tu tabla da la salida de la biblioteca")]
