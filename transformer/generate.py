"""Decoding: turning a trained Transformer (a translation) or DecoderOnly (a prompt's
continuation) into output sequences.

``generate(model, src, ...)`` picks the strategy:

- greedy (default): take the most likely next token each step;
- beam search (``num_beams > 1``): keep the ``num_beams`` best partial sequences;
- sampling (``do_sample=True``): draw from softmax(logits / temperature), optionally
  restricted to the ``top_k`` most likely tokens or the smallest set whose
  probability reaches ``top_p`` (nucleus sampling).

``use_cache=True`` (the default) keeps the decoder's keys and values between steps
(cache.py), so that each step processes only the new token; ``use_cache=False``
runs the whole prefix through the decoder again at every step (same tokens).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

import tinytorch as tt

from . import fast_decode
from .cache import KVCache


class DecodingOptionError(ValueError):
    """An option of ``generate`` out of its range (a ValueError, with the allowed values)."""


def _check_options(max_len, num_beams, length_penalty, do_sample, temperature, top_k, top_p):
    """Refuse values that would decode garbage quietly (top_p=0: NaN probabilities) or
    fail deep inside (num_beams=0), naming the option and what it accepts."""
    def whole(x):
        return isinstance(x, numbers.Integral) and not isinstance(x, bool)

    def real(x):
        return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)

    problems = [
        ("max_len", max_len, "an int >= 1", whole(max_len) and max_len >= 1),
        ("num_beams", num_beams, "an int >= 1", whole(num_beams) and num_beams >= 1),
        ("length_penalty", length_penalty, "a finite float", real(length_penalty)),
        ("temperature", temperature, "a finite float > 0", real(temperature) and temperature > 0),
        ("top_k", top_k, "None or an int >= 1", top_k is None or whole(top_k) and top_k >= 1),
        ("top_p", top_p, "None or a float in (0, 1]",
         top_p is None or real(top_p) and 0 < top_p <= 1),
    ]
    for name, value, allowed, ok in problems:
        if not ok:
            raise DecodingOptionError(f"generate: {name} must be {allowed}, got {value!r}")
    if do_sample and num_beams > 1:
        raise DecodingOptionError("generate: choose beam search or sampling, not both "
                                  "(num_beams > 1 with do_sample=True)")


class _Stepper:
    """Next-token logits for growing prefixes, with or without the KV cache.

    The pad token is never generated (its logit is -inf, as in fairseq): a generated pad
    would be masked out as padding when the prefix is re-read without the cache, and
    it is not an output anyway. Subclasses say what the model reads (``run``, which returns
    the last hidden states) and which layer turns states into logits (``head``).
    """

    def __init__(self, model, use_cache, ban=None, capacity=None):
        """``capacity``: the positions the decode will reach (the cache's buffers' size)."""
        self.model, self.ban = model, ban
        self.device = next(iter(model.parameters())).device  # where the prefix must go
        self.cache = KVCache.for_model(model, capacity) if use_cache else None

    def __call__(self, prefix):
        """prefix (rows, t) int64 NumPy -> logits (rows, vocab) NumPy, for position t."""
        if self.cache is not None:  # only the tokens the cache has not seen (the last one)
            prefix = prefix[:, self.cache.length:]
        tokens = tt.from_numpy(np.ascontiguousarray(prefix)).to(self.device)  # (no copy on CPU)
        if fast_decode.usable(self.model, self.cache, tokens.shape[1]):  # the same, lighter
            states = tt.Tensor(fast_decode.step(self.model, tokens.array, self.cache,
                                                self.memory_pad()))
        else:
            states = self.run(tokens)                                       # (rows, len, d_model)
        # Only the last position's logits are needed: the head, (d_model, vocab) and the
        # step's largest product, runs on that position alone. Its output is not used
        # again, so the ban may write into it (no copy). On a GPU, .cpu() is the step's one
        # copy to the host (the search below runs in NumPy).
        logits = self.head(states[:, -1]).cpu().numpy()
        if self.ban is not None:
            logits[:, self.ban] = -np.inf
        return logits

    def reorder(self, index):
        """Keep the rows ``index`` (NumPy int array): the beams that survived."""
        index = tt.tensor(index, device=self.device)
        if self.cache is not None:
            self.cache.reorder(index)
        self.reorder_inputs(index)

    def reorder_inputs(self, index):
        """Keep the rows ``index`` of what the model reads besides the prefix."""

    def memory_pad(self):
        """(rows, src_len) bool array, True at the source's padding, or None (fast_decode)."""
        return None


