"""Graders of exercises 10-12: one Adam step, one BPE merge, greedy and beam search.

Each answer is compared with the library's on random inputs, typical wrong answers
computed beside the right one; then plugged into the library: an Optimizer whose step is
the student's, trained next to tinytorch's Adam; merge steps repeated until they rebuild
``BPETokenizer.train``'s merges; decoders run on a real (random) DecoderOnly model and
compared with ``transformer.generate``.
"""

from __future__ import annotations

import numpy as np

import tinytorch as tt
from tinytorch import nn
from tinytorch.optim import Adam, Optimizer
from transformer.tokenizer import BPETokenizer, pretokenize

from .. import solutions as ref
from ..grading import Mistake, Text, compare, describe, equal, for_cases, torch_or_none

# -- 10. Adam -------------------------------------------------------------------------------------

NO_BIAS_CORRECTION = Text(
    "your step has no bias correction. m and v start at 0, so after t steps they are too "
    "small by the factors (1 - beta1^t) and (1 - beta2^t): divide them by those before the "
    "update, m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t).",
    "tu paso no tiene corrección de sesgo. m y v empiezan en 0, así que tras t pasos son "
    "demasiado pequeños por los factores (1 - beta1^t) y (1 - beta2^t): divídelos por ellos "
    "antes de actualizar, m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t).")
EPS_INSIDE = Text(
    "eps goes outside the square root: param - lr * m_hat / (sqrt(v_hat) + eps).",
    "eps va fuera de la raíz: param - lr * m_hat / (sqrt(v_hat) + eps).")
V_NOT_SQUARED = Text(
    "the second moment is a running mean of the *squared* gradient: "
    "v = beta2 * v + (1 - beta2) * grad**2.",
    "el segundo momento es una media móvil del gradiente *al cuadrado*: "
    "v = beta2 * v + (1 - beta2) * grad**2.")
BETAS_SWAPPED = Text(
    "the betas weigh the old average: m = beta1 * m + (1 - beta1) * grad, not "
    "(1 - beta1) * m + beta1 * grad.",
    "las betas pesan la media anterior: m = beta1 * m + (1 - beta1) * grad, no "
    "(1 - beta1) * m + beta1 * grad.")


def _triple(got, case: Text):
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise Mistake(Text(
            f"adam_step must return (param, exp_avg, exp_avg_sq); it returned "
            f"{type(got).__name__} (for {case.en}).",
            f"adam_step debe devolver (param, exp_avg, exp_avg_sq); devolvió "
            f"{type(got).__name__} (con {case.es})."))
    return got


