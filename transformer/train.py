"""The training loop of the translator, with checkpoints that resume exactly.

    for each batch:                       (src, tgt_in, tgt_out) token ids
        loss = cross_entropy(model(src, tgt_in), tgt_out, label_smoothing)
        optimizer.zero_grad(); loss.backward()
        clip_grad_norm_(params, 1.0); optimizer.step(); scheduler.step()

The learning rate warms up linearly, then decays as 1/sqrt(step) (the transformer
paper's schedule). Every ``eval_every`` steps: validation loss and BLEU, a line in
``metrics.jsonl``, and a checkpoint. Ctrl-C saves a checkpoint and says how to resume.
With ``plain`` (``--plain``) the steps, the validation and the final report run under
``tinytorch.fast_paths(False)``: the textbook paths, slower but easy to step through.
"""

from __future__ import annotations

import json
import math
import os
import signal
import threading
import time
from dataclasses import dataclass, field

import numpy as np

import tinytorch as tt
from tinytorch import nn

from .checkpoint import checkpoint_path, load_checkpoint, save_checkpoint
from .data.batching import BatchIterator, encode_pairs, eval_batches
from .data.corpus import load_corpus
from .evaluate import evaluate_pairs, translate
from .model import Transformer, TransformerConfig
from .tokenizer import BPETokenizer

# Model sizes for --size; any field can still be overridden on the command line.
SIZES = {
    "tiny": dict(d_model=64, nhead=4, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=256),
    "small": dict(d_model=128, nhead=4, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=512),
    "base": dict(d_model=256, nhead=4, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=1024),
}


def option(default, help, **cli):
    """A TrainArgs field with its command-line help; ``cli`` may name the flag (when it is
    not ``--field-name``) and its choices. ``python -m transformer train`` reads them."""
    return field(default=default, metadata={"help": help, **cli})


@dataclass
class TrainArgs:
    """Every training option, with its default and its ``--help`` text, written once."""

    data: str | None = option(None, "a TSV of english<TAB>spanish lines, or a directory with "
                              "pairs.tsv/valid.tsv/test.tsv "
                              "(default: the built-in synthetic corpus)")
    out: str = option("runs/translator", "directory for checkpoint and metrics")
    size: str = option("small", "model size (d_model, heads, layers, feed-forward width)",
                       choices=list(SIZES))
    d_model: int | None = option(None, "override the size's d_model")
    nhead: int | None = option(None, "override the number of attention heads", flag="--heads")
    layers: int | None = option(None, "override encoder and decoder layers (each)")
    dim_feedforward: int | None = option(None, "override the feed-forward width", flag="--ff")
    dropout: float = option(0.1, "dropout probability")
    vocab_size: int = option(1000, "BPE vocabulary (joint EN+ES)")
    max_len: int = option(64, "longest sentence in tokens")
    steps: int | None = option(None, "train this many steps (overrides --minutes)")
    minutes: float | None = option(7.0, "training time budget")
    batch_tokens: int = option(3000, "padded src+tgt tokens per batch")
    lr: float = option(1e-3, "peak learning rate (reached after the warm-up)")
    warmup: int = option(300, "warm-up steps")
    label_smoothing: float = option(0.1, "label smoothing of the training loss")
    clip: float = option(1.0, "clip the gradient norm to this")
    eval_every: int = option(250, "steps between evaluations")
    seed: int = option(0, "random seed (corpus split, weights, dropout, batch order)")
    device: str = option("cpu", "cpu or cuda")
    resume: bool = option(False, "continue the run saved in --out")
    beam: int = option(4, "beam size for the final test score (greedy is reported too)")
    progress: bool = option(True, "show a progress bar; --no-progress turns it off",
                             flag="--no-progress")
    plain: bool = option(False, "train on the textbook paths: no fused ops, no packing "
                         "(slower; for reading and debugging)")

    def model_config(self, vocab: int, pad_id: int) -> TransformerConfig:
        shape = dict(SIZES[self.size])
        for key, value in (("d_model", self.d_model), ("nhead", self.nhead),
                           ("dim_feedforward", self.dim_feedforward)):
            if value is not None:
                shape[key] = value
        if self.layers is not None:
            shape["num_encoder_layers"] = shape["num_decoder_layers"] = self.layers
        return TransformerConfig(src_vocab_size=vocab, tgt_vocab_size=vocab, dropout=self.dropout,
                                 max_len=self.max_len + 2, pad_id=pad_id, **shape)


