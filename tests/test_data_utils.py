"""tinytorch.utils.data against torch.utils.data.

Where PyTorch is deterministic (sequential order, collated shapes and dtypes, lengths,
BatchSampler, random_split sizes, DistributedSampler shards without shuffling, Subset and
ConcatDataset indexing, the errors) the two libraries must agree exactly. Shuffled orders
cannot be compared (different random streams), so their properties are tested instead:
every index once per epoch, same seed same order, a new order every epoch. Then a small
training loop. Worker processes: tests/test_data_workers.py.
"""

from __future__ import annotations

import collections
import itertools
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinytorch
import tinytorch.utils.data as tdata
from tinytorch.utils.data import (
    BatchSampler, ChainDataset, ConcatDataset, DataLoader, DistributedSampler,
    IterableDataset, RandomSampler, SequentialSampler, StackDataset, Subset,
    SubsetRandomSampler, TensorDataset, WeightedRandomSampler, default_collate,
    default_convert, get_worker_info, random_split,
)


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def picture(x):
    """A batch from either library as plain data: tensors as (dtype, shape, values)."""
    if hasattr(x, "dtype") and hasattr(x, "shape") and not isinstance(x, np.ndarray):
        return ("tensor", str(x.dtype).replace("torch.", ""), tuple(x.shape), x.tolist())
    if isinstance(x, dict):
        return (type(x).__name__, {k: picture(v) for k, v in x.items()})
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [picture(v) for v in x])
    return (type(x).__name__, x)


def outcome(fn):
    """fn()'s picture, or the type of the exception it raised."""
    try:
        return picture(fn())
    except Exception as e:  # noqa: BLE001  (the type is what is compared)
        return type(e).__name__


# -- samples of every kind default_collate knows, built the same way for both libraries ----
Point = collections.namedtuple("Point", "x y")
SHAPES = st.lists(st.integers(1, 3), max_size=2).map(tuple)
LEAVES = st.one_of(
    st.sampled_from([("int",), ("float",), ("bool",), ("str",)]),
    st.tuples(st.just("array"), st.sampled_from(["float32", "float64", "int32", "int64", "bool"]),
              SHAPES),
    st.tuples(st.just("npscalar"), st.sampled_from(["float32", "float64", "int64", "bool"])),
    st.tuples(st.just("tensor"), st.sampled_from(["float32", "float64", "int64"]), SHAPES),
)
TEMPLATES = st.recursive(LEAVES, lambda kids: st.one_of(
    st.tuples(st.sampled_from(["list", "tuple"]), st.lists(kids, min_size=1, max_size=3)),
    st.tuples(st.just("dict"), st.dictionaries(st.sampled_from("abc"), kids, min_size=1,
                                               max_size=3)),
    st.tuples(st.just("point"), st.tuples(kids, kids)),
), max_leaves=5)


def make_sample(template, rng, lib):
    kind = template[0]
    if kind in ("list", "tuple"):
        items = [make_sample(t, rng, lib) for t in template[1]]
        return items if kind == "list" else tuple(items)
    if kind == "dict":
        return {k: make_sample(t, rng, lib) for k, t in template[1].items()}
    if kind == "point":
        return Point(*(make_sample(t, rng, lib) for t in template[1]))
    if kind == "int":
        return int(rng.integers(-5, 5))
    if kind == "float":
        return float(rng.integers(-8, 8)) / 4
    if kind == "bool":
        return bool(rng.integers(2))
    if kind == "str":
        return f"s{rng.integers(9)}"
    if kind == "npscalar":
        return np.dtype(template[1]).type(rng.integers(0, 3))
    values = rng.integers(-3, 3, size=template[2]).astype(template[1])
    return values if kind == "array" else lib.tensor(values)


def make_dataset(template, seed, n, lib):
    rng = np.random.default_rng(seed)
    return [make_sample(template, rng, lib) for _ in range(n)]


@settings(max_examples=40)
@given(template=TEMPLATES, seed=st.integers(0, 2**16), n=st.integers(1, 7),
       batch_size=st.one_of(st.none(), st.integers(1, 4)), drop_last=st.booleans())
