"""The fast-paths switch: the textbook path and the fused path are the same model.

``tinytorch.fast_paths(False)`` makes every function that has a fused implementation
take its composed one (F.linear, F.layer_norm, F.cross_entropy,
F.linear_cross_entropy, the transformer's attention and ``Transformer.loss``, which
then neither packs padding away nor fuses its output layer).

1. A whole translator in float64 (post-LN and pre-LN, tied and untied embeddings,
   padding in source and target): the loss and every parameter's gradient agree
   between the two modes to 1e-10.
2. What runs: in plain mode a training step (forward and backward) runs Softmax,
   LogSoftmax, Matmul and the composed layer norm's primitives, and no fast-path op;
   in fast mode it runs the fused ops and no composed softmax.
3. The switch itself: thread-local, a context manager, a decorator and a setter.
"""

import threading

import numpy as np
import pytest

import tinytorch as tt
from tinytorch.autograd.function import op_classes
from transformer import Transformer, TransformerConfig, shift_right

PAD, BOS, V = 0, 1, 13


def _model(tie: bool, norm_first: bool, seed=0, dropout=0.0):
    cfg = TransformerConfig(src_vocab_size=V, tgt_vocab_size=V, d_model=8, nhead=2,
                            num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16,
                            dropout=dropout, max_len=12, pad_id=PAD, norm_first=norm_first,
                            tie_embeddings=tie)
    tt.manual_seed(seed)
    model = Transformer(cfg).double()
    rng = np.random.default_rng(seed)
    with tt.no_grad():  # random everything: LayerNorm's ones and zeros would hide bugs
        for p in model.parameters():
            p.array[...] = rng.standard_normal(p.shape) * 0.3
    return model


def _batch(seed=0):
    rng = np.random.default_rng(seed)
    src = rng.integers(3, V, size=(3, 6))
    src[1, 4:] = PAD
    src[2, 2:] = PAD
    tgt = rng.integers(3, V, size=(3, 5))
    tgt[0, 3:] = PAD
    tgt[2, 1:] = PAD
    tgt = tt.tensor(tgt)
    return tt.tensor(src), shift_right(tgt, BOS), tgt


def _loss_and_grads(model, fast: bool, batch):
    model.zero_grad()
    with tt.fast_paths(fast):
        loss = model.loss(*batch, label_smoothing=0.1)
        loss.backward()
    return loss.item(), {n: p.grad.numpy().copy() for n, p in model.named_parameters()}


@pytest.mark.parametrize("tie", [True, False])
@pytest.mark.parametrize("norm_first", [False, True])
def test_whole_model_loss_and_gradients_equal_in_both_modes(tie, norm_first):
    model = _model(tie, norm_first)
    batch = _batch()
    fast_loss, fast = _loss_and_grads(model, True, batch)
    plain_loss, plain = _loss_and_grads(model, False, batch)
    assert abs(fast_loss - plain_loss) <= 1e-10 * max(1.0, abs(plain_loss))
    assert fast.keys() == plain.keys()
    for name, g in plain.items():
        assert np.abs(g).max() > 0, f"{name}: no gradient (the check would be vacuous)"
        np.testing.assert_allclose(fast[name], g, rtol=1e-10, atol=1e-12, err_msg=name)


def test_plain_loss_is_literally_cross_entropy_of_the_logits():
    """With fast paths off, model.loss is cross_entropy(model(src, tgt_in)) on the padded
    layout: the very same graph, so the very same bits."""
    model = _model(True, False)
    src, tgt_in, tgt_out = _batch(1)
    with tt.fast_paths(False):
        loss = model.loss(src, tgt_in, tgt_out, label_smoothing=0.1)
        logits = model(src, tgt_in)
        ref = tt.nn.functional.cross_entropy(logits.reshape(-1, V), tgt_out.reshape(-1),
                                             ignore_index=PAD, label_smoothing=0.1)
    assert loss.item() == ref.item()


# -- what a training step runs ----------------------------------------------------------------

