"""The training loop of the translator, with checkpoints that resume exactly.

    for each batch:                       (src, tgt_in, tgt_out) token ids
        loss = cross_entropy(model(src, tgt_in), tgt_out, label_smoothing)
        optimizer.zero_grad(); loss.backward()
        clip_grad_norm_(params, 1.0); optimizer.step(); scheduler.step()

The learning rate warms up linearly, then decays as 1/sqrt(step) (the transformer
paper's schedule). Every ``eval_every`` steps: validation loss and BLEU, a line in
``metrics.jsonl``, and a checkpoint. At the end the checkpoint is saved *before* the final
evaluation and the test report, so stopping them loses nothing. Ctrl-C and SIGTERM finish
the step, save a checkpoint and say how to resume (stopping.py).
With ``plain`` (``--plain``) the steps, the validation and the final report run under
``tinytorch.fast_paths(False)``: the textbook paths, slower but easy to step through.

One directory (``--out``) holds one run: a new run refuses a directory that holds one
unless told to continue it (``resume``) or to delete it (``overwrite``), and a resumed run
refuses options that differ from the saved ones where that would change the run
(train_args.py says which).
"""

from __future__ import annotations

import glob
import json
import math
import os
import time

import numpy as np

import tinytorch as tt
from tinytorch import nn
from tinytorch.serialization import CheckpointError

from .checkpoint import (
    CHECKPOINT_NAME, checkpoint_path, load_checkpoint, model_from_checkpoint, save_checkpoint,
)
from .cli_args import UsageError
from .data.batching import BatchIterator, encode_pairs, eval_batches
from .data.corpus import load_corpus
from .evaluate import evaluate_pairs, translate
from .model import Transformer
from .stopping import Interrupted, StopSignals, signal_name
from .tokenizer import N_BYTES, N_SPECIAL, BPETokenizer
from .train_args import SIZES, TrainArgs, resume_differences

__all__ = ["SIZES", "TrainArgs", "Trainer", "load_data", "warmup_inverse_sqrt"]

METRICS_NAME = "metrics.jsonl"
# What a run writes into --out; --overwrite deletes these (and nothing else).
RUN_FILES = (CHECKPOINT_NAME, METRICS_NAME, "loss.png", "test_scores.json")


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


def check_run_dir(args: TrainArgs) -> None:
    """One directory, one run: refuse to start a run where one is saved (unless ``resume``
    continues it or ``overwrite`` deletes it), and to resume where none is."""
    found = [name for name in (CHECKPOINT_NAME, METRICS_NAME)
             if os.path.exists(os.path.join(args.out, name))]
    if args.resume and CHECKPOINT_NAME not in found:
        raise UsageError(f"--resume: no checkpoint in {args.out} (train without --resume first)")
    if found and not args.resume and not args.overwrite:
        raise UsageError(
            f"--out {args.out} holds a training run ({', '.join(found)}): continue it with "
            f"--resume, delete it and start over with --overwrite, or give another --out")


def clear_run(out: str) -> None:
    """Delete what a run wrote into ``out`` (for --overwrite), leaving other files alone."""
    leftovers = glob.glob(os.path.join(glob.escape(out), f".{CHECKPOINT_NAME}.*.tmp"))
    for path in [os.path.join(out, name) for name in RUN_FILES] + leftovers:
        if os.path.isfile(path):
            os.remove(path)


def check_vocab_size(texts, vocab_size: int) -> None:
    """The tokenizer needs a token for each special token, each byte and each distinct
    character of the corpus before it learns a single merge (tokenizer.py)."""
    chars = {ch for ch in set("".join(texts)) if not "\ud800" <= ch <= "\udfff"}
    smallest = N_SPECIAL + N_BYTES + len(chars)  # (lone surrogates are written as bytes)
    if vocab_size < smallest:
        raise UsageError(
            f"--vocab-size {vocab_size}: this corpus needs at least {smallest} tokens "
            f"({N_SPECIAL} special + {N_BYTES} bytes + {len(chars)} distinct characters); give "
            f"--vocab-size >= {smallest} (in practice a few thousand)")


