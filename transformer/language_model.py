"""A GPT-style language model: trained to predict the next token, then made to write.

Training (``LanguageModelTrainer``, the loop of trainer.py): each sentence becomes one row
``[bos, w1 .. wn, eos]``; the model reads ``ids_in = [bos, w1 .. wn]`` and must predict
``ids_out = [w1 .. wn, eos]`` at every position at once, under a causal mask
(``DecoderOnly.loss``). Sentences come from a text file, a column of a TSV, a corpus
directory, or the Spanish side of the built-in corpus (data/sentences.py).

Measured every ``eval_every`` steps: the validation **perplexity**, exp(mean negative
log-likelihood per predicted token), the number of equally likely tokens the model is, on
average, choosing between (a model that knows nothing about the next token among V has
perplexity V; one that is always sure and right, 1); and sample continuations of fixed
prompts, drawn with a fixed seed, so the samples of two evaluations differ only because
the model changed.

Writing (``continue_prompts``, the CLI's ``lm generate``): every prompt starts with
``bos``, all rows go to ``generate`` as one batch (rows of one length decode together,
with the KV cache), and each row stops at ``eos``: the end of the sentence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import tinytorch as tt

from .cli_args import UsageError, directory, existing_path, positive_float, positive_int
from .data.batching import BatchIterator, eval_batches
from .data.sentences import load_sentences
from .generate import generate
from .model import DecoderOnly
from .train_args import TrainArgs, label_smoothing_rule, option, vocab_rule
from .trainer import BaseTrainer

#: How the samples shown during training are drawn (a fixed seed: reproducible).
SAMPLE_OPTIONS = dict(do_sample=True, temperature=0.8, top_k=50, max_new_tokens=30, seed=0)


@dataclass
class LMTrainArgs(TrainArgs):
    """The options of ``lm train`` (and ``mlm train``): the translator's, with sentences
    instead of pairs (--data, --column) and these defaults: 5 minutes (the README's
    measured runs: about 2,300 steps on 2 cores) with a warm-up of 100 steps; no label
    smoothing, so that the training loss is the plain negative log-likelihood whose
    exponential is the perplexity (smoothing would also flatten the distribution that
    sampling draws from). The blocks are post-LN, as the translator's: on the built-in
    corpus, 300 steps of the small model reached a validation perplexity of 14.0 post-LN
    and 15.3 pre-LN (same seed and batches)."""

    data: str | None = option(None, "a text file (one sentence per line), a TSV file (the "
                              "column --column) or a directory with pairs.tsv/valid.tsv/"
                              "test.tsv (None: the Spanish side of the built-in corpus)",
                              existing_path)
    out: str = option("runs/lm", "directory for checkpoint and metrics", directory,
                      may_change_on_resume=True)
    vocab_size: int = option(1000, "BPE vocabulary", vocab_rule)
    minutes: float | None = option(5.0, "training time budget", positive_float,
                                   may_change_on_resume=True)
    batch_tokens: int = option(3000, "padded tokens per batch (at least --max-len + 2)",
                               positive_int)
    warmup: int = option(100, "warm-up steps", positive_int)
    label_smoothing: float = option(0.0, "label smoothing of the training loss",
                                    label_smoothing_rule)
    resume: bool = option(False, "continue the run saved in --out (with the same options; "
                          "--steps, --minutes, --eval-every, --device may change)",
                          may_change_on_resume=True)
    beam: int = option(4, "(not used)", positive_int, may_change_on_resume=True,
                       command_line=False)
    column: str | None = option(None, "the TSV column that holds the sentences: a 0-based "
                                "index or a name from the header line (default: the Spanish "
                                "side: a column named spanish/es/spa, else column 1)")

    def longest_example(self) -> tuple[int, str]:
        return self.max_len + 2, "sentence"  # bos, max_len tokens, eos

    def validate(self) -> None:
        super().validate()
        if self.column is not None and not (isinstance(self.column, str) and self.column.strip()):
            raise UsageError(f"--column: expected a column index (0, 1, ...) or a header name, "
                             f"got {self.column!r}")


class SentenceTrainer(BaseTrainer):
    """What the language models share: sentences (data/sentences.py), a BPE vocabulary of
    them, and each sentence as one row ``[bos, w1 .. wn, eos]`` (cut to --max-len tokens),
    batched by length (``BatchIterator`` with no target side)."""

    def load_data(self) -> dict:
        a = self.args
        return load_sentences(a.data, a.column, seed=a.seed)

    def tokenizer_texts(self) -> list[str]:
        return self.splits["train"]

    def rows(self, sentences) -> list[np.ndarray]:
        tok = self.tokenizer
        return [np.array([tok.bos_id] + tok.encode(s)[: self.args.max_len] + [tok.eos_id],
                         dtype=np.int64) for s in sentences]

    def prepare_data(self) -> None:
        a = self.args
        self.train_rows = self.rows(self.splits["train"])
        self.valid_rows = self.rows(self.splits["valid"])
        self.batches = BatchIterator(self.train_rows, None, a.batch_tokens, seed=a.seed,
                                     pad_id=self.tokenizer.pad_id)

    def summary(self) -> str:
        c = self.model.config
        layers = c.num_decoder_layers if self.kind == "lm" else c.num_encoder_layers
        return f"{layers} layers; {len(self.train_rows)} training sentences"


def perplexity(model, rows, batch_tokens: int, device="cpu") -> tuple[float, float]:
    """(mean negative log-likelihood per predicted token, its exp: the perplexity) of a
    DecoderOnly over ``rows`` ([bos .. eos] id arrays), without label smoothing."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        with tt.no_grad():
            for b in eval_batches(rows, None, batch_tokens, model.config.pad_id):
                ids_out = b.src[:, 1:]
                n = int((ids_out != model.config.pad_id).sum())
                loss = model.loss(tt.tensor(b.src[:, :-1], device=device),
                                  tt.tensor(ids_out, device=device))
                total += loss.item() * n
                count += n
    finally:
        model.train(was_training)
    nll = total / max(count, 1)
    return nll, math.exp(min(nll, 700.0))  # (exp overflows past ~709)


