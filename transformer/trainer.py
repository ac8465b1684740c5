"""The training loop that every model here shares, with checkpoints that resume exactly.

    for each batch:
        loss = the model's loss on the batch         (batch_loss: what each task defines)
        optimizer.zero_grad(); loss.backward()
        clip_grad_norm_(params, clip); optimizer.step(); scheduler.step()

The learning rate warms up linearly, then decays as 1/sqrt(step) (the transformer
paper's schedule). Every ``eval_every`` steps: a validation measurement, a line in
``metrics.jsonl``, and a checkpoint. At the end the checkpoint is saved *before* the final
evaluation and the test report, so stopping them loses nothing. Ctrl-C and SIGTERM finish
the step, save a checkpoint and say how to resume (stopping.py).
Under ``mpiexec -n N`` the same loop runs on N processes, each on its slice of every
batch, with one writer and one stop for all (ranks.py).
With ``plain`` (``--plain``) the steps, the validation and the final report run under
``tinytorch.fast_paths(False)``: the textbook paths, slower but easy to step through.

One directory (``--out``) holds one run: a new run refuses a directory that holds one
unless told to continue it (``resume``) or to delete it (``overwrite``), and a resumed run
refuses options that differ from the saved ones where that would change the run
(train_args.py says which).

``BaseTrainer`` is all of that; a task is a subclass that says what it trains on and how
it scores (train.py: the translator; language_model.py: a GPT-style language model;
masked_lm.py: a BERT-style masked language model):

    kind, model_class, command   what the checkpoint holds, the model, the CLI command
    load_data()                  {"train", "valid", "test"} splits
    tokenizer_texts()            the texts the BPE tokenizer learns from
    prepare_data()               token ids of the splits, and self.batches (a BatchIterator)
    batch_loss(batch)            the loss of one batch (a scalar tensor), tokens it counted
    measure(train_loss)          a metrics row: validation numbers now
    describe(row)                that row as one printed line
    _final_report()              test scores and examples, after training
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
from .ranks import Ranks, zero_loss
from .stopping import Interrupted, StopSignals, signal_name
from .tokenizer import N_BYTES, N_SPECIAL, BPETokenizer
from .train_args import TrainArgs, resume_differences

METRICS_NAME = "metrics.jsonl"
# What a run writes into --out; --overwrite deletes these (and nothing else).
RUN_FILES = (CHECKPOINT_NAME, METRICS_NAME, "loss.png", "test_scores.json")


def warmup_inverse_sqrt(warmup: int, cooldown: float = 0.0, progress=None):
    """lr multiplier: step/warmup while warming up, then sqrt(warmup/step) (peak 1 at warmup).

    With ``cooldown`` c > 0, the last fraction c of the budget also falls linearly to 0:
    the factor is multiplied by min(1, (1 - p) / c), where ``progress(step)`` = p is the
    fraction of the budget spent (of the steps, or of the minutes). A run with a fixed
    budget ends at lr 0 instead of at the inverse square root's still-high rate: the
    last steps average out the noise of the large ones before them (the
    warmup-stable-decay schedule; measured on Tatoeba in benchmarks/README.md)."""
    def factor(step: int) -> float:
        step = max(step, 1)
        f = step / warmup if step < warmup else math.sqrt(warmup / step)
        if cooldown > 0:
            f *= min(1.0, max(0.0, 1.0 - progress(step)) / cooldown)
        return f
    return factor


def _progress(total, enabled, initial):
    if not enabled:
        return None
    try:
        from tqdm import tqdm  # noqa: PLC0415
    except ImportError:
        return None
    return tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True, mininterval=1.0)


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


def check_vocab_size(texts, vocab_size: int, extra: tuple[str, ...] = ()) -> None:
    """The tokenizer needs a token for each special token (and each ``extra`` one, such
    as <mask>), each byte and each distinct character of the corpus before it learns a
    single merge (tokenizer.py)."""
    chars = {ch for ch in set("".join(texts)) if not "\ud800" <= ch <= "\udfff"}
    smallest = N_SPECIAL + len(extra) + N_BYTES + len(chars)  # (lone surrogates: bytes)
    if vocab_size < smallest:
        special = f"{N_SPECIAL} special" + "".join(f" + {t}" for t in extra)
        raise UsageError(
            f"--vocab-size {vocab_size}: this corpus needs at least {smallest} tokens "
            f"({special} + {N_BYTES} bytes + {len(chars)} distinct characters); give "
            f"--vocab-size >= {smallest} (in practice a few thousand)")


class BaseTrainer:
    """Holds the run's state; ``run()`` trains until the step or time budget is spent.

    Everything is checked before anything is written: the options (``args.validate()``),
    the run directory, the corpus, and on ``resume`` that the options match the saved
    run and that it holds this kind of model. Mistakes raise UsageError (the CLI prints
    them as one line)."""

    kind = "translator"           # what the checkpoint holds (checkpoint.KINDS)
    model_class = None            # Transformer, DecoderOnly or EncoderOnly
    command = "train"             # the CLI command that trains it
    special_tokens: tuple[str, ...] = ()  # added to the tokenizer after training it
    several_processes = True      # whether it may run under mpiexec -n N > 1 (ranks.py)

    def __init__(self, args: TrainArgs, log=print, ranks: Ranks | None = None):
        args.validate()
        check_run_dir(args)
        # Several processes under mpiexec (ranks.py): only rank 0 speaks and writes.
        self.ranks = ranks = ranks if ranks is not None else Ranks.from_environment()
        if ranks.world > 1 and not self.several_processes:
            raise UsageError(f"{self.command} runs in one process only (started by mpiexec as "
                             f"{ranks.world}): run it without mpiexec; train and lm train "
                             f"run on several")
        if not ranks.is_main:
            log = _quiet
        self.args, self.log = args, log
        self.ckpt = checkpoint_path(args.out)
        self.metrics_file = os.path.join(args.out, METRICS_NAME)
        self.stop = StopSignals() if ranks.is_main else StopSignals(notice=_quiet)
        self.agreed_stop = None  # with several ranks: the stop signal they agreed on
        tt.manual_seed(args.seed)
        self.splits = self.load_data()
        state = load_checkpoint(self.ckpt, kind=self.kind) if args.resume else None
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
        else:
            t0 = time.perf_counter()
            texts = self.tokenizer_texts()
            check_vocab_size(texts, args.vocab_size, self.special_tokens)
            self.tokenizer = BPETokenizer.train(texts, args.vocab_size - len(self.special_tokens))
            self.tokenizer.add_special_tokens(self.special_tokens)
            log(f"tokenizer: {len(self.tokenizer)} tokens, "
                f"trained in {time.perf_counter() - t0:.1f} s")
        self.prepare_data()
        if state is not None:
            self.model = resumed.train()
        else:
            config = args.model_config(len(self.tokenizer), self.tokenizer.pad_id)
            self.model = self.model_class(config).to(args.device)
        # Several ranks: backward averages the gradients over them; every rank starts from
        # rank 0's weights (a collective: every rank has passed its checks when it returns).
        self.ddp = ranks.wrap(self.model)
        n_params = sum(p.numel() for p in self.model.parameters())
        log(f"model: {n_params / 1e6:.2f}M parameters, d_model {self.model.config.d_model}, "
            f"{self.summary()}")
        if ranks.world > 1:
            log(f"{ranks.world} processes (mpiexec): each trains on 1/{ranks.world} of every "
                f"batch; rank 0 writes" + _threads_hint())
        self.step, self.elapsed, self.metrics = 0, 0.0, []
        self.optimizer = tt.optim.Adam(self.model.parameters(), lr=args.lr, betas=(0.9, 0.98),
                                       eps=1e-9)
        self.scheduler = tt.optim.lr_scheduler.LambdaLR(
            self.optimizer, warmup_inverse_sqrt(args.warmup, args.cooldown, self.progress))
        self.curve = []  # (step, training loss, learning rate) of every step: the loss plot
        self.saved_step = None  # the step of the last checkpoint this process wrote
        # Every check has passed: only now is anything deleted or written.
        if args.overwrite and ranks.is_main:
            clear_run(args.out)
        if ranks.is_main:
            os.makedirs(args.out, exist_ok=True)
        if state is not None:
            self._restore(state)
        ranks.reseed_dropout(args.seed, self.step)

    # -- what a task defines ---------------------------------------------------------------
    def load_data(self) -> dict:
        raise NotImplementedError

    def tokenizer_texts(self) -> list[str]:
        raise NotImplementedError

    def prepare_data(self) -> None:
        raise NotImplementedError

    def batch_loss(self, batch):
        """(loss, tokens): the loss of ``batch``, a scalar tensor to backpropagate, and the
        number of tokens it counted (for the tokens/s shown)."""
        raise NotImplementedError

    def measure(self, train_loss: float) -> dict:
        raise NotImplementedError

    def describe(self, row: dict) -> str:
        raise NotImplementedError

    def summary(self) -> str:
        """What the log says after the parameter count: layers, examples."""
        return ""

    def use_command(self) -> str:
        """The command that uses (or scores) the saved model, shown when a stop signal
        ends the report after training."""
        return f"python -m transformer {self.command} --out {self.args.out}"

    def _final_report(self) -> dict:
        return {}

    # -- the loop --------------------------------------------------------------------------
    def _restore(self, state):
        """Everything but the model (model_from_checkpoint loaded it) from the checkpoint."""
        try:
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            tt.set_rng_state(state["rng"])
            self.batches.load_state_dict(state["data"])
            self.step, self.elapsed = int(state["step"]), float(state["elapsed"])
            self.metrics = list(state["metrics"])
            curve = state.get("curve")  # (checkpoints older than the curve have none)
            self.curve = [] if curve is None else np.asarray(curve).reshape(-1, 3).tolist()
        except (KeyError, ValueError, TypeError, RuntimeError, IndexError) as e:
            raise CheckpointError(f"{self.ckpt}: cannot resume from it ({type(e).__name__}: "
                                  f"{str(e)[:200]}); the file is damaged or from another "
                                  f"version: start a new run (--overwrite)") from None
        # metrics.jsonl says what the checkpoint says: rows written after it (by a run that
        # was killed before its next save) would otherwise be there twice.
        if self.ranks.is_main:
            with open(self.metrics_file, "w", encoding="utf-8") as f:
                f.writelines(json.dumps(row) + "\n" for row in self.metrics)
        self.log(f"resumed from {self.ckpt} at step {self.step}")

    def save(self):
        """The checkpoint (rank 0 writes it: every rank holds the same state)."""
        if not self.ranks.is_main:
            self.saved_step = self.step
            return
        save_checkpoint(self.ckpt, model=self.model, tokenizer=self.tokenizer,
                        optimizer=self.optimizer, scheduler=self.scheduler, batches=self.batches,
                        step=self.step, elapsed=self.elapsed, train_args=self.args.to_dict(),
                        metrics=self.metrics, kind=self.kind, curve=self.curve)
        self.saved_step = self.step

    def train_step(self, batch) -> tuple[float, int]:
        """One update: the batch's loss, its gradients, clipped, and an optimizer step.
        Returns the loss and the tokens it counted: with several ranks, this rank's, on its
        slice of the batch."""
        if self.ranks.world == 1:
            loss, tokens = self.batch_loss(batch)
            self.optimizer.zero_grad()
            loss.backward()
        else:
            # Rank r's mean loss weighted by its share of the batch's tokens: the average
            # over the ranks of these gradients (taken inside backward) is the gradient of
            # the whole batch's mean loss (the derivation: ranks.py).
            shard = self.ranks.shard(batch, self.batches)
            loss, tokens = (zero_loss(self.model), 0) if shard is None else self.batch_loss(shard)
            total = self.ranks.total(tokens)
            self.optimizer.zero_grad()
            (loss * (tokens * self.ranks.world / max(total, 1))).backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), self.args.clip)
        self.optimizer.step()
        self.scheduler.step()
        return loss.item(), tokens

    def progress(self, step: int) -> float:
        """The fraction of the budget spent when the scheduler is at ``step``: of --steps,
        or else of --minutes (training time, as _done counts it)."""
        a = self.args
        if a.steps is not None:
            return step / a.steps
        return self.elapsed / (a.minutes * 60) if a.minutes is not None else 0.0

    def _done(self) -> bool:
        a = self.args
        if a.steps is not None and self.step >= a.steps:
            return True
        return a.minutes is not None and a.steps is None and self.elapsed >= a.minutes * 60

    def record(self, row: dict) -> None:
        """Keep a metrics row (saved with the next checkpoint), append it to metrics.jsonl
        and print it (rank 0's job)."""
        if not self.ranks.is_main:
            return
        self.metrics.append(row)
        with open(self.metrics_file, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
        note = ""
        if row["valid_loss"] > 1.5 * row["train_loss"] + 1.0:
            note = "  (validation loss far above training loss: overfitting?)"
        self.log(self.describe(row) + note)

    def evaluate(self, train_loss: float) -> dict:
        """measure() and record(): a metrics row now."""
        row = self.measure(train_loss)
        self.record(row)
        return row

    def run(self) -> None:
        """Train until the step or time budget is spent (on the textbook paths with
        ``plain``), evaluating and saving every ``eval_every`` steps; then save, and only
        then evaluate a last time and save again. Ctrl-C or SIGTERM: save and exit with
        SystemExit(128 + the signal's number) (stopping.py). With several ranks, the
        others return after the last save; rank 0 evaluates."""
        with self.stop, tt.fast_paths(not self.args.plain):
            self.log(f"training from step {self.step}: Ctrl-C or SIGTERM stops after the "
                     f"current step and saves a checkpoint")
            window = self._train()
            if self.saved_step != self.step:
                self.save()
            if self._stop_signal():
                self._stopped(self._stop_signal())
            if not self.ranks.is_main:
                return
            if window:
                row = self.after_training(lambda: self.measure(float(np.mean(window))),
                                          "the final evaluation")
                self.record(row)
                self.save()
            if self.stop.received:  # arrived during that last save: it is complete
                self._stopped(self.stop.received)

    def _stop_signal(self) -> int | None:
        """The stop signal to act on: alone, the one this process received; with several
        ranks, the one they agreed on after the last step (so that all stop together)."""
        return self.stop.received if self.ranks.world == 1 else self.agreed_stop

    def _train(self) -> list[float]:
        """The steps, until the budget is spent or a stop signal arrives. Returns the
        training losses since the last evaluation."""
        a, ranks = self.args, self.ranks
        bar = _progress(a.steps, a.progress and ranks.is_main, self.step)
        window, tokens, started = [], 0, time.perf_counter()
        last_print = started
        try:
            while not self._done() and not self._stop_signal():
                t0 = time.perf_counter()
                loss, n = self.train_step(next(self.batches))
                dt = time.perf_counter() - t0
                if ranks.world > 1:
                    # the whole batch's loss and tokens, the slowest rank's time, and a stop
                    # signal that any rank received: the same on every rank
                    loss_sum, n, dt, self.agreed_stop = ranks.agree(loss * n, n, dt,
                                                                    self.stop.received)
                    loss = loss_sum / max(n, 1)
                self.step += 1
                self.elapsed += dt
                window.append(loss)
                tokens += n
                rate = tokens / max(time.perf_counter() - started, 1e-9)
                lr = self.scheduler.get_last_lr()[0]
                self.curve.append([self.step, loss, lr])
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss:.3f}", tok_s=f"{rate:.0f}", lr=f"{lr:.2e}",
                                    refresh=False)
                elif time.perf_counter() - last_print > 5:
                    last_print = time.perf_counter()
                    self.log(f"step {self.step} loss {loss:.3f} {rate:.0f} tok/s lr {lr:.2e}")
                if self.step % a.eval_every == 0:
                    row = None
                    if ranks.is_main:
                        try:
                            with self.stop.interruptible():  # a signal abandons the evaluation
                                row = self.measure(float(np.mean(window)))
                        except Interrupted:
                            pass
                    if ranks.world > 1:  # the others wait for rank 0's evaluation, asleep
                        self.agreed_stop = ranks.agree(signum=self.stop.received,
                                                       wait_idle=True)[3]
                    abandoned = row is None if ranks.is_main else self.agreed_stop is not None
                    if abandoned:
                        break  # run() saves this step and stops
                    self.record(row)
                    window = []
                    self.save()
        finally:
            if bar is not None:
                bar.close()
        return window

    def _stopped(self, signum: int):
        a = self.args
        self.log(f"\n{signal_name(signum)}: stopped at step {self.step}; checkpoint "
                 f"saved to {self.ckpt}.\nResume with: python -m transformer {self.command} "
                 f"--out {a.out} --resume (and the same other options)")
        raise SystemExit(128 + signum)

    def after_training(self, work, what: str):
        """``work()`` (an evaluation, a report, a plot: nothing the checkpoint holds) with
        Ctrl-C / SIGTERM abandoning it at once: the checkpoint is saved already. A stopped
        run says so in one line and exits with 128 + the signal's number."""
        try:
            with self.stop, self.stop.interruptible():
                return work()
        except Interrupted as e:
            self.log(f"\n{signal_name(e.signum)} during {what}: stopped; the checkpoint of step "
                     f"{self.step} is saved in {self.ckpt} (use it with: {self.use_command()})")
            raise SystemExit(128 + e.signum) from None

    def final_report(self) -> dict:
        """The task's test scores and examples (a stop signal ends it)."""
        return self.after_training(self._report, "the test report")

    def _report(self) -> dict:
        with tt.fast_paths(not self.args.plain):
            report = self._final_report()
        with open(os.path.join(self.args.out, "test_scores.json"), "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
        return report

    def plot_loss(self) -> None:
        """loss.png: the training loss of every step (raw and smoothed) and the learning
        rate, with the evaluations of metrics.jsonl on top (if any evaluation ran and
        matplotlib is installed)."""
        from .plots import MissingDependency, plot_loss  # noqa: PLC0415

        if not self.metrics:  # no evaluation has run (nothing to draw)
            return
        try:
            png = os.path.join(self.args.out, "loss.png")
            smoothing = self.args.label_smoothing
            plot_loss(self.metrics_file, png, curve=self.curve,
                      train_label=f"train (label smoothing {smoothing:g})" if smoothing
                      else "train")
            self.log(f"loss curve: {png}")
        except MissingDependency as e:
            self.log(f"(no loss curve: {e})")


def train_and_report(trainer: BaseTrainer) -> None:
    """What a training command does: train, report on the test split, draw the loss curve;
    a stop signal at any point saves the run first (stopping.py)."""
    t0 = time.perf_counter()
    with trainer.stop:  # Ctrl-C and SIGTERM: see transformer/stopping.py
        trainer.run()
        if not trainer.ranks.is_main:  # (several ranks: rank 0 reports)
            return
        trainer.final_report()
        trainer.after_training(trainer.plot_loss, "the loss plot")
    trainer.log(f"done in {time.perf_counter() - t0:.0f} s; checkpoint: {trainer.ckpt}")


def _quiet(*args, **kwargs) -> None:
    """The log of ranks other than 0: they say nothing."""


def _threads_hint() -> str:
    if any(name in os.environ for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")):
        return ""
    return (" (each process uses every core for its matrix products unless told: set "
            "OMP_NUM_THREADS to cores / processes, e.g. mpiexec -n 2 -genv OMP_NUM_THREADS 1)")
