"""docs/09-pytorch-names.md lists the PyTorch names tinytorch has and lacks, written from the
code by docs/make_pytorch_names.py: the lists are current, and every name is PyTorch's."""

import importlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docs"))
import make_pytorch_names as gen  # noqa: E402


def test_lists_are_current():
    assert gen.main(["--check"]) == 0, "run python docs/make_pytorch_names.py"


def test_check_mode_reports_a_stale_list(tmp_path, monkeypatch):
    for rel in gen.CHAPTERS:
        target = tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        text = (gen.ROOT / rel).read_text(encoding="utf-8")
        target.write_text(text.replace("`tensor`, ", "", 1), encoding="utf-8")
    monkeypatch.setattr(gen, "ROOT", tmp_path)
    assert gen.main(["--check"]) == 1
    assert gen.main([]) == 0 and gen.main(["--check"]) == 0


def test_what_the_chapter_says_is_missing_is_missing():
    """The hand-written 'not supported' list agrees with the code."""
    import tinytorch
    from tinytorch import nn

    for name in ("Conv2d", "LSTM", "BatchNorm1d", "MultiheadAttention", "Transformer"):
        assert not hasattr(nn, name), name
    assert not hasattr(tinytorch, "compile")
    assert tinytorch.zeros(1).device != "cpu" and tinytorch.zeros(1).device.type == "cpu"
    with pytest.raises(NotImplementedError, match="create_graph"):
        x = tinytorch.ones(2, requires_grad=True)
        tinytorch.autograd.grad((x * x).sum(), x, create_graph=True)


def test_every_listed_name_is_pytorchs():
    torch = pytest.importorskip("torch")
    for place in gen.NAMES:
        obj = torch.Tensor if place == "torch.Tensor" else importlib.import_module(place)
        missing = [n for n in gen.names(place) if not hasattr(obj, n)]
        assert not missing, f"{place} has no {missing} in PyTorch {torch.__version__}"