class _TranslationStepper(_Stepper):
    """An encoder-decoder: the source is encoded once; each step decodes the prefix."""

    def __init__(self, model, src, use_cache, ban=None, capacity=None):
        super().__init__(model, use_cache, ban, capacity)
        self.memory, self.src_layout = model.encode(src)

    def run(self, tokens):
        return self.model.decoder_states(tokens, self.memory, self.src_layout, cache=self.cache)

    def head(self, states):
        return self.model.generator(states)

    def reorder_inputs(self, index):
        self.memory = self.memory.index_select(0, index)
        self.src_layout = self.src_layout.take(index)

    def memory_pad(self):
        pad = self.src_layout.pad
        return None if pad is None else getattr(pad, "array", pad)


class _LanguageModelStepper(_Stepper):
    """A decoder-only model: the prefix (prompt and the tokens so far) is all it reads."""

    def run(self, tokens):
        return self.model.hidden_states(tokens, cache=self.cache)

    def head(self, states):
        return self.model.lm_head(states)


def generate(model, src, bos_id: int, eos_id: int, max_len: int = 64, num_beams: int = 1,
             length_penalty: float = 1.0, do_sample: bool = False, temperature: float = 1.0,
             top_k: int | None = None, top_p: float | None = None, use_cache: bool = True,
             return_scores: bool = False, generator=None):
    """Generate with any model that writes text left to right.

    - a ``Transformer`` (translation): ``src`` (batch, src_len) int64 is the source;
      each output starts from ``bos_id`` and holds at most ``max_len`` tokens;
    - a ``DecoderOnly`` (GPT): ``src`` holds the prompts, a list of token lists or a
      (batch, prompt_len) int64 tensor (rows shorter than the longest padded at the end
      with the model's pad_id), and each output is its continuation, at most ``max_len``
      new tokens (and no further than the model's positional table reaches); ``bos_id``
      is not used;
    - an ``EncoderOnly`` (BERT) does not generate: it fills masked words (masked_lm.py).

    Returns a list of ``batch`` token lists (without bos, prompt and eos). Generation
    stops at ``eos_id``. With ``return_scores``, also the per-step logits
    (greedy/sampling) or the final beam scores (beam search), for testing and
    inspection. Options out of range (``top_p`` outside (0, 1], ``temperature`` <= 0,
    ``num_beams`` or ``max_len`` < 1, ``top_k`` < 1) raise ``DecodingOptionError``, a
    ValueError.
    """
    _check_options(max_len, num_beams, length_penalty, do_sample, temperature, top_k, top_p)
    if not (hasattr(model, "encode") or hasattr(model, "lm_head")):
        raise TypeError(f"generate: a {type(model).__name__} does not write text left to right "
                        f"(an EncoderOnly fills masked words: see transformer.masked_lm); give "
                        f"a Transformer or a DecoderOnly")
    was_training = model.training
    model.eval()
    options = dict(max_len=max_len, num_beams=num_beams, length_penalty=length_penalty,
                   do_sample=do_sample, temperature=temperature, top_k=top_k, top_p=top_p,
                   use_cache=use_cache, return_scores=return_scores, generator=generator)
    try:
        with tt.no_grad():
            ban = _banned(model, bos_id, eos_id)
            if hasattr(model, "encode"):
                bos = np.full((src.shape[0], 1), bos_id, dtype=np.int64)
                stepper = _TranslationStepper(model, src, use_cache, ban, capacity=1 + max_len)
                return _decode(stepper, bos, eos_id, options)
            return _continue_prompts(model, src, eos_id, ban, options)
    finally:
        model.train(was_training)


def _banned(model, bos_id, eos_id):
    """The pad id, never to be generated, unless it doubles as bos or eos (GPT-2's)."""
    pad_id = getattr(getattr(model, "config", None), "pad_id", None)
    return pad_id if pad_id not in (bos_id, eos_id) else None


def _continue_prompts(model, prompts, eos_id, ban, options):
    """A decoder-only model's continuations of ``prompts``: a list of token lists, or a
    (batch, prompt_len) tensor whose rows are right-padded with pad_id (taken whole when
    pad_id is the eos id, as GPT-2's is: a trailing eos is then a token, not padding).

    Prompts of one length run as one batch; rows of other lengths run as other batches,
    so that every prompt's positions start at 0 (the same tokens as one prompt at a time)."""
    cfg = model.config
    if isinstance(prompts, (list, tuple)):
        rows = [np.asarray(p, dtype=np.int64).reshape(-1) for p in prompts]
        lengths = np.array([len(r) for r in rows])
        ids = np.zeros((len(rows), max(lengths.max(initial=0), 1)), dtype=np.int64)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = r
    else:
        ids = prompts.cpu().numpy()
        lengths = np.full(len(ids), ids.shape[1])
        if cfg.pad_id != eos_id:
            lengths = ids.shape[1] - np.argmax(np.flip(ids != cfg.pad_id, axis=1), axis=1)
            lengths[(ids == cfg.pad_id).all(axis=1)] = 0
    if len(ids) == 0 or lengths.min() < 1 or lengths.max() >= cfg.max_len:
        raise DecodingOptionError(
            f"generate: each prompt needs 1 to {cfg.max_len - 1} tokens (the model reads "
            f"{cfg.max_len} positions), got {lengths.min(initial=0)} to "
            f"{lengths.max(initial=0)}")
    outputs, scores = [None] * len(ids), [None] * len(ids)
    for n in np.unique(lengths):
        rows = np.nonzero(lengths == n)[0]
        opts = dict(options, max_len=min(options["max_len"], cfg.max_len - int(n)))
        prefix = ids[rows, :n]
        stepper = _LanguageModelStepper(model, opts["use_cache"], ban,
                                        capacity=int(n) + opts["max_len"])
        got = _decode(stepper, prefix, eos_id, opts)
        tokens, got_scores = got if opts["return_scores"] else (got, None)
        for i, row in enumerate(rows):
            outputs[row] = tokens[i]
            scores[row] = None if got_scores is None else got_scores[i]
    if not options["return_scores"]:
        return outputs
    if options["num_beams"] > 1:
        return outputs, np.array(scores)
    return outputs, scores  # per-row (steps, vocab) arrays: rows may run different steps