def check_adam(student, examples: int) -> list:
    def one(draw):
        shape = draw.shape(1, 2)
        lr, eps = draw.choice([1e-3, 0.01, 0.1]), draw.choice([1e-8, 1e-3, 0.1])
        beta1, beta2 = draw.choice([0.9, 0.5]), draw.choice([0.999, 0.9])
        p, m, v = draw.array(shape), np.zeros(shape), np.zeros(shape)
        for t in range(1, draw.integer(1, 4) + 1):
            g = draw.array(shape)
            case = describe(param=p, step=t, lr=lr, beta1=beta1, beta2=beta2, eps=eps)
            got = _triple(student.adam_step(p.copy(), g.copy(), m.copy(), v.copy(), t, lr,
                                            beta1, beta2, eps), case)
            p2, m2, v2 = ref.adam_step(p, g, m, v, t, lr, beta1, beta2, eps)
            m_hat, v_hat = m2 / (1 - beta1 ** t), v2 / (1 - beta2 ** t)
            compare(Text("the exp_avg (m) from adam_step", "el exp_avg (m) de adam_step"),
                    got[1], m2, case,
                    [((1 - beta1) * m + beta1 * g, BETAS_SWAPPED)])
            compare(Text("the exp_avg_sq (v) from adam_step", "el exp_avg_sq (v) de adam_step"),
                    got[2], v2, case,
                    [(beta2 * v + (1 - beta2) * np.abs(g), V_NOT_SQUARED),
                     ((1 - beta2) * v + beta2 * g * g, BETAS_SWAPPED)])
            compare(Text("the param from adam_step", "el param de adam_step"), got[0], p2, case,
                    [(p - lr * m2 / (np.sqrt(v2) + eps), NO_BIAS_CORRECTION),
                     (p - lr * m_hat / np.sqrt(v_hat + eps), EPS_INSIDE)])
            p, m, v = p2, m2, v2

    for_cases(one, examples)

    class StudentAdam(Optimizer):
        """An optimizer whose update is the student's adam_step."""

        def __init__(self, params, lr, betas, eps):
            super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

        def step(self, closure=None):
            for group in self.param_groups:
                (beta1, beta2), lr, eps = group["betas"], group["lr"], group["eps"]
                for p in group["params"]:
                    state = self.state[p]
                    if not state:
                        state.update(step=0, m=np.zeros(p.shape), v=np.zeros(p.shape))
                    state["step"] += 1
                    w, state["m"], state["v"] = student.adam_step(
                        p.array.copy(), p.grad.array.copy(), state["m"], state["v"],
                        state["step"], lr, beta1, beta2, eps)
                    p.array[...] = np.asarray(w)

    def trained(make_optimizer, model, x, y, steps):
        optimizer = make_optimizer(model.parameters())
        for _ in range(steps):
            loss = ((model(x) - y) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return [p.detach().numpy() for p in model.parameters()]

    def in_training(draw):
        tt.manual_seed(draw.integer(0, 1000))
        model = nn.Linear(3, 2).double()
        start = [p.detach().numpy().copy() for p in model.parameters()]
        x, y = tt.tensor(draw.array((4, 3))), tt.tensor(draw.array((4, 2)))
        lr, steps = draw.choice([0.01, 0.1]), draw.integer(1, 4)
        mine = trained(lambda ps: StudentAdam(ps, lr, (0.9, 0.999), 1e-8), model, x, y, steps)
        with tt.no_grad():
            for p, s in zip(model.parameters(), start):
                p.array[...] = s
        theirs = trained(lambda ps: Adam(ps, lr=lr), model, x, y, steps)
        case = describe(steps=steps, lr=lr)
        for name, a, b in zip(("weight", "bias"), mine, theirs):
            compare(Text(f"the Linear layer's {name} after training with your adam_step",
                         f"el {name} de la capa Linear tras entrenar con tu adam_step"),
                    a, b, case)

    for_cases(in_training, max(2, examples // 4))
    checked = [Text(f"{examples} random runs of 1 to 4 steps against tinytorch's _adam_math",
                    f"{examples} ejecuciones aleatorias de 1 a 4 pasos contra _adam_math de "
                    f"tinytorch"),
               Text("a Linear layer trained with your adam_step ends where tinytorch.optim.Adam "
                    "takes it",
                    "una capa Linear entrenada con tu adam_step acaba donde la lleva "
                    "tinytorch.optim.Adam")]
    torch = torch_or_none()
    if torch is not None:
        def against_torch(draw):
            shape = draw.shape(1, 2)
            p = draw.array(shape)
            tp = torch.tensor(p, requires_grad=True)
            optimizer = torch.optim.Adam([tp], lr=0.1, eps=1e-3)
            m, v = np.zeros(shape), np.zeros(shape)
            for t in range(1, draw.integer(1, 4) + 1):
                g = draw.array(shape)
                tp.grad = torch.tensor(g)
                optimizer.step()
                p, m, v = student.adam_step(p, g, m, v, t, 0.1, 0.9, 0.999, 1e-3)
                compare("param", p, tp.detach().numpy(), describe(param=p, step=t))

        for_cases(against_torch, max(2, examples // 4))
        checked.append(Text("agrees with torch.optim.Adam", "coincide con torch.optim.Adam"))
    return checked


# -- 11. BPE --------------------------------------------------------------------------------------

UNWEIGHTED = Text(
    "count each pair as many times as the word occurs in the corpus: a pair in a word seen "
    "5 times counts 5 (words[word] is that number).",
    "cuenta cada par tantas veces como aparece la palabra en el corpus: un par de una "
    "palabra vista 5 veces cuenta 5 (words[word] es ese número).")
TIES = Text(
    "when several pairs are equally frequent, take the smallest (left, right) pair in "
    "string order, as the library does: training must be deterministic.",
    "cuando varios pares son igual de frecuentes, toma el par (izquierda, derecha) menor en "
    "orden de cadenas, como hace la biblioteca: el entrenamiento debe ser determinista.")
RIGHT_TO_LEFT = Text(
    "merge from left to right: in ('a', 'a', 'a') the pair ('a', 'a') becomes "
    "('aa', 'a'); a merged symbol is not merged again in the same step.",
    "fusiona de izquierda a derecha: en ('a', 'a', 'a') el par ('a', 'a') queda "
    "('aa', 'a'); un símbolo fusionado no vuelve a fusionarse en el mismo paso.")


def _counts(words, weighted=True):
    counts = {}
    for word, freq in words.items():
        for pair in zip(word, word[1:]):
            counts[pair] = counts.get(pair, 0) + (freq if weighted else 1)
    return counts


def _merge_right_to_left(word, pair):
    out, i = [], len(word) - 1
    while i >= 0:
        if i > 0 and (word[i - 1], word[i]) == pair:
            out.append(word[i - 1] + word[i])
            i -= 2
        else:
            out.append(word[i])
            i -= 1
    return tuple(reversed(out))


def _draw_words(draw):
    alphabet = draw.choice(["ab", "abc", "abcd"])
    words = {}
    for _ in range(draw.integer(1, 5)):
        word = "".join(draw.choice(alphabet) for _ in range(draw.integer(1, 5)))
        words[tuple(word)] = draw.integer(1, 4)
    return words


#: Vocabularies on which the typical mistakes differ from the right answer: weighting by
#: the counts, the tie rule, merging left to right. Checked before the random ones.
KNOWN_WORDS = (
    {("l", "o", "w"): 5, ("l", "o", "t"): 2, ("o", "w"): 1},
    {("a", "b"): 1, ("a", "b", "c"): 1, ("c", "d"): 5},
    {("b", "a"): 1, ("a", "a"): 1},
    {("a", "a", "a"): 2},
)


def check_bpe(student, examples: int) -> list:
    def check_words(words):
        case = Text(f"words={words}", f"words={words}")
        got = student.merge_step(dict(words))
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise Mistake(Text(
                f"merge_step must return (pair, new_words); it returned {type(got).__name__} "
                f"(for {case.en}).",
                f"merge_step debe devolver (pair, new_words); devolvió {type(got).__name__} "
                f"(con {case.es})."))
        pair, merged = ref.merge_step(words)
        counts, plain = _counts(words), _counts(words, weighted=False)
        variants = []
        if counts:
            variants = [(max(counts, key=lambda p: (counts[p], p)), TIES),
                        (max(counts, key=counts.get), TIES)]
            if plain != counts:
                variants += [(min(plain, key=lambda p: (-plain[p], p)), UNWEIGHTED),
                             (max(plain, key=plain.get), UNWEIGHTED)]
        got_pair = None if got[0] is None else tuple(got[0])
        equal(Text("the pair merge_step chose", "el par que eligió merge_step"), got_pair, pair,
              case, variants)
        wrong = {} if pair is None else {_merge_right_to_left(w, pair): f
                                         for w, f in words.items()}
        got_words = {tuple(w): f for w, f in dict(got[1]).items()}
        equal(Text("the words after merge_step", "las palabras tras merge_step"), got_words,
              merged, case, [(wrong, RIGHT_TO_LEFT)])

    for words in KNOWN_WORDS:
        check_words(words)
    for_cases(lambda draw: check_words(_draw_words(draw)), examples)

    def in_training(draw):
        letters = draw.choice(["ab", "abc", "abc "])
        texts = ["".join(draw.choice(letters) for _ in range(draw.integer(1, 12)))
                 for _ in range(draw.integer(1, 4))]
        alphabet = sorted({ch for t in texts for ch in t})
        merges = draw.integer(1, 6)
        tok = BPETokenizer.train(texts, len(BPETokenizer(alphabet, [])) + merges,
                                 min_frequency=1)
        words = {}
        for text in texts:
            for word in pretokenize(text):
                if len(word) > 1:
                    words[tuple(word)] = words.get(tuple(word), 0) + 1
        mine = []
        while len(mine) < merges:
            pair, words = student.merge_step(words)
            if pair is None:
                break
            mine.append(tuple(pair))
        equal(Text("the merges your merge_step learns, step after step",
                   "las fusiones que aprende tu merge_step, paso a paso"), mine, tok.merges,
              Text(f"texts={texts}", f"texts={texts}"))

    for_cases(in_training, max(2, examples // 2))
    return [Text(f"{examples} random vocabularies against the library's merge step",
                 f"{examples} vocabularios aleatorios contra el paso de fusión de la "
                 f"biblioteca"),
            Text("repeated, your merge_step learns the merges of BPETokenizer.train",
                 "repetido, tu merge_step aprende las fusiones de BPETokenizer.train")]


# -- 12. decoding ----------------------------------------------------------------------------------

BOS, EOS = 1, 2

GREEDY_KEEPS_EOS = Text(
    "leave eos out of the result: the output is the tokens before it.",
    "deja eos fuera del resultado: la salida son los tokens anteriores a él.")
GREEDY_KEEPS_BOS = Text(
    "leave bos out of the result: it is the prefix you start from, not an output token.",
    "deja bos fuera del resultado: es el prefijo del que partes, no un token de salida.")
GREEDY_NO_STOP = Text(
    "stop at eos: once the model emits it, the sentence is over.",
    "para en eos: cuando el modelo lo emite, la frase ha terminado.")
NO_LENGTH_NORM = Text(
    "your beam search returns what it would without length normalisation. Compare finished "
    "hypotheses by sum(log p) / length ** length_penalty: a plain sum of log-probabilities "
    "favours short outputs, since every token adds a negative term.",
    "tu búsqueda en haz devuelve lo que daría sin normalizar por la longitud. Compara las "
    "hipótesis terminadas por sum(log p) / longitud ** length_penalty: la suma sin más "
    "favorece las salidas cortas, porque cada token añade un término negativo.")
FINISHED_LIVE = Text(
    "a hypothesis that emits eos is finished: move it out of the beam (to the finished "
    "list, with its score) instead of extending it further; its place in the beam goes to "
    "the next best live candidate.",
    "una hipótesis que emite eos ha terminado: sácala del haz (a la lista de terminadas, "
    "con su puntuación) en vez de seguir extendiéndola; su sitio en el haz es para el "
    "siguiente mejor candidato vivo.")


def _language_model(seed: int, vocab: int, eos_bias: float):
    """next_logits(prefix) -> (vocab,) logits that depend on the whole prefix."""
    def next_logits(prefix):
        logits = np.random.default_rng([seed, *map(int, prefix)]).normal(0.0, 2.0, vocab)
        logits[EOS] += eos_bias
        logits[BOS] = -30.0  # practically never generated
        return logits
    return next_logits


def _log_softmax(x):
    x = np.asarray(x, dtype=np.float64)
    shifted = x - x.max()
    return shifted - np.log(np.exp(shifted).sum())


def _greedy_ignoring_eos(next_logits, max_len):
    tokens = []
    for _ in range(max_len):
        tokens.append(int(np.argmax(next_logits([BOS, *tokens]))))
    return tokens


def _beam_eos_live(next_logits, beam_size, max_len, length_penalty):
    """The typical wrong beam search: eos is a token like any other (the beam goes on past
    it), and the best beam is cut at its first eos at the end."""
    beams = [([], 0.0)]
    for _ in range(max_len):
        cands = [(tokens + [tok], score + lp) for tokens, score in beams
                 for tok, lp in enumerate(_log_softmax(next_logits([BOS, *tokens])))]
        beams = sorted(cands, key=lambda c: -c[1])[:beam_size]
    tokens, _ = max(beams, key=lambda c: c[1] / len(c[0]) ** length_penalty)
    return tokens[: tokens.index(EOS)] if EOS in tokens else tokens


def _tokens(got, name: str, case: Text) -> list:
    try:
        return [int(t) for t in got]
    except (TypeError, ValueError):
        raise Mistake(Text(f"{name} must return a list of token ids; it returned "
                           f"{type(got).__name__} (for {case.en}).",
                           f"{name} debe devolver una lista de ids de tokens; devolvió "
                           f"{type(got).__name__} (con {case.es}).")) from None


def check_decoding(student, examples: int) -> list:
    def one(draw):
        vocab, max_len = draw.integer(3, 6), draw.integer(1, 6)
        lm = _language_model(draw.integer(0, 10**6), vocab, draw.choice([-1.0, 0.0, 1.0, 2.0]))
        case = describe(vocab_size=vocab, max_len=max_len)
        expected = ref.greedy_decode(lm, BOS, EOS, max_len)
        got = _tokens(student.greedy_decode(lm, BOS, EOS, max_len), "greedy_decode", case)
        no_stop = _greedy_ignoring_eos(lm, max_len)
        equal("greedy_decode", got, expected, case,
              [(expected + [EOS], GREEDY_KEEPS_EOS), ([BOS] + expected, GREEDY_KEEPS_BOS),
               (no_stop, GREEDY_NO_STOP)])

        beams, penalty = draw.integer(2, 3), draw.choice([1.0, 1.0, 0.5, 2.0])
        case = describe(vocab_size=vocab, max_len=max_len, beam_size=beams,
                        length_penalty=penalty)
        expected = ref.beam_search(lm, BOS, EOS, beams, max_len, penalty)
        got = _tokens(student.beam_search(lm, BOS, EOS, beams, max_len, penalty),
                      "beam_search", case)
        equal("beam_search", got, expected, case,
              [(ref.beam_search(lm, BOS, EOS, beams, max_len, 0.0), NO_LENGTH_NORM),
               (_beam_eos_live(lm, beams, max_len, penalty), FINISHED_LIVE),
               (expected + [EOS], GREEDY_KEEPS_EOS)])

    for_cases(one, examples)

    def on_a_model(draw):
        from transformer import DecoderOnly, TransformerConfig, generate  # noqa: PLC0415

        tt.manual_seed(draw.integer(0, 1000))
        config = TransformerConfig(src_vocab_size=7, tgt_vocab_size=7, d_model=8, nhead=2,
                                   num_encoder_layers=1, num_decoder_layers=1,
                                   dim_feedforward=16, dropout=0.0, max_len=12, pad_id=EOS)
        model = DecoderOnly(config).double().eval()
        with tt.no_grad():
            for p in model.parameters():
                p.array[...] = draw.rng().normal(0.0, 1.0, p.shape)

        def next_logits(prefix):
            with tt.no_grad():
                return model(tt.tensor([list(prefix)]))[0, -1].numpy()

        max_len, beams = draw.integer(1, 6), draw.integer(2, 3)
        case = describe(max_len=max_len, beam_size=beams)
        equal(Text("greedy_decode on a DecoderOnly model", "greedy_decode con un DecoderOnly"),
              _tokens(student.greedy_decode(next_logits, BOS, EOS, max_len), "greedy_decode",
                      case),
              generate(model, [[BOS]], BOS, EOS, max_len=max_len)[0], case)
        equal(Text("beam_search on a DecoderOnly model", "beam_search con un DecoderOnly"),
              _tokens(student.beam_search(next_logits, BOS, EOS, beams, max_len),
                      "beam_search", case),
              generate(model, [[BOS]], BOS, EOS, max_len=max_len, num_beams=beams)[0], case)

    for_cases(on_a_model, max(2, examples // 4))
    return [Text(f"{examples} random language models against generate.py's greedy and beam "
                 f"search",
                 f"{examples} modelos de lenguaje aleatorios contra la decodificación voraz y "
                 f"la búsqueda en haz de generate.py"),
            Text("on a real DecoderOnly, your decoders give transformer.generate's tokens",
                 "con un DecoderOnly real, tus decodificadores dan los tokens de "
                 "transformer.generate")]