class Trainer:
    """Holds the run's state; ``run()`` trains until the step or time budget is spent.

    Everything is checked before anything is written: the options (``args.validate()``),
    the run directory, the corpus, and on ``resume`` that the options match the saved
    run. Mistakes raise UsageError (the CLI prints them as one line)."""

    def __init__(self, args: TrainArgs, log=print):
        args.validate()
        check_run_dir(args)
        self.args, self.log = args, log
        self.ckpt = checkpoint_path(args.out)
        self.metrics_file = os.path.join(args.out, METRICS_NAME)
        self.stop = StopSignals()
        tt.manual_seed(args.seed)
        self.splits = load_data(args)
        state = load_checkpoint(self.ckpt) if args.resume else None
        if state is not None:
            saved_args = state.get("train_args")
            changed = resume_differences(saved_args if isinstance(saved_args, dict) else {}, args)
            if changed:
                raise UsageError(
                    f"--resume: the run in {args.out} was started with other options: "
                    f"{'; '.join(changed)}. Give the saved values, or start a new run "
                    f"(another --out, or --overwrite)")
            # config, tokenizer and weights checked (a damaged file is one CheckpointError)
            resumed, self.tokenizer = model_from_checkpoint(state, self.ckpt, args.device)
            config = resumed.config
        else:
            t0 = time.perf_counter()
            texts = [s for pair in self.splits["train"] for s in pair]
            check_vocab_size(texts, args.vocab_size)
            self.tokenizer = BPETokenizer.train(texts, args.vocab_size)
            log(f"tokenizer: {len(self.tokenizer)} tokens, "
                f"trained in {time.perf_counter() - t0:.1f} s")
            config = args.model_config(len(self.tokenizer), self.tokenizer.pad_id)
        self.src, self.tgt = encode_pairs(self.tokenizer, self.splits["train"], args.max_len)
        self.valid_src, self.valid_tgt = encode_pairs(self.tokenizer, self.splits["valid"],
                                                      args.max_len)
        self.model = resumed.train() if state is not None else Transformer(config).to(args.device)
        n_params = sum(p.numel() for p in self.model.parameters())
        log(f"model: {n_params / 1e6:.2f}M parameters, d_model {config.d_model}, "
            f"{config.num_encoder_layers}+{config.num_decoder_layers} layers; "
            f"{len(self.src)} training pairs")
        self.optimizer = tt.optim.Adam(self.model.parameters(), lr=args.lr, betas=(0.9, 0.98),
                                       eps=1e-9)
        self.scheduler = tt.optim.lr_scheduler.LambdaLR(self.optimizer,
                                                        warmup_inverse_sqrt(args.warmup))
        self.batches = BatchIterator(self.src, self.tgt, args.batch_tokens, seed=args.seed,
                                     pad_id=self.tokenizer.pad_id)
        self.step, self.elapsed, self.metrics = 0, 0.0, []
        self.saved_step = None  # the step of the last checkpoint this process wrote
        # Every check has passed: only now is anything deleted or written.
        if args.overwrite:
            clear_run(args.out)
        os.makedirs(args.out, exist_ok=True)
        if state is not None:
            self._restore(state)

    def _restore(self, state):
        """Everything but the model (model_from_checkpoint loaded it) from the checkpoint."""
        try:
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            tt.set_rng_state(state["rng"])
            self.batches.load_state_dict(state["data"])
            self.step, self.elapsed = int(state["step"]), float(state["elapsed"])
            self.metrics = list(state["metrics"])
        except (KeyError, ValueError, TypeError, RuntimeError, IndexError) as e:
            raise CheckpointError(f"{self.ckpt}: cannot resume from it ({type(e).__name__}: "
                                  f"{str(e)[:200]}); the file is damaged or from another "
                                  f"version: start a new run (--overwrite)") from None
        # metrics.jsonl says what the checkpoint says: rows written after it (by a run that
        # was killed before its next save) would otherwise be there twice.
        with open(self.metrics_file, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(row) + "\n" for row in self.metrics)
        self.log(f"resumed from {self.ckpt} at step {self.step}")

    def save(self):
        save_checkpoint(self.ckpt, model=self.model, tokenizer=self.tokenizer,
                        optimizer=self.optimizer, scheduler=self.scheduler, batches=self.batches,
                        step=self.step, elapsed=self.elapsed, train_args=self.args.to_dict(),
                        metrics=self.metrics)
        self.saved_step = self.step

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

    def record(self, row: dict) -> None:
        """Keep a metrics row (saved with the next checkpoint), append it to metrics.jsonl
        and print it."""
        self.metrics.append(row)
        with open(self.metrics_file, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
        note = ""
        if row["valid_loss"] > 1.5 * row["train_loss"] + 1.0:
            note = "  (validation loss far above training loss: overfitting?)"
        self.log(f"step {row['step']}: train loss {row['train_loss']:.3f}, valid loss "
                 f"{row['valid_loss']:.3f}, valid BLEU (200 sentences) "
                 f"{row['valid_bleu_200']:.1f}{note}")

    def evaluate(self, train_loss: float) -> dict:
        """measure() and record(): a metrics row now."""
        row = self.measure(train_loss)
        self.record(row)
        return row

    def run(self) -> None:
        """Train until the step or time budget is spent (on the textbook paths with
        ``plain``), evaluating and saving every ``eval_every`` steps; then save, and only
        then evaluate a last time and save again. Ctrl-C or SIGTERM: save and exit with
        SystemExit(128 + the signal's number) (stopping.py)."""
        with self.stop, tt.fast_paths(not self.args.plain):
            self.log(f"training from step {self.step}: Ctrl-C or SIGTERM stops after the "
                     f"current step and saves a checkpoint")
            window = self._train()
            if self.saved_step != self.step:
                self.save()
            if self.stop.received:
                self._stopped()
            if window:
                row = self.after_training(lambda: self.measure(float(np.mean(window))),
                                          "the final evaluation")
                self.record(row)
                self.save()
            if self.stop.received:  # arrived during that last save: it is complete
                self._stopped()

    def _train(self) -> list[float]:
        """The steps, until the budget is spent or a stop signal arrives. Returns the
        training losses since the last evaluation."""
        a = self.args
        bar = _progress(a.steps, a.progress, self.step)
        window, tokens, started = [], 0, time.perf_counter()
        last_print = started
        try:
            while not self._done() and not self.stop.received:
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
                if self.step % a.eval_every == 0:
                    try:
                        with self.stop.interruptible():  # a signal abandons the evaluation
                            row = self.measure(float(np.mean(window)))
                    except Interrupted:
                        break  # run() saves this step and stops
                    self.record(row)
                    window = []
                    self.save()
        finally:
            if bar is not None:
                bar.close()
        return window

    def _stopped(self):
        a = self.args
        self.log(f"\n{signal_name(self.stop.received)}: stopped at step {self.step}; checkpoint "
                 f"saved to {self.ckpt}.\nResume with: python -m transformer train --out {a.out} "
                 f"--resume (and the same other options)")
        raise SystemExit(self.stop.exit_code)

    def after_training(self, work, what: str):
        """``work()`` (an evaluation, a report, a plot: nothing the checkpoint holds) with
        Ctrl-C / SIGTERM abandoning it at once: the checkpoint is saved already. A stopped
        run says so in one line and exits with 128 + the signal's number."""
        try:
            with self.stop, self.stop.interruptible():
                return work()
        except Interrupted as e:
            a = self.args
            score = f"python -m transformer evaluate --out {a.out}"
            score += f" --data {a.data}" if a.data is not None else ""
            score += f" --seed {a.seed}" if a.seed else ""
            self.log(f"\n{signal_name(e.signum)} during {what}: stopped; the checkpoint of step "
                     f"{self.step} is saved in {self.ckpt} (score it with: {score})")
            raise SystemExit(128 + e.signum) from None

    def final_report(self) -> dict:
        """Sample translations, then test BLEU/chrF, greedy and beam (a stop signal ends it)."""
        return self.after_training(self._final_report, "the test report")

    def _final_report(self) -> dict:
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