def _decode(step, prefix, eos_id, o):
    """Greedy, sampling or beam search from ``prefix`` (rows, start) NumPy int64."""
    if o["num_beams"] > 1:
        return _beam_search(step, prefix, eos_id, o["max_len"], o["num_beams"],
                            o["length_penalty"], o["return_scores"])
    return _greedy_or_sample(step, prefix, eos_id, o["max_len"], o["do_sample"],
                             o["temperature"], o["top_k"], o["top_p"], o["return_scores"],
                             o["generator"])


def _greedy_or_sample(step, prefix, eos_id, max_len, do_sample, temperature, top_k, top_p,
                      return_scores, generator):
    rows, start = prefix.shape
    tokens = np.empty((rows, start + max_len), dtype=np.int64)  # filled column by column
    tokens[:, :start] = prefix
    done = np.zeros(rows, dtype=bool)
    all_logits = []
    for t in range(start, start + max_len):
        logits = step(tokens[:, :t])                       # (batch, vocab)
        if return_scores:  # (kept only when asked: live arrays cannot be reused next step)
            all_logits.append(logits)
        if do_sample:
            nxt = _sample(logits, temperature, top_k, top_p, generator)
        else:
            nxt = logits.argmax(axis=-1)
        tokens[:, t] = np.where(done, eos_id, nxt)         # finished rows just pad with eos
        done |= tokens[:, t] == eos_id
        if done.all():
            break
    out = [_strip(row[start:t + 1], eos_id) for row in tokens]
    return (out, np.stack(all_logits, axis=1)) if return_scores else out


def _strip(tokens, eos_id):
    tokens = list(int(t) for t in tokens)
    return tokens[: tokens.index(eos_id)] if eos_id in tokens else tokens


def _log_softmax(x):
    """log softmax over the last axis of a NumPy array, by the library's op."""
    return tt.log_softmax(tt.from_numpy(x), dim=-1).numpy()


def sampling_probabilities(logits, temperature: float = 1.0, top_k: int | None = None,
                           top_p: float | None = None):
    """The distribution sampling draws the next token from: (rows, vocab) logits ->
    (rows, vocab) float64 probabilities, in three steps.

    1. temperature: softmax(logits / T). T < 1 sharpens (the likely tokens gain), T > 1
       flattens (rare tokens get drawn more often); T -> 0 would be greedy.
    2. top_k: only the k likeliest tokens keep their logits; the rest get -inf.
    3. top_p (nucleus): sort the tokens by probability and keep the smallest prefix whose
       mass reaches p; renormalise. Unlike top_k, the number kept adapts: a peaked
       distribution keeps few tokens, a flat one many.
    """
    logits = np.asarray(logits, dtype=np.float64) / temperature
    if top_k is not None and 0 < top_k < logits.shape[-1]:
        kth = np.sort(logits, axis=-1)[:, -top_k][:, None]
        logits = np.where(logits < kth, -np.inf, logits)
    probs = np.exp(_log_softmax(logits))
    if top_p is not None and top_p < 1.0:
        order = np.argsort(-probs, axis=-1)
        sorted_p = np.take_along_axis(probs, order, axis=-1)
        # keep the smallest prefix of the sorted tokens whose mass reaches top_p
        keep_sorted = np.cumsum(sorted_p, axis=-1) - sorted_p < top_p
        keep = np.zeros_like(keep_sorted)
        np.put_along_axis(keep, order, keep_sorted, axis=-1)
        probs = np.where(keep, probs, 0.0)
        probs /= probs.sum(axis=-1, keepdims=True)
    return probs