def test_dataloader_batches_match_pytorch(template, seed, n, batch_size, drop_last):
    """Sequential DataLoader over any nesting of numbers, strings, arrays and tensors: the
    same batches (types, dtypes, shapes, values) and the same len() as PyTorch."""
    torch = pytest.importorskip("torch")
    drop_last = drop_last and batch_size is not None
    ours = DataLoader(make_dataset(template, seed, n, tinytorch), batch_size=batch_size,
                      drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(make_dataset(template, seed, n, torch),
                                         batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert [picture(b) for b in ours] == [picture(b) for b in theirs]


@pytest.mark.parametrize("batch", [
    [1, 2.5], [2.5, 1], [True, 2], [True, False], [np.float32(1), 2.0],
    [np.int32(1), np.int32(2)], [np.int32(1), 2], [np.int8(1), np.uint8(2)], [1, np.float64(2)],
    [np.float16(1), np.int64(2)], [np.bool_(1), np.bool_(0)], [2.5, np.float32(1)],
    [np.array(1.5), np.array(2.5)], ["a", "b"], [b"a", b"b"],
    [[1, 2], [3]], [object()], [np.array(["a"])], [np.array([1, 2]), np.array([3])],
    [collections.OrderedDict(b=1, a=2.0)] * 2, [None, None],
], ids=repr)
def test_default_collate_edge_cases_match_pytorch(torch, batch):
    assert outcome(lambda: default_collate(batch)) == outcome(
        lambda: torch.utils.data.default_collate(batch))


def test_default_collate_of_tensors_of_different_shapes_is_a_runtime_error(torch):
    ours = outcome(lambda: default_collate([tinytorch.zeros(2), tinytorch.zeros(3)]))
    assert ours == outcome(lambda: torch.utils.data.default_collate(
        [torch.zeros(2), torch.zeros(3)])) == "RuntimeError"


def test_default_collate_keeps_the_graph_of_tensors_that_require_grad():
    w = tinytorch.ones(3, requires_grad=True)
    batch = default_collate([w * 2, w * 3])  # (2, 3)
    batch.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [5, 5, 5])


@pytest.mark.parametrize("sample", [np.arange(3), np.float32(2), 3, (np.zeros(2), "a"),
                                    {"x": np.ones(1)}, Point(np.zeros(1), 1)], ids=repr)
def test_default_convert_matches_pytorch(torch, sample):
    assert picture(default_convert(sample)) == picture(torch.utils.data.default_convert(sample))


# -- samplers -----------------------------------------------------------------------------
@given(n=st.integers(0, 30), batch_size=st.integers(1, 8), drop_last=st.booleans())
def test_batch_sampler_matches_pytorch(n, batch_size, drop_last):
    torch = pytest.importorskip("torch")
    ours = BatchSampler(SequentialSampler(range(n)), batch_size, drop_last)
    theirs = torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(range(n)),
                                           batch_size, drop_last)
    assert list(ours) == list(theirs)
    assert len(ours) == len(theirs)


@pytest.mark.parametrize("make", [
    lambda m: m.BatchSampler(range(3), 0, False), lambda m: m.BatchSampler(range(3), 2, 1),
    lambda m: m.BatchSampler(range(3), True, False), lambda m: m.RandomSampler(range(0)),
    lambda m: m.RandomSampler(range(3), replacement=1),
    lambda m: m.RandomSampler(range(3), num_samples=0),
    lambda m: m.WeightedRandomSampler([1.0, 2.0], 0),
    lambda m: m.WeightedRandomSampler([[1.0, 2.0]], 3),
])
def test_sampler_argument_errors_match_pytorch(torch, make):
    assert outcome(lambda: make(tdata)) == outcome(lambda: make(torch.utils.data))


@given(n=st.integers(1, 40), seed=st.integers(0, 2**32))
def test_random_sampler_gives_every_index_once_per_epoch(n, seed):
    sampler = RandomSampler(range(n), generator=tinytorch.Generator().manual_seed(seed))
    for _ in range(2):
        assert sorted(sampler) == list(range(n))
    assert len(sampler) == n