def warmup_inverse_sqrt(warmup: int):
    """lr multiplier: step/warmup while warming up, then sqrt(warmup/step) (peak 1 at warmup)."""
    def factor(step: int) -> float:
        step = max(step, 1)
        return step / warmup if step < warmup else math.sqrt(warmup / step)
    return factor


def load_data(args: TrainArgs):
    if args.data is None:
        from .data.synthetic import make_splits  # noqa: PLC0415

        return make_splits(seed=args.seed)
    return load_corpus(args.data, seed=args.seed)


def _progress(total, enabled, initial):
    if not enabled:
        return None
    try:
        from tqdm import tqdm  # noqa: PLC0415
    except ImportError:
        return None
    return tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True, mininterval=1.0)


def validation_loss(model, src, tgt, batch_tokens, device) -> float:
    """Mean cross-entropy per target token over the validation pairs (no label smoothing)."""
    model.eval()
    total, count = 0.0, 0
    with tt.no_grad():
        for b in eval_batches(src, tgt, batch_tokens, model.config.pad_id):
            logits = model(tt.tensor(b.src, device=device), tt.tensor(b.tgt_in, device=device))
            loss = nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), tt.tensor(b.tgt_out.reshape(-1), device=device),
                ignore_index=model.config.pad_id, reduction="sum")
            total += loss.item()
            count += b.num_tokens
    model.train()
    return total / max(count, 1)


