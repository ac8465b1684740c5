"""From sentence pairs to padded batches of token ids.

Each pair becomes ``src = [x1 .. xn, eos]`` and ``tgt = [bos, y1 .. ym, eos]``; the
decoder reads ``tgt_in = tgt[:-1]`` and must predict ``tgt_out = tgt[1:]`` (teacher
forcing, see model.shift_right). Sentences of similar length are batched together
(length bucketing), so little compute is spent on padding, and a batch holds at most
``batch_tokens`` padded source + target tokens. The order is reproducible from the
seed and the epoch, so a resumed run sees exactly the batches it would have seen.

A language model's examples are single sequences (one sentence each): give ``tgt=None``
and a batch holds ``src`` only (the language models of language_model.py and
masked_lm.py cut their rows from it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Batch:
    src: np.ndarray              # (batch, src_len) int64, padded with pad_id
    tgt_in: np.ndarray | None    # (batch, tgt_len) int64: bos y1 .. ym (padded); None: no tgt
    tgt_out: np.ndarray | None   # (batch, tgt_len) int64: y1 .. ym eos (padded)
    index: np.ndarray            # (batch,) positions of these examples in the dataset
    pad_id: int = 0

    @property
    def num_tokens(self) -> int:
        """Target tokens that count in the loss (not padding); without a target, the
        source's tokens."""
        ids = self.src if self.tgt_out is None else self.tgt_out
        return int((ids != self.pad_id).sum())


def encode_pairs(tokenizer, pairs, max_len: int):
    """Token id arrays (src with eos; tgt with bos and eos), cut to ``max_len`` tokens."""
    src, tgt = [], []
    for en, es in pairs:
        s = tokenizer.encode(en)[: max_len - 1] + [tokenizer.eos_id]
        t = [tokenizer.bos_id] + tokenizer.encode(es)[: max_len - 1] + [tokenizer.eos_id]
        src.append(np.array(s, dtype=np.int64))
        tgt.append(np.array(t, dtype=np.int64))
    return src, tgt


def pad(seqs, pad_id: int = 0) -> np.ndarray:
    """A list of 1-D int arrays -> (len(seqs), longest) padded with pad_id."""
    out = np.full((len(seqs), max(len(s) for s in seqs)), pad_id, dtype=np.int64)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = s
    return out


def make_batch(src, tgt, index, pad_id: int = 0) -> Batch:
    if tgt is None:
        return Batch(pad([src[i] for i in index], pad_id), None, None, np.asarray(index), pad_id)
    tgt_p = pad([tgt[i] for i in index], pad_id)
    return Batch(pad([src[i] for i in index], pad_id), tgt_p[:, :-1], tgt_p[:, 1:],
                 np.asarray(index), pad_id)


def bucket(lengths: np.ndarray, order: np.ndarray, batch_tokens: int, chunk: int = 4096):
    """Cut ``order`` into batches of similar lengths, each at most ``batch_tokens`` padded
    tokens (rows * longest row). Sorting happens within chunks of the order, so batches
    still differ from epoch to epoch."""
    batches = []
    for start in range(0, len(order), chunk):
        part = order[start: start + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        current, longest = [], 0
        for i in part:
            n = int(lengths[i])
            if current and max(longest, n) * (len(current) + 1) > batch_tokens:
                batches.append(np.array(current))
                current, longest = [], 0
            current.append(i)
            longest = max(longest, n)
        if current:
            batches.append(np.array(current))
    return batches


def _lengths(src, tgt) -> np.ndarray:
    """Tokens per example: source + target (or the source alone, without a target)."""
    if tgt is None:
        return np.array([len(s) for s in src])
    return np.array([len(s) + len(t) for s, t in zip(src, tgt)])


class BatchIterator:
    """Endless shuffled, length-bucketed training batches; resumable via state_dict().
    ``tgt=None``: the examples are the sequences of ``src`` alone."""

    def __init__(self, src, tgt, batch_tokens: int, seed: int = 0, pad_id: int = 0):
        if not src:
            raise ValueError("BatchIterator: no training pairs (the corpus is empty)")
        self.src, self.tgt, self.pad_id = src, tgt, pad_id
        self.batch_tokens, self.seed = batch_tokens, seed
        self.lengths = _lengths(src, tgt)
        if self.lengths.max() > batch_tokens:
            raise ValueError(
                f"BatchIterator: batch_tokens={batch_tokens} is smaller than the longest pair "
                f"({self.lengths.max()} tokens); raise --batch-tokens or lower max_len")
        self.epoch, self.position = 0, 0
        self._batches = None

    def _epoch_batches(self):
        if self._batches is None:
            rng = np.random.default_rng([self.seed, self.epoch])
            batches = bucket(self.lengths, rng.permutation(len(self.src)), self.batch_tokens)
            self._batches = [batches[i] for i in rng.permutation(len(batches))]
        return self._batches

    def __iter__(self):
        return self

    def __next__(self) -> Batch:
        batches = self._epoch_batches()
        if self.position >= len(batches):
            self.epoch, self.position, self._batches = self.epoch + 1, 0, None
            batches = self._epoch_batches()
        index = batches[self.position]
        self.position += 1
        return make_batch(self.src, self.tgt, index, self.pad_id)

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "position": self.position, "seed": self.seed,
                "batch_tokens": self.batch_tokens}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
        self.seed, self.batch_tokens = int(state["seed"]), int(state["batch_tokens"])
        self._batches = None


def eval_batches(src, tgt, batch_tokens: int, pad_id: int = 0):
    """Batches for evaluation: sorted by length, every pair once (``batch.index`` says where)."""
    lengths = _lengths(src, tgt)
    for index in bucket(lengths, np.arange(len(src)), batch_tokens, chunk=len(src) or 1):
        yield make_batch(src, tgt, index, pad_id)
