"""DistributedDataParallel: the same model on every rank, trained on different data.

Data parallelism in three steps. Each of N ranks holds a whole copy of the model and
computes the loss on its own part of the batch; then, before the optimizer step, the
gradients are averaged over the ranks, so every rank applies the same update and the
copies stay equal:

    wrap:      every rank's weights := rank 0's          (broadcast, once)
    backward:  g_r = dL_r/dw on rank r's part             (as usual, locally)
    average:   g = (g_0 + g_1 + ... + g_{N-1}) / N         (all_reduce, every step)

When L_r is the mean loss over rank r's B/N examples, the average of the N gradients is
the gradient of the mean loss over all B examples: N ranks with B/N examples each take
the step that one process with the whole batch would take. (When the ranks' losses
average over different counts, e.g. tokens, weight each rank's loss by its share first:
see transformer/ranks.py.)

**Buckets.** One all_reduce per parameter would pay MPI's fixed cost hundreds of times
per step; one for the whole model could start only after backward ends. So the
parameters are grouped, in reverse order of ``parameters()`` (the order in which backward
reaches them: the last layer first), into buckets of about ``bucket_cap_mb`` MB. A
post-accumulate-grad hook on each parameter (``Tensor.register_post_accumulate_grad_hook``)
notes that its gradient is complete; when a bucket's last one is, the bucket's gradients
are copied into one flat array and its all_reduce starts (nonblocking, ``Iallreduce``),
while backward goes on with the layers below. When the last bucket is ready, every
reduction is waited for and the averages are copied back into the ``.grad`` arrays, all
inside ``loss.backward()``: after it, ``optimizer.step()`` sees averaged gradients.

Every rank must produce a gradient for every parameter in every backward (buckets wait
for all of theirs). For a model whose forward leaves some parameters out, give
``find_unused_parameters=True``: each forward then walks the graph it built and counts
the parameters it did not reach as ready, with a zero gradient.
"""

from __future__ import annotations

import weakref
from contextlib import contextmanager

import numpy as np

from ... import distributed as dist
from ...autograd.engine import _count_consumers
from ...autograd.grad_mode import is_grad_enabled
from ...backend import array_module, device_of
from ...tensor import Tensor
from ..module import Module


class _Bucket:
    """Parameters whose gradients travel together, in one flat array."""

    def __init__(self, params):
        self.params = params                      # [(name, parameter)]
        self.sizes = [p.numel() for _, p in params]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).tolist()
        self.flat = None                          # (sum of sizes,) allocated on first use
        self.remaining = len(params)              # parameters not ready in this backward
        self.work = None                          # the all_reduce in flight

    def pack(self) -> Tensor:
        """The bucket's gradients, one after the other, in its flat array (a zero for a
        parameter without one: not used on this rank)."""
        first = self.params[0][1]
        if self.flat is None:
            xp = array_module(first.array)
            self.flat = xp.empty(self.offsets[-1], dtype=first.array.dtype)
        for (_, p), start, end in zip(self.params, self.offsets, self.offsets[1:]):
            if p.grad is None:
                self.flat[start:end] = 0
            else:
                self.flat[start:end] = p.grad.array.reshape(-1)
        return Tensor(self.flat)

    def unpack(self, world_size: int) -> None:
        """Each parameter's .grad := its slice of the summed flat array / world_size."""
        self.flat /= world_size
        for (_, p), start, end in zip(self.params, self.offsets, self.offsets[1:]):
            average = self.flat[start:end].reshape(p.array.shape)
            if p.grad is None:
                p.grad = Tensor(average.copy())
            else:
                p.grad.array[...] = average


class _GradReady:
    """The hook on one parameter: tells its DistributedDataParallel (held weakly, so a
    dropped wrapper stops averaging) that the gradient is complete."""

    def __init__(self, ddp, bucket: int):
        self.ddp, self.bucket = weakref.ref(ddp), bucket

    def __call__(self, param) -> None:
        ddp = self.ddp()
        if ddp is not None:
            ddp._grad_ready(param, self.bucket)


