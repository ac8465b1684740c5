"""Write chapter 9's lists of PyTorch names: which ones tinytorch has, and which it lacks.

    python docs/make_pytorch_names.py          rewrite the lists in place
    python docs/make_pytorch_names.py --check  exit 1 if a list is out of date

The names checked are the ones PyTorch programs commonly use (``NAMES`` below, grouped by
where they live: ``torch``, ``torch.Tensor``, ``torch.nn``...). For each, the code itself
answers: a name is supported when tinytorch has it at the same place (``hasattr``). The
lists sit between ``<!-- names:start -->`` and ``<!-- names:end -->`` in each chapter of
``CHAPTERS``; the text around them is written by hand. tests/test_pytorch_names.py checks
that the lists are current and, with PyTorch installed, that every name is PyTorch's.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere: import the checkout's code
    sys.path.insert(0, str(ROOT))

CHAPTERS = {"docs/09-pytorch-names.md": "en", "docs/es/09-pytorch-names.md": "es"}
START, END = "<!-- names:start -->", "<!-- names:end -->"

#: Where a group of names lives in PyTorch (tinytorch's path is the same with "tinytorch"),
#: and the names programs commonly use there.
NAMES = {
    "torch": """
        tensor as_tensor from_numpy zeros ones empty full zeros_like ones_like empty_like
        full_like rand randn randint randperm rand_like randn_like randint_like arange
        linspace logspace eye manual_seed seed initial_seed get_rng_state set_rng_state
        Generator no_grad enable_grad set_grad_enabled is_grad_enabled inference_mode device
        float32 float64 float16 bfloat16 int64 int32 int16 int8 uint8 bool long float double
        half int short Size Tensor LongTensor FloatTensor DoubleTensor BoolTensor is_tensor
        is_floating_point numel set_default_dtype get_default_dtype cat concat stack hstack
        vstack split chunk squeeze unsqueeze reshape flatten transpose permute t narrow where
        masked_fill gather scatter scatter_add index_select masked_select nonzero topk sort
        argsort argmax argmin max min amax amin sum mean std var prod cumsum cumprod
        logsumexp softmax log_softmax exp log log1p expm1 sqrt rsqrt abs sign sin cos tan
        tanh sigmoid relu clamp clip clamp_min clamp_max pow square reciprocal neg add sub
        mul div matmul mm bmm einsum addmm baddbmm outer dot norm allclose isclose equal eq
        ne lt le gt ge logical_and logical_or logical_not isnan isinf isfinite nan_to_num
        floor ceil round trunc maximum minimum tril triu flip roll lerp repeat_interleave
        multinomial bernoulli normal save load autocast cuda backends linalg unique diag
        meshgrid broadcast_to erf atan2 cdist kron count_nonzero set_printoptions compile
    """,
    "torch.Tensor": """
        backward detach detach_ item tolist numpy to cpu cuda float double long int bool half
        type type_as size dim numel view view_as reshape reshape_as contiguous transpose
        permute t T mT squeeze unsqueeze expand expand_as repeat flatten unflatten split chunk
        sum mean std var max min argmax argmin softmax log_softmax exp log sqrt abs clamp pow
        matmul masked_fill masked_fill_ scatter scatter_ scatter_add_ index_fill_ fill_ zero_
        add_ sub_ mul_ div_ copy_ clone requires_grad_ retain_grad register_hook grad is_leaf
        grad_fn requires_grad device dtype shape ndim topk sort argsort cumsum gather
        index_select nonzero new_zeros new_ones new_tensor new_full eq ne any all norm lerp
        flip roll tril triu uniform_ normal_ is_floating_point element_size apply_ data
        register_post_accumulate_grad_hook
    """,
    "torch.nn": """
        Module Parameter Linear Bilinear Embedding LayerNorm RMSNorm BatchNorm1d BatchNorm2d
        GroupNorm Dropout ReLU GELU SiLU Tanh Sigmoid Softmax LogSoftmax LeakyReLU ELU Identity
        Flatten Unflatten Sequential ModuleList ModuleDict ParameterList ParameterDict
        CrossEntropyLoss NLLLoss MSELoss L1Loss SmoothL1Loss HuberLoss BCELoss
        BCEWithLogitsLoss KLDivLoss LinearCrossEntropyLoss MultiheadAttention Transformer
        TransformerEncoderLayer TransformerDecoderLayer Conv1d Conv2d MaxPool2d AvgPool2d
        AdaptiveAvgPool2d LSTM GRU RNN init utils
    """,
    "torch.nn.functional": """
        linear relu gelu silu tanh sigmoid softmax log_softmax leaky_relu elu softplus glu
        logsigmoid cross_entropy nll_loss mse_loss l1_loss smooth_l1_loss huber_loss
        binary_cross_entropy binary_cross_entropy_with_logits kl_div linear_cross_entropy
        dropout embedding layer_norm group_norm batch_norm rms_norm pad normalize one_hot
        scaled_dot_product_attention cosine_similarity conv1d conv2d max_pool2d avg_pool2d
        interpolate
    """,
    "torch.nn.init": """
        uniform_ normal_ constant_ ones_ zeros_ xavier_uniform_ xavier_normal_
        kaiming_uniform_ kaiming_normal_ trunc_normal_ orthogonal_ calculate_gain
    """,
    "torch.nn.utils": "clip_grad_norm_ clip_grad_value_ parameters_to_vector",
    "torch.optim": """
        Optimizer SGD Adam AdamW RMSprop Adagrad Adamax NAdam RAdam Adadelta LBFGS lr_scheduler
    """,
    "torch.optim.lr_scheduler": """
        LRScheduler LambdaLR StepLR MultiStepLR ExponentialLR CosineAnnealingLR OneCycleLR
        CosineAnnealingWarmRestarts ReduceLROnPlateau LinearLR ConstantLR SequentialLR
        ChainedScheduler MultiplicativeLR PolynomialLR CyclicLR
    """,
    "torch.utils.data": """
        Dataset IterableDataset TensorDataset DataLoader Subset ConcatDataset ChainDataset
        StackDataset random_split RandomSampler SequentialSampler BatchSampler
        SubsetRandomSampler WeightedRandomSampler DistributedSampler default_collate
        get_worker_info
    """,
    "torch.autograd": """
        grad backward Function gradcheck gradgradcheck no_grad enable_grad set_grad_enabled
        detect_anomaly
    """,
    "torch.cuda": "is_available device_count manual_seed manual_seed_all current_device synchronize",
    "torch.distributed": """
        init_process_group destroy_process_group is_available is_initialized is_mpi_available
        get_rank get_world_size get_backend ReduceOp all_reduce broadcast all_gather
        all_gather_object broadcast_object_list barrier reduce gather scatter reduce_scatter
        all_to_all send recv new_group
    """,
    "torch.nn.parallel": "DistributedDataParallel DataParallel",
}

TEXT = {
    "en": {"note": "Generated by `python docs/make_pytorch_names.py` from the code (a name is "
                   "supported when tinytorch has it at the same place): edit the list of names "
                   "there, not this text.",
           "yes": "Supported", "no": "Not here"},
    "es": {"note": "Generado por `python docs/make_pytorch_names.py` a partir del código (un "
                   "nombre está soportado cuando tinytorch lo tiene en el mismo sitio): la lista "
                   "de nombres se edita allí, no en este texto.",
           "yes": "Soportados", "no": "No están"},
}


def names(place: str) -> list[str]:
    return NAMES[place].split()


def ours(place: str):
    """The tinytorch object at ``place`` (a module, or the Tensor class)."""
    if place == "torch.Tensor":
        import tinytorch

        return tinytorch.Tensor
    return importlib.import_module("tinytorch" + place[len("torch"):])


def split(place: str) -> tuple[list[str], list[str]]:
    """(supported, missing) names of ``place``, in the list's order."""
    obj = ours(place)
    have = [n for n in names(place) if hasattr(obj, n)]
    return have, [n for n in names(place) if n not in have]


def block(lang: str) -> str:
    text = TEXT[lang]
    out = [START, f"<!-- {text['note']} -->", ""]
    for place in NAMES:
        have, missing = split(place)
        out.append(f"### `{place}`")
        out.append("")
        out.append(f"{text['yes']} ({len(have)}): " + ", ".join(f"`{n}`" for n in have))
        out.append("")
        out.append(f"{text['no']} ({len(missing)}): "
                   + (", ".join(f"`{n}`" for n in missing) if missing else "—"))
        out.append("")
    out.append(END)
    return "\n".join(out)


def rewrite(text: str, lang: str) -> str:
    start, end = text.index(START), text.index(END) + len(END)
    return text[:start] + block(lang) + text[end:]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--check", action="store_true", help="exit 1 if a list is out of date")
    a = p.parse_args(argv)
    stale = []
    for rel, lang in CHAPTERS.items():
        path = ROOT / rel
        text = path.read_text(encoding="utf-8")
        new = rewrite(text, lang)
        if new != text:
            stale.append(rel)
            if not a.check:
                path.write_text(new, encoding="utf-8")
                print(f"rewrote {rel}")
    if a.check and stale:
        print(f"out of date: {', '.join(stale)} (run python docs/make_pytorch_names.py)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
