"""Exercise 11: one BPE merge step
Ejercicio 11: un paso de fusión de BPE

English
=======

Byte-pair encoding learns a vocabulary by gluing frequent neighbours together
(transformer/tokenizer.py; docs/04-transformer-map.md, "Tokens"). Training starts with
every word spelled as its characters, and then repeats one step:

    count every adjacent pair of symbols, each word weighted by its count
    take the most frequent pair (a tie goes to the smallest (left, right))
    write every word again with that pair glued into one symbol

For example, with words = {('l', 'o', 'w'): 5, ('l', 'o', 't'): 2, ('o', 'w'): 1}:

    ('l', 'o') 7    ('o', 'w') 6    ('o', 't') 2
    pair = ('l', 'o')
    {('lo', 'w'): 5, ('lo', 't'): 2, ('o', 'w'): 1}

A pair is merged left to right without overlaps: in ('a', 'a', 'a') the pair ('a', 'a')
gives ('aa', 'a').

Write merge_step(words) -> (pair, new_words): words maps each word, a tuple of symbols
(strings), to its count; pair is the merged pair (a tuple of two strings), new_words the
words after merging. When no word has two symbols, return (None, words). The grader
compares with the library on random vocabularies, then repeats your step and compares
the merges it learns with BPETokenizer.train's.

    python -m exercises check 11

Hints
-----
1. zip(word, word[1:]) gives a word's adjacent pairs.
2. The smallest pair among the most frequent: min(counts, key=lambda p: (-counts[p], p)).
3. Rewrite each word with a loop over its symbols that jumps two places after a merge.

Español
=======

La codificación por pares de bytes (BPE) aprende un vocabulario pegando vecinos
frecuentes (transformer/tokenizer.py; docs/es/04-transformer-map.md, "Tokens"). El
entrenamiento empieza con cada palabra escrita como sus caracteres y luego repite un
paso:

    count every adjacent pair of symbols, each word weighted by its count
    take the most frequent pair (a tie goes to the smallest (left, right))
    write every word again with that pair glued into one symbol

Es decir: contar cada par de símbolos vecinos, con cada palabra pesada por su número de
apariciones; tomar el par más frecuente (un empate se lo lleva el (izquierda, derecha)
menor); y reescribir cada palabra con ese par pegado en un solo símbolo. Por ejemplo, con
words = {('l', 'o', 'w'): 5, ('l', 'o', 't'): 2, ('o', 'w'): 1}:

    ('l', 'o') 7    ('o', 'w') 6    ('o', 't') 2
    pair = ('l', 'o')
    {('lo', 'w'): 5, ('lo', 't'): 2, ('o', 'w'): 1}

Un par se fusiona de izquierda a derecha y sin solaparse: en ('a', 'a', 'a') el par
('a', 'a') da ('aa', 'a').

Escribe merge_step(words) -> (pair, new_words): words asigna a cada palabra, una tupla
de símbolos (cadenas), su número de apariciones; pair es el par fusionado (una tupla de
dos cadenas) y new_words las palabras tras la fusión. Si ninguna palabra tiene dos
símbolos, devuelve (None, words). El corrector compara con la biblioteca en vocabularios
aleatorios y luego repite tu paso y compara las fusiones que aprende con las de
BPETokenizer.train.

    python -m exercises check 11

Pistas
------
1. zip(word, word[1:]) da los pares vecinos de una palabra.
2. El par menor entre los más frecuentes: min(counts, key=lambda p: (-counts[p], p)).
3. Reescribe cada palabra con un bucle sobre sus símbolos que salte dos posiciones tras
   una fusión.
"""


def merge_step(words):
    """words: {tuple of symbols: count} -> (pair or None, {tuple of symbols: count}).

    ES: words: {tupla de símbolos: número} -> (par o None, {tupla de símbolos: número}).
    """
    raise NotImplementedError