def _sample(logits, temperature, top_k, top_p, generator):
    """One draw per row from ``sampling_probabilities`` (inverse transform sampling)."""
    if temperature <= 0:
        raise ValueError(f"generate: temperature must be > 0, got {temperature}")
    probs = sampling_probabilities(logits, temperature, top_k, top_p)
    rng = generator._gen if generator is not None else tt.random.default_generator("cpu")
    cdf = np.cumsum(probs, axis=-1)
    u = rng.random((probs.shape[0], 1)) * cdf[:, -1:]     # in [0, total): never past the end
    return (cdf <= u).sum(axis=-1)                        # first token whose cdf exceeds u


def _top_candidates(cand, n):
    """Each row's ``n`` largest finite entries of cand (rows, beams * vocab), as flat indices,
    largest first, ties in index order: what ``argsort(-cand, kind="stable")[:, :n]`` gives,
    less the -inf ones (dead beams, which the search skips anyway).

    Sorting whole rows costs O(V log V) each step and was most of the search's time; a
    partition finds the n-th largest value in O(V), and only the entries at or above it
    (ties at the boundary included, so the order is exactly the sort's) get sorted."""
    nth = np.partition(cand, -n, axis=-1)[:, -n] if n < cand.shape[1] else cand.min(axis=-1)
    top = []
    for row, low in zip(cand, nth):
        keep = np.flatnonzero(row >= low) if np.isfinite(low) else np.flatnonzero(row > -np.inf)
        top.append(keep[np.argsort(-row[keep], kind="stable")][:n])
    return top


def _beam_search(step, prefix, eos_id, max_len, num_beams, length_penalty, return_scores):
    """Beam search with a length penalty: score = sum log p / len ** length_penalty.

    Every input row keeps ``num_beams`` hypotheses, all starting from its ``prefix``; a
    hypothesis that emits eos is moved to the finished list. A row stops when it has
    ``num_beams`` finished hypotheses and no live one can beat the worst of them (early
    stop on EOS).
    """
    batch, start = prefix.shape
    rows = np.repeat(np.arange(batch), num_beams)
    step.reorder(rows)                                      # (batch * beams, ...)
    prefix = prefix[rows]
    scores = np.zeros((batch, num_beams))
    scores[:, 1:] = -np.inf                                # all beams start identical: keep one
    finished = [[] for _ in range(batch)]                  # (score, tokens)
    closed = np.zeros(batch, dtype=bool)
    for t in range(1, max_len + 1):
        logp = _log_softmax(step(prefix).astype(np.float64))
        vocab = logp.shape[-1]
        cand = (scores.reshape(-1, 1) + logp).reshape(batch, num_beams * vocab)
        top = _top_candidates(cand, 2 * num_beams)
        new_prefix_rows, new_tokens, new_scores = [], [], []
        for b in range(batch):
            keep_rows, keep_tok, keep_sc = [], [], []
            for flat in top[b]:
                beam, tok = divmod(int(flat), vocab)
                sc = cand[b, flat]
                if not np.isfinite(sc):
                    continue
                src_row = b * num_beams + beam
                if tok == eos_id:
                    if not closed[b]:
                        finished[b].append((sc / t ** length_penalty,
                                            [int(x) for x in prefix[src_row, start:]]))
                    continue
                keep_rows.append(src_row)
                keep_tok.append(tok)
                keep_sc.append(sc)
                if len(keep_rows) == num_beams:
                    break
            while len(keep_rows) < num_beams:  # pad with dead beams
                keep_rows.append(b * num_beams)
                keep_tok.append(eos_id)
                keep_sc.append(-np.inf)
            new_prefix_rows += keep_rows
            new_tokens += keep_tok
            new_scores.append(keep_sc)
            best_live = max(keep_sc) / t ** length_penalty if np.isfinite(max(keep_sc)) else -np.inf
            if len(finished[b]) >= num_beams:
                worst_kept = sorted(s for s, _ in finished[b])[-num_beams]
                if best_live <= worst_kept:
                    closed[b] = True
        index = np.array(new_prefix_rows)
        prefix = np.concatenate([prefix[index], np.array(new_tokens)[:, None]], axis=1)
        scores = np.array(new_scores)
        scores[closed] = -np.inf
        step.reorder(index)
        if closed.all():
            break
    results, best_scores = [], []
    n = prefix.shape[1] - start                            # tokens in each live beam
    for b in range(batch):
        if not closed[b]:  # max_len reached: the live beams compete with the finished ones
            for i in range(num_beams):
                if np.isfinite(scores[b, i]):
                    finished[b].append((scores[b, i] / n ** length_penalty,
                                        [int(x) for x in prefix[b * num_beams + i,
                                                                start:]]))
        sc, toks = max(finished[b], key=lambda s: s[0])
        results.append(toks)
        best_scores.append(sc)
    return (results, np.array(best_scores)) if return_scores else results