class DistributedDataParallel(Module):
    """Wrap ``module`` so that backward averages its gradients over the ranks.

    ``DistributedDataParallel(model)`` (after ``dist.init_process_group``) checks that
    every rank's model has the same parameters (names, shapes, dtypes: a mismatch is a
    RuntimeError on every rank, naming them), copies rank 0's parameters and buffers to
    every rank, and hooks the averaging into backward. ``ddp(x)`` runs ``model(x)``
    (re-broadcasting rank 0's buffers first, with ``broadcast_buffers``); ``ddp.module``
    is the model; ``state_dict()`` names its entries ``module.<name>``, as in PyTorch.

    ``bucket_cap_mb``: the size of a bucket (25 MB, PyTorch's default). ``overlap``
    (tinytorch's own): start each bucket's all_reduce as soon as it is ready (True), or
    all of them when backward ends (False). ``device_ids`` and ``output_device`` are
    accepted for PyTorch scripts and not used: the model stays where it is.
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group=None, bucket_cap_mb: float = 25,
                 find_unused_parameters: bool = False, *, overlap: bool = True):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected a Module, got "
                            f"{type(module).__name__}")
        if not dist.is_initialized() and process_group is None:
            raise RuntimeError("DistributedDataParallel: call dist.init_process_group('mpi') "
                               "first (tinytorch.distributed)")
        if dim != 0:
            raise ValueError("DistributedDataParallel: dim must be 0 (ranks split the batch "
                             "along its first dimension)")
        self.module = module
        self.process_group = process_group
        self.world_size = dist.get_world_size(process_group)
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.overlap = overlap
        self.require_backward_grad_sync = True  # False inside no_sync()
        _check_same_model(module, process_group)
        for _, t in _state(module):
            dist.broadcast(t, src=0, group=process_group)
        params = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self._buckets = _make_buckets(params, bucket_cap_mb * 2**20)
        self._ready = set()       # ids of the parameters whose gradient is complete, this round
        self._launched = []       # buckets whose all_reduce has started, this round
        self._handles = [p.register_post_accumulate_grad_hook(_GradReady(self, i))
                         for i, bucket in enumerate(self._buckets) for _, p in bucket.params]

    def forward(self, *args, **kwargs):
        # Under no_grad (an evaluation, maybe on one rank only) no backward follows: no
        # collective here then, as in PyTorch.
        training = is_grad_enabled() and self.require_backward_grad_sync
        if training:
            self._check_finished()
        if training and self.broadcast_buffers and self.world_size > 1:
            for _, b in self.module.named_buffers():
                dist.broadcast(b, src=0, group=self.process_group)
        out = self.module(*args, **kwargs)
        if training and self.find_unused_parameters:
            self._mark_unused(out)
        return out

    @contextmanager
    def no_sync(self):
        """Backward inside this block only accumulates ``.grad`` locally (gradient
        accumulation over micro-batches); the first backward after it averages the sum."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # -- the averaging ---------------------------------------------------------------------
    def _grad_ready(self, param, index: int) -> None:
        """One parameter's gradient is complete: count it in its bucket, and start the
        bucket's all_reduce when it is the last one (at the end with ``overlap=False``)."""
        if not self.require_backward_grad_sync:
            return
        if id(param) in self._ready:
            raise RuntimeError(
                "DistributedDataParallel: a parameter got its gradient twice before the "
                "gradients were averaged: the previous backward left parameters without a "
                f"gradient ({self._unready_names()}). If the forward pass does not use every "
                "parameter, wrap with find_unused_parameters=True")
        self._ready.add(id(param))
        for b in self._launched:  # let MPI move the reductions in flight along (MPI makes
            if b.work is not None:  # progress only inside MPI calls)
                b.work.is_completed()
        bucket = self._buckets[index]
        bucket.remaining -= 1
        if bucket.remaining == 0:
            if self.overlap:
                bucket.work = dist.all_reduce(bucket.pack(), group=self.process_group,
                                              async_op=True)
            self._launched.append(bucket)
            if len(self._launched) == len(self._buckets):
                self._finish()

    def _finish(self) -> None:
        """Every bucket is ready: wait for the reductions and write the averages."""
        for bucket in self._launched:
            if bucket.work is None:  # overlap=False: the reductions start now
                bucket.work = dist.all_reduce(bucket.pack(), group=self.process_group,
                                              async_op=True)
        for bucket in self._launched:
            bucket.work.wait()
            bucket.unpack(self.world_size)
            bucket.work, bucket.remaining = None, len(bucket.params)
        self._ready.clear()
        self._launched = []

    def _mark_unused(self, out) -> None:
        """Count the parameters that the graph of ``out`` does not reach as ready now."""
        reached = set()
        for t in _tensors(out):
            if t.grad_fn is not None:
                reached.update(id(n) for n in _count_consumers(t.grad_fn) if n.is_leaf_node)
        for index, bucket in enumerate(self._buckets):
            for _, p in bucket.params:
                if id(p) not in reached and id(p) not in self._ready:
                    self._grad_ready(p, index)

    def _check_finished(self) -> None:
        if self._ready and self.require_backward_grad_sync:
            raise RuntimeError(
                "DistributedDataParallel: expected to have finished reduction in the prior "
                "iteration before starting a new one: these parameters got no gradient in "
                f"the last backward: {self._unready_names()}. If the forward pass does not use "
                "every parameter, wrap with find_unused_parameters=True")

    def _unready_names(self) -> str:
        names = [n for b in self._buckets for n, p in b.params if id(p) not in self._ready]
        return ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")


