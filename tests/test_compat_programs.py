"""PyTorch programs written elsewhere run unchanged: only their imports are changed.

Each program in tests/compat/ is ordinary PyTorch code in a style people write (a GPT
like nanoGPT's with a DataLoader loop and top-k sampling; an encoder-decoder like the
Annotated Transformer's with KLDivLoss label smoothing and a LambdaLR warm-up; the
beginner tutorial's classifier with Flatten, CrossEntropyLoss, SGD and RMSprop; a custom
torch.autograd.Function). The test runs each one twice, with real PyTorch and with its
import lines pointed at tinytorch (``import torch`` -> ``import tinytorch as torch``, and
so on; no other line differs, which the test checks), gives both the same initial
weights, trains a few steps and compares: the losses agree to rel 1e-5.
"""

import re
import types
from pathlib import Path

import numpy as np
import pytest

import tinytorch

HERE = Path(__file__).parent / "compat"
PROGRAMS = {"gpt": 6, "encoder_decoder": 6, "classifier": 3, "custom_function": 20}

IMPORTS = [(re.compile(r"^import torch$", re.M), "import tinytorch as torch"),
           (re.compile(r"^import torch\.([\w.]+) as (\w+)$", re.M), r"import tinytorch.\1 as \2"),
           (re.compile(r"^from torch(\.[\w.]+)? import ", re.M), r"from tinytorch\1 import ")]


def to_tinytorch(source: str) -> str:
    """The program with its import lines pointed at tinytorch, and nothing else changed."""
    for pattern, replacement in IMPORTS:
        source = pattern.sub(replacement, source)
    return source


def load(name: str, library: str):
    source = (HERE / f"{name}.py").read_text(encoding="utf-8")
    if library == "tinytorch":
        changed = to_tinytorch(source)
        differ = [(a, b) for a, b in zip(source.splitlines(), changed.splitlines()) if a != b]
        assert differ and all(a.startswith(("import torch", "from torch")) for a, _ in differ)
        source = changed
    module = types.ModuleType(f"compat_{name}_{library}")
    exec(compile(source, str(HERE / f"{name}.py"), "exec"), module.__dict__)  # noqa: S102
    return module


def _copy_weights(theirs, ours):
    """The PyTorch program's initial weights into ours (a Module or a dict of tensors)."""
    if isinstance(theirs, dict):
        for key, value in theirs.items():
            ours[key].data = tinytorch.tensor(value.detach().numpy())
        return
    state = {k: tinytorch.tensor(v.detach().cpu().numpy()) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)


def test_only_the_imports_change():
    source = "import torch\nimport torch.nn as nn\nfrom torch.utils.data import DataLoader\n" \
             "x = torch.zeros(2)  # torch stays torch here\n"
    assert to_tinytorch(source) == ("import tinytorch as torch\nimport tinytorch.nn as nn\n"
                                    "from tinytorch.utils.data import DataLoader\n"
                                    "x = torch.zeros(2)  # torch stays torch here\n")


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_runs_unchanged_and_matches_pytorch(name):
    torch = pytest.importorskip("torch")
    reference, ours = load(name, "torch"), load(name, "tinytorch")
    torch_model, our_model = reference.build(), ours.build()
    _copy_weights(torch_model, our_model)
    with np.errstate(all="ignore"):  # the GPT's -inf top-k fill, as in PyTorch
        expected = reference.train(torch_model, PROGRAMS[name])
        got = ours.train(our_model, PROGRAMS[name])
    assert got.keys() == expected.keys()
    np.testing.assert_allclose(got["losses"], expected["losses"], rtol=1e-5, err_msg=name)
    for key, value in expected.items():
        if key == "losses":
            continue
        if isinstance(value, float) or (isinstance(value, list) and value
                                        and isinstance(value[0], float)):
            np.testing.assert_allclose(got[key], value, rtol=1e-4, atol=1e-6, err_msg=key)
        else:
            assert got[key] == value, (key, got[key], value)
    del torch