class Trainer:
    """Holds the run's state; ``run()`` trains until the step or time budget is spent."""

    def __init__(self, args: TrainArgs, log=print):
        self.args, self.log = args, log
        os.makedirs(args.out, exist_ok=True)
        self.ckpt = checkpoint_path(args.out)
        self.metrics_file = os.path.join(args.out, "metrics.jsonl")
        tt.manual_seed(args.seed)
        self.splits = load_data(args)
        state = load_checkpoint(self.ckpt) if args.resume else None
        if state is not None:
            self.tokenizer = BPETokenizer.from_dict(state["tokenizer"])
            config = TransformerConfig.from_dict(state["config"])
        else:
            t0 = time.perf_counter()
            texts = [s for pair in self.splits["train"] for s in pair]
            self.tokenizer = BPETokenizer.train(texts, args.vocab_size)
            log(f"tokenizer: {len(self.tokenizer)} tokens, trained in {time.perf_counter() - t0:.1f} s")
            config = args.model_config(len(self.tokenizer), self.tokenizer.pad_id)
        self.src, self.tgt = encode_pairs(self.tokenizer, self.splits["train"], args.max_len)
        self.valid_src, self.valid_tgt = encode_pairs(self.tokenizer, self.splits["valid"], args.max_len)
        self.model = Transformer(config).to(args.device)
        n_params = sum(p.numel() for p in self.model.parameters())
        log(f"model: {n_params / 1e6:.2f}M parameters, d_model {config.d_model}, "
            f"{config.num_encoder_layers}+{config.num_decoder_layers} layers; "
            f"{len(self.src)} training pairs")
        self.optimizer = tt.optim.Adam(self.model.parameters(), lr=args.lr, betas=(0.9, 0.98), eps=1e-9)
        self.scheduler = tt.optim.lr_scheduler.LambdaLR(self.optimizer, warmup_inverse_sqrt(args.warmup))
        self.batches = BatchIterator(self.src, self.tgt, args.batch_tokens, seed=args.seed,
                                     pad_id=self.tokenizer.pad_id)
        self.step, self.elapsed, self.metrics = 0, 0.0, []
        if state is not None:
            self._restore(state)

    def _restore(self, state):
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        tt.set_rng_state(state["rng"])
        self.batches.load_state_dict(state["data"])
        self.step, self.elapsed = int(state["step"]), float(state["elapsed"])
        self.metrics = list(state["metrics"])
        self.log(f"resumed from {self.ckpt} at step {self.step}")

    def save(self):
        save_checkpoint(self.ckpt, model=self.model, tokenizer=self.tokenizer,
                        optimizer=self.optimizer, scheduler=self.scheduler, batches=self.batches,
                        step=self.step, elapsed=self.elapsed, train_args=vars(self.args),
                        metrics=self.metrics)

    def train_step(self, batch) -> tuple[float, int]:
        device = self.args.device
        loss = self.model.loss(tt.tensor(batch.src, device=device),
                               tt.tensor(batch.tgt_in, device=device),
                               tt.tensor(batch.tgt_out, device=device),
                               label_smoothing=self.args.label_smoothing)
        self.optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), self.args.clip)
        self.optimizer.step()
        self.scheduler.step()
        return loss.item(), batch.num_tokens

    def _done(self) -> bool:
        a = self.args
        if a.steps is not None and self.step >= a.steps:
            return True
        return a.minutes is not None and a.steps is None and self.elapsed >= a.minutes * 60

    def evaluate(self, train_loss: float) -> dict:
        valid = self.splits["valid"][:200]
        val_loss = validation_loss(self.model, self.valid_src, self.valid_tgt,
                                   self.args.batch_tokens, self.args.device)
        result = evaluate_pairs(self.model, self.tokenizer, valid, device=self.args.device)
        row = {"step": self.step, "elapsed_s": round(self.elapsed, 1), "train_loss": train_loss,
               "valid_loss": val_loss, "valid_bleu_200": result["bleu"],
               "lr": self.scheduler.get_last_lr()[0]}
        self.metrics.append(row)
        with open(self.metrics_file, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
        note = ""
        if val_loss > 1.5 * train_loss + 1.0:
            note = "  (validation loss far above training loss: overfitting?)"
        self.log(f"step {self.step}: train loss {train_loss:.3f}, valid loss {val_loss:.3f}, "
                 f"valid BLEU (200 sentences) {result['bleu']:.1f}{note}")
        return row

    def run(self) -> None:
        """Train until the step or time budget is spent (on the textbook paths with
        ``plain``), evaluating and saving every ``eval_every`` steps and at the end."""
        with tt.fast_paths(not self.args.plain):
            a = self.args
            total = a.steps if a.steps is not None else None
            bar = _progress(total, a.progress, self.step)
            window, tokens, started = [], 0, time.perf_counter()
            last_print = started
            with _CtrlC() as ctrl_c:
                while not self._done() and not ctrl_c.pressed:
                    t0 = time.perf_counter()
                    loss, n = self.train_step(next(self.batches))
                    dt = time.perf_counter() - t0
                    self.step += 1
                    self.elapsed += dt
                    window.append(loss)
                    tokens += n
                    rate = tokens / max(time.perf_counter() - started, 1e-9)
                    lr = self.scheduler.get_last_lr()[0]
                    if bar is not None:
                        bar.update(1)
                        bar.set_postfix(loss=f"{loss:.3f}", tok_s=f"{rate:.0f}", lr=f"{lr:.2e}",
                                        refresh=False)
                    elif time.perf_counter() - last_print > 5:
                        last_print = time.perf_counter()
                        self.log(f"step {self.step} loss {loss:.3f} {rate:.0f} tok/s lr {lr:.2e}")
                    if self.step % a.eval_every == 0 and not ctrl_c.pressed:
                        self.evaluate(float(np.mean(window)))
                        window = []
                        self.save()
            if bar is not None:
                bar.close()
            if ctrl_c.pressed:
                self.save()
                self.log(f"\ninterrupted at step {self.step}; checkpoint saved to {self.ckpt}.\n"
                         f"Resume with: python -m transformer train --out {a.out} --resume "
                         f"(and the same other options)")
                raise SystemExit(130)
            if window:
                self.evaluate(float(np.mean(window)))
            self.save()

    def final_report(self) -> dict:
        """Sample translations, then test BLEU/chrF, greedy and beam."""
        with tt.fast_paths(not self.args.plain):
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
            with open(os.path.join(self.args.out, "test_scores.json"), "w", encoding="utf-8") as f:
                json.dump(report, f, indent=2)
            return report


class _CtrlC:
    """Ctrl-C during training: finish the current step, then save and exit.

    A KeyboardInterrupt raised in the middle of a step (say, between the optimizer
    update and the step counter) would save a state that no uninterrupted run ever
    had, and the resumed run would drift. So the first Ctrl-C only sets ``pressed``;
    the loop checks it between steps. A second Ctrl-C interrupts at once.
    """

    def __enter__(self):
        self.pressed = False
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        self.pressed = True
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C: now
        print("\nCtrl-C: finishing this step, then saving (Ctrl-C again to quit at once)",
              flush=True)

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False