@given(n=st.integers(1, 10), num_samples=st.integers(1, 50), seed=st.integers(0, 2**32))
def test_random_sampler_num_samples_chains_whole_permutations(n, num_samples, seed):
    g = tinytorch.Generator().manual_seed(seed)
    drawn = list(RandomSampler(range(n), num_samples=num_samples, generator=g))
    assert len(drawn) == num_samples
    for start in range(0, num_samples - n + 1, n):  # every full block is a permutation
        assert sorted(drawn[start:start + n]) == list(range(n))
    counts = collections.Counter(drawn)
    assert max(counts.values()) - min(counts.get(i, 0) for i in range(n)) <= 1


@given(n=st.integers(1, 10), num_samples=st.integers(1, 80), seed=st.integers(0, 2**32))
def test_random_sampler_with_replacement_draws_num_samples_in_range(n, num_samples, seed):
    g = tinytorch.Generator().manual_seed(seed)
    sampler = RandomSampler(range(n), replacement=True, num_samples=num_samples, generator=g)
    drawn = list(sampler)
    assert len(drawn) == len(sampler) == num_samples
    assert all(0 <= i < n for i in drawn)


@given(n=st.integers(2, 40), seed=st.integers(0, 2**32))
def test_same_seed_same_order(n, seed):
    def epoch(**kw):
        return list(RandomSampler(range(n), **kw))
    g1, g2 = (tinytorch.Generator().manual_seed(seed) for _ in range(2))
    assert epoch(generator=g1) == epoch(generator=g2)
    tinytorch.manual_seed(seed)
    first = epoch()
    tinytorch.manual_seed(seed)
    assert epoch() == first


def test_shuffling_uses_tinytorch_generators_not_numpy_global_state():
    state = np.random.get_state()
    tinytorch.manual_seed(3)
    a = [b.tolist() for b in DataLoader(range(20), batch_size=4, shuffle=True)]
    np.random.seed(12345)  # NumPy's global state plays no part
    tinytorch.manual_seed(3)
    b = [b.tolist() for b in DataLoader(range(20), batch_size=4, shuffle=True)]
    assert a == b
    np.random.set_state(state)


@given(n=st.integers(10, 40), batch_size=st.integers(1, 7), seed=st.integers(0, 2**32))
def test_shuffled_loader_epochs_are_permutations_and_differ(n, batch_size, seed):
    loader = DataLoader(range(n), batch_size=batch_size, shuffle=True,
                        generator=tinytorch.Generator().manual_seed(seed))
    epochs = [[i for b in loader for i in b.tolist()] for _ in range(2)]
    assert all(sorted(e) == list(range(n)) for e in epochs)
    assert epochs[0] != epochs[1]  # the generator moves on: a new order every epoch


@given(indices=st.lists(st.integers(0, 100), unique=True, max_size=20), seed=st.integers(0, 99))
def test_subset_random_sampler_permutes_its_indices(indices, seed):
    sampler = SubsetRandomSampler(indices, generator=tinytorch.Generator().manual_seed(seed))
    assert sorted(sampler) == sorted(indices) and len(sampler) == len(indices)


def test_weighted_random_sampler_follows_the_weights():
    g = tinytorch.Generator().manual_seed(0)
    drawn = list(WeightedRandomSampler([1.0, 0.0, 3.0], 4000, generator=g))
    counts = collections.Counter(drawn)
    assert counts[1] == 0 and abs(counts[2] / counts[0] - 3) < 0.4
    once = list(WeightedRandomSampler([1.0, 0.0, 3.0, 2.0], 3, replacement=False, generator=g))
    assert sorted(once) == [0, 2, 3]
    with pytest.raises(RuntimeError, match="without replacement"):
        WeightedRandomSampler([1.0, 0.0], 2, replacement=False)


