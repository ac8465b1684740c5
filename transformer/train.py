"""The translator's training: the loop of trainer.py on sentence pairs.

    for each batch:                       (src, tgt_in, tgt_out) token ids
        loss = cross_entropy(model(src, tgt_in), tgt_out, label_smoothing)
        optimizer.zero_grad(); loss.backward()
        clip_grad_norm_(params, 1.0); optimizer.step(); scheduler.step()

``Trainer`` says what the translator trains on (English-Spanish pairs: the built-in corpus
or a TSV corpus; a joint BPE vocabulary), its loss (``Transformer.loss``: teacher
forcing), how it is measured every ``eval_every`` steps (validation loss and BLEU on 200
sentences) and its final report (sample translations, test BLEU/chrF, greedy and beam).
Everything else (checkpoints, --resume, Ctrl-C, metrics.jsonl) is trainer.BaseTrainer's.
"""

from __future__ import annotations

import time

import tinytorch as tt
from tinytorch import nn

from .data.batching import BatchIterator, encode_pairs, eval_batches
from .data.corpus import load_corpus
from .evaluate import evaluate_pairs, translate
from .model import Transformer
from .train_args import SIZES, TrainArgs
from .trainer import BaseTrainer, check_vocab_size, warmup_inverse_sqrt

__all__ = ["SIZES", "TrainArgs", "Trainer", "check_vocab_size", "load_data", "validation_loss",
           "warmup_inverse_sqrt"]


def load_data(args: TrainArgs):
    if args.data is None:
        from .data.synthetic import make_splits  # noqa: PLC0415

        return make_splits(seed=args.seed)
    return load_corpus(args.data, seed=args.seed)


def validation_loss(model, src, tgt, batch_tokens, device) -> float:
    """Mean cross-entropy per target token over the validation pairs (no label smoothing)."""
    model.eval()
    total, count = 0.0, 0
    try:
        with tt.no_grad():
            for b in eval_batches(src, tgt, batch_tokens, model.config.pad_id):
                logits = model(tt.tensor(b.src, device=device), tt.tensor(b.tgt_in, device=device))
                loss = nn.functional.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]),
                    tt.tensor(b.tgt_out.reshape(-1), device=device),
                    ignore_index=model.config.pad_id, reduction="sum")
                total += loss.item()
                count += b.num_tokens
    finally:
        model.train()
    return total / max(count, 1)


class Trainer(BaseTrainer):
    """The translator's run (see trainer.BaseTrainer for the loop, checkpoints, --resume
    and stop signals): ``Trainer(TrainArgs(...)).run()``."""

    kind, model_class, command = "translator", Transformer, "train"

    def load_data(self) -> dict:
        return load_data(self.args)

    def tokenizer_texts(self) -> list[str]:
        return [s for pair in self.splits["train"] for s in pair]  # a joint EN+ES vocabulary

    def prepare_data(self) -> None:
        a, tok = self.args, self.tokenizer
        self.src, self.tgt = encode_pairs(tok, self.splits["train"], a.max_len)
        self.valid_src, self.valid_tgt = encode_pairs(tok, self.splits["valid"], a.max_len)
        self.batches = BatchIterator(self.src, self.tgt, a.batch_tokens, seed=a.seed,
                                     pad_id=tok.pad_id)

    def summary(self) -> str:
        c = self.model.config
        return (f"{c.num_encoder_layers}+{c.num_decoder_layers} layers; {len(self.src)} "
                f"training pairs")

    def batch_loss(self, batch):
        device = self.args.device
        loss = self.model.loss(tt.tensor(batch.src, device=device),
                               tt.tensor(batch.tgt_in, device=device),
                               tt.tensor(batch.tgt_out, device=device),
                               label_smoothing=self.args.label_smoothing)
        return loss, batch.num_tokens

    def measure(self, train_loss: float) -> dict:
        """Validation loss and BLEU (200 sentences) now: a metrics row. Reads the model
        only, so a stop signal may abandon it."""
        valid = self.splits["valid"][:200]
        val_loss = validation_loss(self.model, self.valid_src, self.valid_tgt,
                                   self.args.batch_tokens, self.args.device)
        result = evaluate_pairs(self.model, self.tokenizer, valid, device=self.args.device)
        return {"step": self.step, "elapsed_s": round(self.elapsed, 1), "train_loss": train_loss,
                "valid_loss": val_loss, "valid_bleu_200": result["bleu"],
                "lr": self.scheduler.get_last_lr()[0]}

    def describe(self, row: dict) -> str:
        return (f"step {row['step']}: train loss {row['train_loss']:.3f}, valid loss "
                f"{row['valid_loss']:.3f}, valid BLEU (200 sentences) {row['valid_bleu_200']:.1f}")

    def use_command(self) -> str:
        a = self.args
        score = f"python -m transformer evaluate --out {a.out}"
        score += f" --data {a.data}" if a.data is not None else ""
        return score + (f" --seed {a.seed}" if a.seed else "")

    def _final_report(self) -> dict:
        """Sample translations, then test BLEU/chrF, greedy and beam (test_scores.json)."""
        test = self.splits["test"]
        samples = ["Hello world."] + [en for en, _ in test[:5]]
        for en, es in zip(samples, translate(self.model, self.tokenizer, samples,
                                             device=self.args.device)):
            self.log(f"  {en}  ->  {es}")
        report = {}
        for beam in sorted({1, self.args.beam}):
            t0 = time.perf_counter()
            r = evaluate_pairs(self.model, self.tokenizer, test, num_beams=beam,
                               device=self.args.device)
            name = "greedy" if beam == 1 else f"beam {beam}"
            self.log(f"test ({len(test)} sentences, {name}): BLEU {r['bleu']:.1f}, "
                     f"chrF {r['chrf']:.1f}  [{time.perf_counter() - t0:.0f} s]")
            report[name] = {"bleu": r["bleu"], "chrf": r["chrf"]}
            report["signature"] = r["bleu_signature"]
        self.log(f"sacreBLEU signature: {report['signature']}")
        return report
