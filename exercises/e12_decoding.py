"""Exercise 12: greedy decoding, then beam search
Ejercicio 12: decodificación voraz y búsqueda en haz

English
=======

A trained model gives, for a prefix of tokens, the logits of the next one. Decoding turns
that into a sentence (transformer/generate.py; docs/10-gpt-and-bert.md). Here the model
is a function, next_logits(prefix) -> logits of shape (vocab,), where prefix is a list of
token ids that starts with bos_id.

Greedy decoding takes the most likely token at every step, until the model emits eos_id
or max_len tokens have been generated (eos counts as one):

    tokens = []
    repeat at most max_len times:
        t = argmax(next_logits([bos_id] + tokens))
        stop if t == eos_id, else tokens.append(t)

Beam search keeps the beam_size best hypotheses instead of one. A hypothesis is a token
list with a score, the sum of the log-probabilities of its tokens (log_softmax of the
logits). At step s = 1, 2, ..., max_len:

    extend every live hypothesis by every token: candidate score = score + log p(token)
    sort the candidates by score and walk down the best 2 * beam_size of them until
        beam_size are live: a candidate that ends in eos is finished, scored
        sum / s ** length_penalty; the others become the new live hypotheses
    stop when beam_size hypotheses are finished and the best live one, scored
        sum / s ** length_penalty, is no better than the beam_size-th best finished one

If max_len steps end without stopping, the live hypotheses join the finished ones,
scored sum / n ** length_penalty with n their number of tokens. The answer is the
finished hypothesis with the best score. Dividing by the length matters: every token
adds a negative log-probability, so plain sums favour short outputs.

Write greedy_decode(next_logits, bos_id, eos_id, max_len) and beam_search(next_logits,
bos_id, eos_id, beam_size, max_len, length_penalty): each returns the generated token ids
as a list, without bos and without eos. The grader compares with generate.py on random
language models, then on a real DecoderOnly model.

    python -m exercises check 12

Hints
-----
1. A stable log_softmax: x - x.max() - log(sum(exp(x - x.max()))).
2. Keep a hypothesis as (tokens, score); a finished one is not extended any further.
3. A finished hypothesis of s tokens, eos included, is scored score / s ** length_penalty.
4. Sort with a stable sort (Python's sorted is one): candidates with equal scores keep
   the order of their beams and tokens, as in the library (np.argsort, kind="stable").

Español
=======

Un modelo entrenado da, para un prefijo de tokens, los logits del siguiente. Decodificar
convierte eso en una frase (transformer/generate.py; docs/es/10-gpt-and-bert.md). Aquí el
modelo es una función, next_logits(prefix) -> logits de forma (vocab,), donde prefix es
una lista de ids de tokens que empieza por bos_id.

La decodificación voraz toma el token más probable en cada paso, hasta que el modelo
emite eos_id o se han generado max_len tokens (eos cuenta como uno):

    tokens = []
    repeat at most max_len times:
        t = argmax(next_logits([bos_id] + tokens))
        stop if t == eos_id, else tokens.append(t)

La búsqueda en haz guarda las beam_size mejores hipótesis en vez de una. Una hipótesis es
una lista de tokens con una puntuación, la suma de las log-probabilidades de sus tokens
(log_softmax de los logits). En el paso s = 1, 2, ..., max_len:

    extend every live hypothesis by every token: candidate score = score + log p(token)
    sort the candidates by score and walk down the best 2 * beam_size of them until
        beam_size are live: a candidate that ends in eos is finished, scored
        sum / s ** length_penalty; the others become the new live hypotheses
    stop when beam_size hypotheses are finished and the best live one, scored
        sum / s ** length_penalty, is no better than the beam_size-th best finished one

Es decir: se extiende cada hipótesis viva con cada token; se recorren en orden los
2 * beam_size mejores candidatos hasta tener beam_size vivos: uno que acaba en eos queda
terminado, con puntuación suma / s ** length_penalty, y los demás pasan a ser las nuevas
hipótesis vivas; se para cuando hay beam_size terminadas y la mejor viva no supera a la
beam_size-ésima mejor terminada.

Si se agotan los max_len pasos sin parar, las hipótesis vivas se unen a las terminadas,
con puntuación suma / n ** length_penalty, siendo n su número de tokens. La respuesta es
la hipótesis terminada con mejor puntuación. Dividir por la longitud importa: cada token
suma una log-probabilidad negativa, así que las sumas a secas favorecen las salidas
cortas.

Escribe greedy_decode(next_logits, bos_id, eos_id, max_len) y beam_search(next_logits,
bos_id, eos_id, beam_size, max_len, length_penalty): cada una devuelve los ids generados
como lista, sin bos y sin eos. El corrector compara con generate.py en modelos de
lenguaje aleatorios y luego con un modelo DecoderOnly real.

    python -m exercises check 12

Pistas
------
1. Un log_softmax estable: x - x.max() - log(sum(exp(x - x.max()))).
2. Guarda una hipótesis como (tokens, puntuación); una terminada ya no se extiende.
3. Una hipótesis terminada de s tokens, eos incluido, puntúa puntuación /
   s ** length_penalty.
4. Ordena con un orden estable (el sorted de Python lo es): los candidatos con la misma
   puntuación conservan el orden de sus hipótesis y tokens, como en la biblioteca
   (np.argsort, kind="stable").
"""

import numpy as np  # noqa: F401 (you will need it)


def greedy_decode(next_logits, bos_id, eos_id, max_len):
    """next_logits(list of ids) -> (vocab,) logits. -> the generated ids, no bos, no eos.

    ES: next_logits(lista de ids) -> logits (vocab,). -> los ids generados, sin bos ni eos.
    """
    raise NotImplementedError


def beam_search(next_logits, bos_id, eos_id, beam_size, max_len, length_penalty=1.0):
    """Beam search as described above -> the best hypothesis' ids, no bos, no eos.

    ES: búsqueda en haz como se describe arriba -> los ids de la mejor hipótesis.
    """
    raise NotImplementedError