# -- datasets -------------------------------------------------------------------------------
def test_tensor_dataset_matches_pytorch(torch):
    x, y = np.arange(12).reshape(6, 2), np.arange(6) * 10
    ours = TensorDataset(tinytorch.tensor(x), tinytorch.tensor(y))
    theirs = torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y))
    assert len(ours) == len(theirs) == 6
    for i in (0, 5, -1, slice(1, 4), [0, 2]):
        assert picture(ours[i]) == picture(theirs[i])
    with pytest.raises(AssertionError, match=r"\[3, 4\]"):
        TensorDataset(tinytorch.zeros(3), tinytorch.zeros(4))


def test_concat_dataset_and_subset_index_like_pytorch(torch):
    parts = [list(range(3)), list(range(10, 12)), [], list(range(20, 24))]
    ours, theirs = ConcatDataset(parts), torch.utils.data.ConcatDataset(parts)
    assert len(ours) == len(theirs) and ours.cumulative_sizes == theirs.cumulative_sizes
    for i in range(-len(ours) - 1, len(ours) + 1):
        assert outcome(lambda: ours[i]) == outcome(lambda: theirs[i])
    assert (sub := Subset(parts[0], [1]) + Subset(parts[1], [0])).__class__ is ConcatDataset
    assert list(sub) == [1, 10]
    sub, tsub = Subset(ours, [7, 0, 3]), torch.utils.data.Subset(theirs, [7, 0, 3])
    assert [sub[i] for i in range(3)] == [tsub[i] for i in range(3)] and len(sub) == 3
    assert sub.__getitems__([2, 0]) == tsub.__getitems__([2, 0])
    s, ts = Subset(list("abcdef"), [5, 1]), torch.utils.data.Subset(list("abcdef"), [5, 1])
    assert list(DataLoader(s, batch_size=2)) == list(torch.utils.data.DataLoader(ts, batch_size=2))


def test_subset_subclass_overriding_only_getitem_is_refused_like_pytorch(torch):
    def make(base):
        cls = type("Mine", (base,), {"__getitem__": lambda self, i: 0})
        return cls(range(3), [0])
    assert outcome(lambda: make(Subset)) == outcome(
        lambda: make(torch.utils.data.Subset)) == "NotImplementedError"


def test_stack_and_chain_datasets():
    a, b = list(range(3)), list("xyz")
    assert StackDataset(a, b)[1] == (1, "y")
    assert StackDataset(num=a, ch=b)[2] == {"num": 2, "ch": "z"}
    with pytest.raises(ValueError, match="Size mismatch"):
        StackDataset(a, b[:2])
    chain = Stream(0, 3) + Stream(10, 12)
    assert isinstance(chain, ChainDataset) and list(chain) == [0, 1, 2, 10, 11] and len(chain) == 5


@settings(max_examples=60)
@given(n=st.integers(0, 40), weights=st.lists(st.integers(0, 9), min_size=1, max_size=5),
       as_fractions=st.booleans())