def _ops_of_one_step(monkeypatch, fast: bool):
    """The op classes whose forward, and whose backward, ran in one training step."""
    ran = {"forward": set(), "backward": set()}

    def spy(cls, phase, original):
        def wrapper(self, *args, **kwargs):
            ran[phase].add(cls)
            return original(self, *args, **kwargs)
        return wrapper

    for cls in op_classes():
        for phase in ("forward", "backward"):
            if phase in vars(cls):
                monkeypatch.setattr(cls, phase, spy(cls, phase, vars(cls)[phase]))
    model = _model(True, False, dropout=0.1).float()
    optimizer = tt.optim.Adam(model.parameters(), lr=1e-3)
    batch = _batch(2)
    with tt.fast_paths(fast):
        loss = model.loss(*batch, label_smoothing=0.1)
        optimizer.zero_grad()
        loss.backward()
        tt.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    monkeypatch.undo()
    return {phase: {c.__name__ for c in classes} for phase, classes in ran.items()}, \
        {c.__name__ for c in op_classes() if c.fast_path}


def test_plain_step_runs_the_textbook_ops_and_no_fast_path_op(monkeypatch):
    ran, fast_only = _ops_of_one_step(monkeypatch, fast=False)
    assert {"Linear", "LayerNorm", "CrossEntropy", "LinearCrossEntropy",
            "ScaledDotProductAttention", "PackRows", "UnpackRows"} <= fast_only
    for phase in ("forward", "backward"):
        assert not ran[phase] & fast_only, (phase, ran[phase] & fast_only)
        # attention's softmax, the loss's log-softmax, every projection's matmul, and
        # the composed layer norm (mean, pow, sqrt, div...)
        assert {"Softmax", "LogSoftmax", "Matmul", "NLLLoss", "Mean", "Pow", "Sqrt",
                "Div"} <= ran[phase], (phase, sorted(ran[phase]))


def test_fast_step_runs_the_fused_ops_and_no_composed_softmax(monkeypatch):
    ran, fast_only = _ops_of_one_step(monkeypatch, fast=True)
    for phase in ("forward", "backward"):
        assert {"Linear", "LayerNorm", "LinearCrossEntropy",
                "ScaledDotProductAttention"} <= ran[phase], (phase, sorted(ran[phase]))
        assert not {"Softmax", "LogSoftmax", "CrossEntropy", "Matmul"} & ran[phase]


@pytest.mark.parametrize("call, fused, composed_op", [
    (lambda x: tt.nn.functional.linear(x, x[:3]), "Linear", "Matmul"),
    (lambda x: tt.nn.functional.layer_norm(x, (4,)), "LayerNorm", "Sqrt"),
    (lambda x: tt.nn.functional.cross_entropy(x, tt.tensor([0, 3])), "CrossEntropy",
     "LogSoftmax"),
])
def test_each_public_function_picks_its_path_from_the_switch(call, fused, composed_op):
    x = tt.randn(2, 4, requires_grad=True)

    def names(out):  # every node of the graph behind out
        seen, todo = set(), [out.grad_fn]
        while todo:
            node = todo.pop()
            if node is None or getattr(node, "is_leaf_node", False) or node in seen:
                continue
            seen.add(node)
            todo.extend(node.parents)
        return {type(n).__name__ for n in seen}

    assert fused in names(call(x))
    with tt.fast_paths(False):
        plain = names(call(x))
    assert fused not in plain and composed_op in plain


# -- the switch ---------------------------------------------------------------------------------

def test_switch_is_a_context_manager_a_decorator_and_a_setter():
    assert tt.fast_paths_enabled()
    with tt.fast_paths(False):
        assert not tt.fast_paths_enabled()
        with tt.fast_paths(True):
            assert tt.fast_paths_enabled()
        assert not tt.fast_paths_enabled()
    assert tt.fast_paths_enabled()

    @tt.fast_paths(False)
    def plain():
        return tt.fast_paths_enabled()

    assert plain() is False and tt.fast_paths_enabled()
    tt.set_fast_paths(False)
    try:
        assert not tt.fast_paths_enabled()
    finally:
        tt.set_fast_paths(True)
    with tt.set_fast_paths(False):
        assert not tt.fast_paths_enabled()
    assert tt.fast_paths_enabled()
    with pytest.raises(TypeError, match=r"fast_paths: give the mode"):
        tt.fast_paths(plain)


def test_switch_is_per_thread():
    seen = []
    with tt.fast_paths(False):
        thread = threading.Thread(target=lambda: seen.append(tt.fast_paths_enabled()))
        thread.start()
        thread.join()
    assert seen == [True]  # another thread keeps its own (default) mode