def _state(module):
    """(name, tensor) for every parameter and buffer: what rank 0 sends at wrap time."""
    return list(module.named_parameters()) + list(module.named_buffers())


def _check_same_model(module, group) -> None:
    """Every rank's (name, shape, dtype) list must be rank 0's; a RuntimeError on every
    rank otherwise (each rank compares the same gathered lists, so all of them raise)."""
    mine = {name: (tuple(t.shape), str(t.dtype)) for name, t in _state(module)}
    everyone = [None] * dist.get_world_size(group)
    dist.all_gather_object(everyone, mine, group=group)
    reference = everyone[0]
    problems = []
    for rank, listed in enumerate(everyone[1:], start=1):
        for name, (shape, dtype) in listed.items():
            if name not in reference:
                problems.append(f"rank {rank} has {name} {shape}, rank 0 has no {name}")
            elif reference[name] != (shape, dtype):
                problems.append(f"{name}: rank {rank} has {dtype} {shape}, rank 0 has "
                                f"{reference[name][1]} {reference[name][0]}")
        problems += [f"rank 0 has {name}, rank {rank} has none" for name in reference
                     if name not in listed]
    if problems:
        raise RuntimeError(
            "DistributedDataParallel: the ranks' models differ, so their gradients cannot be "
            "averaged (every rank must build the same model): " + "; ".join(problems[:10])
            + (f"; and {len(problems) - 10} more" if len(problems) > 10 else ""))


def _make_buckets(params, cap_bytes: float) -> list[_Bucket]:
    """Consecutive parameters of ``reversed(params)`` of one dtype and device, about
    ``cap_bytes`` per bucket (a bucket closes once it reaches the cap)."""
    buckets, current, size, kind = [], [], 0, None
    for name, p in reversed(params):
        this = (p.array.dtype, device_of(p.array))
        if current and (this != kind or size >= cap_bytes):
            buckets.append(_Bucket(current))
            current, size = [], 0
        current.append((name, p))
        size += p.array.nbytes
        kind = this
    if current:
        buckets.append(_Bucket(current))
    return buckets


def _tensors(out):
    """The tensors in a forward's output (a tensor, or tuples, lists, dicts of them)."""
    if isinstance(out, Tensor):
        yield out
    elif isinstance(out, (list, tuple)):
        for o in out:
            yield from _tensors(o)
    elif isinstance(out, dict):
        for o in out.values():
            yield from _tensors(o)