def continue_prompts(model, tokenizer, prompts, num_samples: int = 1, max_new_tokens: int = 40,
                     num_beams: int = 1, do_sample: bool = True, temperature: float = 1.0,
                     top_k: int | None = None, top_p: float | None = None,
                     seed: int | None = None, use_cache: bool = True,
                     device="cpu") -> list[list[str]]:
    """For each prompt, ``num_samples`` texts: the prompt and the model's continuation,
    up to its end of sentence (eos) or ``max_new_tokens`` tokens.

    Every row (``len(prompts) * num_samples``) goes to ``generate`` in one call, which
    decodes the rows of one prompt length as one batch, with the KV cache unless
    ``use_cache=False`` (the same tokens, slower). ``seed``: the sampling's own generator
    (None: a fresh seed each call). An empty prompt starts the sentence from scratch.
    """
    tok, limit = tokenizer, model.config.max_len - 1
    encoded = [[tok.bos_id] + tok.encode(p) for p in prompts]
    for p, ids in zip(prompts, encoded):
        if len(ids) > limit:
            raise UsageError(f"the prompt {p[:40]!r} has {len(ids) - 1} tokens and this model "
                             f"reads at most {limit - 1} (--max-len): give a shorter prompt")
    rows = [ids for ids in encoded for _ in range(num_samples)]
    batch = np.full((len(rows), max(len(r) for r in rows)), tok.pad_id, dtype=np.int64)
    for i, r in enumerate(rows):
        batch[i, : len(r)] = r                                      # right padding
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % 2**63)        # from the OS's entropy
    outputs = generate(model, tt.tensor(batch, device=device), tok.bos_id, tok.eos_id,
                       max_len=max_new_tokens, num_beams=num_beams, do_sample=do_sample,
                       temperature=temperature, top_k=top_k, top_p=top_p,
                       generator=tt.Generator().manual_seed(seed), use_cache=use_cache)
    texts = [prompts[i // num_samples] + tok.decode(out) for i, out in enumerate(outputs)]
    return [texts[i * num_samples:(i + 1) * num_samples] for i in range(len(prompts))]


def sample_prompts(valid: list[str]) -> list[str]:
    """The prompts shown during training: "El banco" and the first two words of three
    validation sentences."""
    return ["El banco"] + [" ".join(s.split()[:2]) for s in valid[:3]]


class LanguageModelTrainer(SentenceTrainer):
    """A GPT-style language model's run: ``LanguageModelTrainer(LMTrainArgs(...)).run()``."""

    kind, model_class, command = "lm", DecoderOnly, "lm train"

    def batch_loss(self, batch):
        device, ids_out = self.args.device, batch.src[:, 1:]
        loss = self.model.loss(tt.tensor(batch.src[:, :-1], device=device),
                               tt.tensor(ids_out, device=device),
                               label_smoothing=self.args.label_smoothing)
        return loss, int((ids_out != self.tokenizer.pad_id).sum())

    def samples(self) -> list[str]:
        prompts = sample_prompts(self.splits["valid"])
        texts = continue_prompts(self.model, self.tokenizer, prompts, device=self.args.device,
                                 **SAMPLE_OPTIONS)
        return [t[0] for t in texts]

    def measure(self, train_loss: float) -> dict:
        """Validation loss and perplexity, and the samples, now: a metrics row."""
        nll, ppl = perplexity(self.model, self.valid_rows, self.args.batch_tokens,
                              self.args.device)
        return {"step": self.step, "elapsed_s": round(self.elapsed, 1), "train_loss": train_loss,
                "valid_loss": nll, "valid_ppl": ppl, "lr": self.scheduler.get_last_lr()[0],
                "samples": self.samples()}

    def describe(self, row: dict) -> str:
        lines = [f"step {row['step']}: train loss {row['train_loss']:.3f}, valid loss "
                 f"{row['valid_loss']:.3f}, valid perplexity {row['valid_ppl']:.2f}"]
        return "\n".join(lines + [f"  {s}" for s in row["samples"]])

    def use_command(self) -> str:
        return f"python -m transformer lm generate --out {self.args.out} \"El banco\""

    def _final_report(self) -> dict:
        """Test perplexity, and three sentences written from scratch (an empty prompt)
        (test_scores.json)."""
        nll, ppl = perplexity(self.model, self.rows(self.splits["test"]),
                              self.args.batch_tokens, self.args.device)
        samples = continue_prompts(self.model, self.tokenizer, [""], num_samples=3,
                                   device=self.args.device, **SAMPLE_OPTIONS)[0]
        for s in samples:
            self.log(f"  {s}")
        self.log(f"test ({len(self.splits['test'])} sentences): loss {nll:.3f}, "
                 f"perplexity {ppl:.2f}")
        return {"test_loss": nll, "test_ppl": ppl, "samples": samples}
