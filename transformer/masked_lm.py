"""A BERT-style masked language model: hide some tokens, learn to fill them in.

The masking rule (``mask_tokens``, Devlin et al. 2019): of a sentence's tokens, 15% are
*chosen* (never a special token: padding, <bos>, <eos>); a chosen token is replaced by
<mask> 80% of the time, by a random token 10% of the time, and kept as it is 10% of the
time. The loss (``EncoderOnly.loss``) is the cross-entropy of the model's guess at the
chosen positions only: the model must say which token was there, reading the whole
sentence on both sides. The random and kept 10% mean it cannot assume that only <mask>
positions matter, so it learns a guess for every position (fill-mask reads <mask>).

Training (``MaskedLMTrainer``, the loop of trainer.py) reads sentences like the language
model (language_model.SentenceTrainer): each is a row ``[bos, w1 .. wn, eos]``, masked
afresh at every step from a seed and the step number (so a resumed run masks the same
way). Every ``eval_every`` steps: the loss and the accuracy (how often the likeliest
token is the right one) at the chosen positions of the validation sentences, masked once
with a fixed seed so that every evaluation sees the same masks.

``fill_mask(model, tokenizer, "El [MASK] está cerca del río.")``: the likeliest tokens for
the masked position, with their probabilities.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

import tinytorch as tt
from tinytorch.nn import functional as F

from .cli_args import UsageError, directory
from .data.batching import eval_batches, pad
from .language_model import LMTrainArgs, SentenceTrainer
from .model import EncoderOnly
from .train_args import option

MASK_PROB = 0.15                  # of the tokens, chosen
MASK, RANDOM = 0.8, 0.1           # of the chosen: replaced by <mask>, by a random token
# (the remaining 0.1 are kept). Seeds of the masks: one stream per purpose.
TRAIN_MASKS, VALID_MASKS, TEST_MASKS = 0, 1, 2
#: How the text given to fill-mask marks the masked position.
MASK_WORDS = ("[MASK]", "<mask>")


def mask_tokens(ids, mask_id: int, vocab_size: int, special_ids, rng, mask_prob=MASK_PROB,
                ignore_index: int = 0):
    """BERT's masking of ids (any shape, e.g. (batch, len)) int64 NumPy -> (inputs,
    labels), both of ids's shape.

    Each token that is not in ``special_ids`` is chosen with probability ``mask_prob``
    (at least one token of the whole array is, if any can be, so that the loss has
    something to average). labels: the original token at the chosen positions and
    ``ignore_index`` everywhere else. inputs: ids, where a chosen token becomes
    ``mask_id`` with probability 0.8, a random token (uniform over the vocabulary's
    non-special tokens) with probability 0.1, and stays itself otherwise.
    """
    ids = np.asarray(ids)
    can = ~np.isin(ids, np.asarray(list(special_ids)))
    chosen = can & (rng.random(ids.shape) < mask_prob)
    if not chosen.any() and can.any():  # (a short batch can draw none)
        where = np.flatnonzero(can)
        chosen.flat[where[rng.integers(len(where))]] = True
    labels = np.where(chosen, ids, ignore_index)
    what = rng.random(ids.shape)                         # which of the three things happens
    ordinary = np.setdiff1d(np.arange(vocab_size), np.asarray(list(special_ids)))
    random_tokens = ordinary[rng.integers(len(ordinary), size=ids.shape)]
    inputs = np.where(chosen & (what < MASK), mask_id, ids)
    inputs = np.where(chosen & (what >= MASK) & (what < MASK + RANDOM), random_tokens, inputs)
    return inputs.astype(np.int64), labels.astype(np.int64)


@dataclass
class MLMTrainArgs(LMTrainArgs):
    """The options of ``mlm train``: those of ``lm train`` (language_model.LMTrainArgs),
    saved in runs/mlm. The vocabulary (--vocab-size) includes the <mask> token."""

    out: str = option("runs/mlm", "directory for checkpoint and metrics", directory,
                      may_change_on_resume=True)


def special_ids(tokenizer) -> list[int]:
    """The ids masking never chooses and never draws as a random token."""
    return [tokenizer.pad_id, tokenizer.bos_id, tokenizer.eos_id, tokenizer.unk_id,
            tokenizer.mask_id]


def masked_rows(tokenizer, rows, rng):
    """Each row ([bos .. eos] ids) masked: (inputs, labels) lists of arrays."""
    masked = [mask_tokens(r, tokenizer.mask_id, len(tokenizer), special_ids(tokenizer), rng)
              for r in rows]
    return [m[0] for m in masked], [m[1] for m in masked]


def masked_accuracy(model, inputs, labels, batch_tokens: int, device="cpu"):
    """(mean cross-entropy, accuracy of the likeliest token) over the chosen positions
    (labels not pad) of masked rows, without label smoothing."""
    pad_id = model.config.pad_id
    was_training = model.training
    model.eval()
    total, right, count = 0.0, 0, 0
    try:
        with tt.no_grad():
            for b in eval_batches(inputs, None, batch_tokens, pad_id):
                lab = pad([labels[i] for i in b.index], pad_id)          # (batch, len)
                logits = model.mlm_logits(tt.tensor(b.src, device=device))
                flat = logits.reshape(-1, logits.shape[-1])
                total += F.cross_entropy(flat, tt.tensor(lab.reshape(-1), device=device),
                                         ignore_index=pad_id, reduction="sum").item()
                chosen = lab != pad_id
                right += int((logits.argmax(-1).cpu().numpy()[chosen] == lab[chosen]).sum())
                count += int(chosen.sum())
    finally:
        model.train(was_training)
    return total / max(count, 1), right / max(count, 1)


class Fill(NamedTuple):
    """One candidate for a masked position."""

    probability: float
    token: str        # the token as the vocabulary spells it (" banco": with its space)
    text: str         # the text with the mask replaced by the token


def fill_mask(model, tokenizer, text: str, top_k: int = 5, device="cpu") -> list[list[Fill]]:
    """For each [MASK] (or <mask>) in ``text``, in order: the ``top_k`` likeliest tokens
    there, most likely first, each with its probability and the filled-in text.

    The text is read as the model was trained: ``[bos] text [eos]``, each mark replaced
    by the <mask> token. The space before a mark goes with the token, as BPE tokens
    carry the space before a word: "El [MASK] está" is read as "El", <mask>, " está",
    and " banco" fills it. Special tokens are never offered. A text without a mask
    raises UsageError.
    """
    if tokenizer.mask_id is None:
        raise UsageError("this model's tokenizer has no <mask> token: it is not a masked "
                         "language model (train one with `python -m transformer mlm train`)")
    pieces = re.split("(" + "|".join(re.escape(w) for w in MASK_WORDS) + ")", text)
    if len(pieces) == 1:
        raise UsageError(f"no mask in {text[:60]!r}: write [MASK] where a word is missing, "
                         f"e.g. \"El [MASK] está cerca del río.\"")
    ids, where = [tokenizer.bos_id], []                 # where: (position, piece index)
    for i, piece in enumerate(pieces):
        if piece in MASK_WORDS:
            where.append((len(ids), i))
            ids.append(tokenizer.mask_id)
        else:
            if i + 1 < len(pieces) and piece.endswith(" "):
                piece = piece[:-1]                      # the token brings its space
            ids.extend(tokenizer.encode(piece))
    ids.append(tokenizer.eos_id)
    if len(ids) > model.config.max_len:
        raise UsageError(f"the text has {len(ids) - 2} tokens and this model reads at most "
                         f"{model.config.max_len - 2}: give a shorter text")
    was_training = model.training
    model.eval()
    try:
        with tt.no_grad():
            logits = model.mlm_logits(tt.tensor([ids], device=device))[0].cpu().numpy()
    finally:
        model.train(was_training)
    banned = special_ids(tokenizer)
    results = []
    for position, i in where:
        scores = logits[position].astype(np.float64)
        scores[banned] = -np.inf
        probs = np.exp(scores - scores.max())
        probs /= probs.sum()
        fills = []
        ranked = [t for t in np.argsort(-probs, kind="stable") if t not in banned]
        for token_id in ranked[:top_k]:
            token = tokenizer.decode([int(token_id)])
            left = pieces[i - 1] if i else ""
            if token.startswith(" ") and left.endswith(" "):
                left = left[:-1]                        # one space, the token's
            filled = pieces[:max(i - 1, 0)] + [left, token] + pieces[i + 1:]
            fills.append(Fill(float(probs[token_id]), tokenizer.id_to_token(int(token_id)),
                              "".join(filled)))
        results.append(fills)
    return results


class MaskedLMTrainer(SentenceTrainer):
    """A BERT-style masked language model's run: ``MaskedLMTrainer(MLMTrainArgs(...)).run()``."""

    kind, model_class, command = "mlm", EncoderOnly, "mlm train"
    special_tokens = ("<mask>",)
    # The masks are drawn over the whole batch each step: split across processes they
    # would differ from the one-process run's (transformer/ranks.py), so: one process.
    several_processes = False

    def prepare_data(self) -> None:
        super().prepare_data()
        rng = np.random.default_rng([self.args.seed, VALID_MASKS])
        self.valid_inputs, self.valid_labels = masked_rows(self.tokenizer, self.valid_rows, rng)

    def batch_loss(self, batch):
        tok, device = self.tokenizer, self.args.device
        rng = np.random.default_rng([self.args.seed, TRAIN_MASKS, self.step])
        inputs, labels = mask_tokens(batch.src, tok.mask_id, len(tok), special_ids(tok), rng)
        loss = self.model.loss(tt.tensor(inputs, device=device), tt.tensor(labels, device=device),
                               label_smoothing=self.args.label_smoothing)
        return loss, batch.num_tokens

    def measure(self, train_loss: float) -> dict:
        """Validation loss and accuracy at the masked positions now: a metrics row."""
        loss, accuracy = masked_accuracy(self.model, self.valid_inputs, self.valid_labels,
                                         self.args.batch_tokens, self.args.device)
        return {"step": self.step, "elapsed_s": round(self.elapsed, 1), "train_loss": train_loss,
                "valid_loss": loss, "valid_accuracy": accuracy,
                "lr": self.scheduler.get_last_lr()[0]}

    def describe(self, row: dict) -> str:
        return (f"step {row['step']}: train loss {row['train_loss']:.3f}, valid loss "
                f"{row['valid_loss']:.3f}, valid accuracy at the masked tokens "
                f"{100 * row['valid_accuracy']:.1f}%")

    def use_command(self) -> str:
        return (f"python -m transformer mlm fill-mask --out {self.args.out} "
                f"\"El [MASK] está cerca del río.\"")

    def _final_report(self) -> dict:
        """Test loss and accuracy at the masked tokens, and a few fill-mask examples."""
        test = self.splits["test"]
        rng = np.random.default_rng([self.args.seed, TEST_MASKS])
        inputs, labels = masked_rows(self.tokenizer, self.rows(test), rng)
        loss, accuracy = masked_accuracy(self.model, inputs, labels, self.args.batch_tokens,
                                         self.args.device)
        examples = {}
        for text in ["El [MASK] está cerca del río."] + [_mask_a_word(s) for s in test[:3]]:
            fills = fill_mask(self.model, self.tokenizer, text, top_k=3, device=self.args.device)
            examples[text] = [[f.probability, f.token] for f in fills[0]]
            self.log(f"  {text}  ->  " + ", ".join(f"{f.token.strip()!r} {f.probability:.2f}"
                                                  for f in fills[0]))
        self.log(f"test ({len(test)} sentences): masked-token loss {loss:.3f}, accuracy "
                 f"{100 * accuracy:.1f}% (perplexity {math.exp(min(loss, 700.0)):.2f})")
        return {"test_loss": loss, "test_accuracy": accuracy, "examples": examples}


def _mask_a_word(sentence: str) -> str:
    """The sentence with the letters of its second word (of its first, if it has only
    one) as [MASK]: "El perro duerme." -> "El [MASK] duerme."."""
    words = sentence.split(" ")
    i = min(1, len(words) - 1)
    masked = re.sub(r"\w+", "[MASK]", words[i], count=1)
    words[i] = masked if "[MASK]" in masked else "[MASK]"
    return " ".join(words)