def test_random_split_sizes_match_pytorch(n, weights, as_fractions):
    """Counts, or fractions with PyTorch's remainder rule (round-robin from the first split),
    the same warnings for empty splits, the same errors; the subsets partition the data."""
    torch = pytest.importorskip("torch")
    total = sum(weights)
    if as_fractions:
        lengths = [w / total for w in weights] if total else [0.0] * len(weights)
    else:
        lengths = [w * n // total for w in weights] if total else [0] * len(weights)
        lengths[0] += n - sum(lengths)

    def run(split, **kw):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                parts = split(range(n), lengths, **kw)
            except (ValueError, TypeError) as e:
                return type(e).__name__, None
        return ([len(p) for p in parts], len(caught)), parts

    ours, parts = run(random_split, generator=tinytorch.Generator().manual_seed(0))
    theirs, _ = run(torch.utils.data.random_split)
    assert ours == theirs
    if parts is not None:
        assert sorted(i for p in parts for i in p) == list(range(n))


def test_random_split_examples_from_the_docstring():
    g = tinytorch.Generator().manual_seed(1)
    assert [len(p) for p in random_split(range(10), [0.33, 0.33, 0.34], generator=g)] == [4, 3, 3]
    with pytest.raises(ValueError, match="sum to 9"):
        random_split(range(10), [3, 6])


# -- DistributedSampler ---------------------------------------------------------------------
@given(n=st.integers(0, 40), replicas=st.integers(1, 7), drop_last=st.booleans())
def test_distributed_sampler_shards_match_pytorch_without_shuffling(n, replicas, drop_last):
    torch = pytest.importorskip("torch")
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = torch.utils.data.DistributedSampler(range(n), replicas, rank, shuffle=False,
                                                     drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
        assert ours.total_size == theirs.total_size


@given(n=st.integers(1, 40), replicas=st.integers(1, 7), drop_last=st.booleans(),
       seed=st.integers(0, 2**20), epoch=st.integers(0, 5))
def test_distributed_sampler_shuffled_shards_cover_the_data_like_pytorch(
        n, replicas, drop_last, seed, epoch):
    """Equal shard sizes (PyTorch's), every index in some shard, padding only by repeats
    of the start of the permutation, and the same permutation in every rank."""
    torch = pytest.importorskip("torch")
    shards = []
    for rank in range(replicas):
        s = DistributedSampler(range(n), replicas, rank, seed=seed, drop_last=drop_last)
        s.set_epoch(epoch)
        shards.append(list(s))
        assert len(shards[-1]) == len(s) == len(torch.utils.data.DistributedSampler(
            range(n), replicas, rank, drop_last=drop_last))
    order = [shards[r][k] for k in range(len(shards[0])) for r in range(replicas)]
    perm = tinytorch.randperm(n, generator=tinytorch.Generator().manual_seed(seed + epoch))
    perm = perm.tolist()
    assert order == (perm * math.ceil(len(order) / n))[:len(order)]
    if not drop_last:
        assert set(order) == set(range(n))


@given(n=st.integers(10, 60), replicas=st.integers(1, 4), seed=st.integers(0, 2**20))
def test_distributed_sampler_epochs_differ_and_repeat(n, replicas, seed):
    sampler = DistributedSampler(range(n), replicas, 0, seed=seed)
    first = list(sampler)
    assert list(sampler) == first  # no set_epoch: the same order again (PyTorch's warning)
    sampler.set_epoch(1)
    assert list(sampler) != first


@pytest.mark.parametrize("kw", [{}, {"num_replicas": 2}, {"rank": 0}])
def test_distributed_sampler_without_world_size_says_to_pass_it(kw):
    with pytest.raises(ValueError, match="num_replicas=WORLD_SIZE, rank=RANK"):
        DistributedSampler(range(4), **kw)


def test_distributed_sampler_checks_the_rank_like_pytorch(torch):
    for rank in (2, -1):
        assert outcome(lambda: DistributedSampler(range(4), 2, rank)) == outcome(
            lambda: torch.utils.data.DistributedSampler(range(4), 2, rank))


# -- DataLoader -----------------------------------------------------------------------------
class Stream(IterableDataset):
    """start..end-1, split between worker processes as PyTorch's documentation does."""

    def __init__(self, start, end):
        self.start, self.end = start, end

    def __iter__(self):
        info = get_worker_info()
        start, end = self.start, self.end
        if info is not None:
            per = math.ceil((end - start) / info.num_workers)
            start = start + info.id * per
            end = min(start + per, end)
        return iter(range(start, end))

    def __len__(self):
        return self.end - self.start


@pytest.mark.parametrize("batch_size,drop_last", [(None, False), (1, False), (3, False),
                                                  (3, True), (20, False)])
def test_iterable_dataset_batches_match_pytorch(torch, batch_size, drop_last):
    class TorchStream(torch.utils.data.IterableDataset):
        __iter__, __len__, __init__ = Stream.__iter__, Stream.__len__, Stream.__init__
    ours = DataLoader(Stream(3, 10), batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(TorchStream(3, 10), batch_size=batch_size,
                                         drop_last=drop_last)
    assert [picture(b) for b in ours] == [picture(b) for b in theirs]
    assert len(ours) == len(theirs)


@pytest.mark.parametrize("kwargs", [
    {"batch_size": 0}, {"num_workers": -1}, {"timeout": -1}, {"prefetch_factor": 2},
    {"persistent_workers": True}, {"shuffle": True, "sampler": [0, 1]},
    {"batch_sampler": [[0]], "batch_size": 2}, {"batch_sampler": [[0]], "shuffle": True},
    {"batch_size": None, "drop_last": True}, {"multiprocessing_context": "spawn"},
    {"num_workers": 1, "multiprocessing_context": "nope"},
    {"num_workers": 1, "multiprocessing_context": 3}, {"num_workers": 1, "prefetch_factor": -1},
], ids=repr)
def test_dataloader_argument_errors_match_pytorch(torch, kwargs):
    ours = outcome(lambda: DataLoader(range(4), **kwargs))
    assert ours == outcome(lambda: torch.utils.data.DataLoader(range(4), **kwargs))
    assert ours in ("ValueError", "TypeError")


@pytest.mark.parametrize("kwargs", [{"shuffle": True}, {"sampler": [0]}, {"batch_sampler": [[0]]}])
def test_iterable_dataset_refuses_samplers_like_pytorch(torch, kwargs):
    assert outcome(lambda: DataLoader(Stream(0, 3), **kwargs)) == "ValueError"


def test_dataloader_with_sampler_batch_sampler_and_collate_fn(torch):
    data = [np.full(2, i, np.float32) for i in range(7)]
    for kw in ({"sampler": [6, 0, 3], "batch_size": 2},
               {"batch_sampler": [[1, 2], [5], [0, 6, 4]]},
               {"batch_size": 3, "collate_fn": lambda b: len(b)}):
        ours = DataLoader(data, **kw)
        theirs = torch.utils.data.DataLoader(data, **kw)
        assert [picture(b) for b in ours] == [picture(b) for b in theirs]


def test_dataloader_options_are_fixed_after_init_and_compat_options_are_accepted():
    loader = DataLoader(range(6), batch_size=2, num_workers=1, pin_memory=True,
                        persistent_workers=True, prefetch_factor=4, pin_memory_device="cuda",
                        in_order=False)
    assert len(loader) == 3
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 3
    with pytest.raises(ValueError, match="timeout=2"):
        iter(DataLoader(range(3), timeout=2))
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3], [4, 5]]


# -- use ----------------------------------------------------------------------------------
def test_import_paths():
    import tinytorch.utils.data as data  # noqa: PLC0415

    assert tinytorch.utils.data is data and data.DataLoader is DataLoader
    assert get_worker_info() is None


def test_a_training_loop_over_a_dataloader_fits_a_line():
    """The loop every PyTorch tutorial writes: shuffled mini-batches, SGD, a few epochs."""
    tinytorch.manual_seed(0)
    x = tinytorch.randn(256, 3)
    y = x @ tinytorch.tensor([[2.0], [-1.0], [0.5]]) + 0.3  # (256, 1)
    train, val = random_split(TensorDataset(x, y), [0.75, 0.25])
    loader = DataLoader(train, batch_size=32, shuffle=True, drop_last=True)
    assert len(loader) == 6
    model = tinytorch.nn.Linear(3, 1)
    opt = tinytorch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = tinytorch.nn.MSELoss()
    for _ in range(15):
        for xb, yb in loader:  # xb (32, 3), yb (32, 1)
            assert xb.shape == (32, 3) and yb.shape == (32, 1)
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
    with tinytorch.no_grad():
        xv, yv = next(iter(DataLoader(val, batch_size=len(val))))
        assert loss_fn(model(xv), yv).item() < 1e-3


def test_batches_of_itertools_style_samplers():
    """Any iterable works as a sampler (a generator of indices has no len, as in PyTorch)."""
    loader = DataLoader(list(range(10)), sampler=itertools.islice(itertools.count(), 3, 6))
    assert [b.tolist() for b in loader] == [[3], [4], [5]]
    with pytest.raises(TypeError):
        len(loader)


@pytest.mark.parametrize("module", ["__init__", "collate", "dataset", "distributed", "sampler"])
def test_docstring_examples_run(module):
    import doctest  # noqa: PLC0415
    import importlib  # noqa: PLC0415

    name = "tinytorch.utils.data" + ("" if module == "__init__" else "." + module)
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
