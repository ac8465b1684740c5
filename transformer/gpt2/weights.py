"""GPT-2's files (Hugging Face's layout) -> our ``DecoderOnly`` with GPT-2's weights.

A GPT-2 directory (e.g. https://huggingface.co/openai-community/gpt2) holds

    config.json        the sizes: n_embd 768, n_head 12, n_layer 12, n_positions 1024, ...
    model.safetensors  the weights: a JSON header (names, shapes, dtypes), then raw arrays
    vocab.json         the tokenizer's pieces (bpe.py)
    merges.txt         the tokenizer's merges (bpe.py)

GPT-2 *is* the decoder-only transformer of model.py; ``gpt2_config`` says which settings.
Its weights get our names by this table (``weight_names``):

    GPT-2 (Hugging Face)        ours (DecoderOnly)                              how
    wte                         embed.embedding                                 copied
    wpe                         pos.embedding                                   copied
    h.{i}.ln_1                  blocks.layers.{i}.norm1                         copied
    h.{i}.attn.c_attn           blocks.layers.{i}.self_attn.{q,k,v}_proj        split in 3, transposed
    h.{i}.attn.c_proj           blocks.layers.{i}.self_attn.out_proj            transposed
    h.{i}.ln_2                  blocks.layers.{i}.norm2                         copied
    h.{i}.mlp.c_fc              blocks.layers.{i}.feed_forward.linear1          transposed
    h.{i}.mlp.c_proj            blocks.layers.{i}.feed_forward.linear2          transposed
    ln_f                        blocks.norm                                     copied
    (wte again)                 lm_head                                         tied to embed

Why transposed: GPT-2's layers are "Conv1D" (from OpenAI's TensorFlow code), which
compute ``y = x @ W + b`` with W stored (in, out). ``nn.Linear`` computes ``y = x @ W.T + b``
with W stored (out, in). Same map, the matrix stored the other way round. And c_attn is
the query, key and value projections side by side: W (d, 3d) = [W_q | W_k | W_v].

Safetensors, never a pickle: ``pytorch_model.bin`` is a Python pickle, which runs code
when loaded; this project does not open one and says how to convert it. Reading uses
the `safetensors` package's NumPy API, one tensor at a time, copied straight into the
model's parameters: loading GPT-2 (124M parameters) holds the model and one tensor.
"""

from __future__ import annotations

import json
import os

import numpy as np

import tinytorch as tt
from tinytorch.serialization import CheckpointError

from ..model import DecoderOnly, TransformerConfig
from .bpe import GPT2Tokenizer

WEIGHTS = "model.safetensors"
SHARDED = "model.safetensors.index.json"  # big models: the weights in several files
PICKLE = "pytorch_model.bin"

#: GPT-2's activation names (Hugging Face's ``activation_function``) -> ours.
#: "gelu_new" is GPT-2's: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
ACTIVATIONS = {"gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh", "gelu": "gelu",
               "relu": "relu"}

#: The values ``transformers.GPT2Config`` takes when config.json leaves a key out.
DEFAULTS = {"vocab_size": 50257, "n_positions": 1024, "n_embd": 768, "n_layer": 12,
            "n_head": 12, "n_inner": None, "activation_function": "gelu_new",
            "layer_norm_epsilon": 1e-5, "eos_token_id": 50256, "tie_word_embeddings": True,
            "scale_attn_weights": True, "scale_attn_by_inverse_layer_idx": False,
            "add_cross_attention": False}

def _not_a_weight(name: str) -> bool:
    """Tensors in GPT-2 files that we do not load: the causal mask that old versions kept
    as a buffer ("h.0.attn.bias", "h.0.attn.masked_bias"), and lm_head (tied to wte)."""
    return name.endswith((".attn.bias", ".attn.masked_bias")) or name == "lm_head.weight"


class ModelFilesError(CheckpointError):
    """A GPT-2 directory that cannot be read: the message names the file, what is wrong
    and what to do (the CLI prints it as one line and exits with status 2)."""


def _convert_hint(path: str) -> str:
    code = (f"from transformers import GPT2LMHeadModel; "
            f"GPT2LMHeadModel.from_pretrained('{path}').save_pretrained('{path}')")
    return f'python -c "{code}"'


def _check_dir(path: str) -> None:
    files = "config.json, model.safetensors, vocab.json, merges.txt"
    if not os.path.exists(path):
        raise ModelFilesError(f"{path}: no such directory; give a directory with GPT-2's files "
                              f"({files}), e.g. from huggingface.co/openai-community/gpt2")
    if not os.path.isdir(path):
        raise ModelFilesError(f"{path}: not a directory; give the directory that holds {files}")
    if not os.path.exists(os.path.join(path, WEIGHTS)) and \
            not os.path.exists(os.path.join(path, SHARDED)):
        if os.path.exists(os.path.join(path, PICKLE)):
            raise ModelFilesError(
                f"{path} has only {PICKLE} (a pickle, which this project never loads): convert "
                f"it to {WEIGHTS} first, e.g. {_convert_hint(path)}")
        raise ModelFilesError(f"{path}: no {WEIGHTS} in it; download GPT-2's {WEIGHTS} "
                              f"(with {files}) into it")


def read_config(path: str) -> dict:
    """``path/config.json`` as a dict, with GPT2Config's defaults for the keys it leaves out."""
    file = os.path.join(path, "config.json")
    try:
        with open(file, encoding="utf-8") as f:
            config = json.load(f)
    except FileNotFoundError:
        raise ModelFilesError(f"{file}: no such file; a GPT-2 directory has config.json "
                              f"beside {WEIGHTS}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ModelFilesError(f"{file}: not a JSON file ({e})") from None
    if not isinstance(config, dict):
        raise ModelFilesError(f"{file}: expected a JSON object, got {type(config).__name__}")
    if config.get("model_type", "gpt2") != "gpt2":
        raise ModelFilesError(f"{file}: model_type is {config['model_type']!r}; this loads "
                              f"GPT-2 models only (model_type 'gpt2')")
    return {**DEFAULTS, **config}


def gpt2_config(hf: dict) -> TransformerConfig:
    """GPT-2's settings (config.json, as ``read_config`` returns it) as our config.

    GPT-2 is ``DecoderOnly`` with learned positions, pre-LN layers and a final LayerNorm,
    GELU (tanh approximation), the output layer tied to the embedding, no sqrt(d_model)
    scale on the embeddings, and no dropout at inference.
    """
    def refuse(key, why):
        return ModelFilesError(f"config.json: {key} = {hf.get(key)!r}: {why}")

    if hf["activation_function"] not in ACTIVATIONS:
        raise refuse("activation_function", f"expected one of {', '.join(ACTIVATIONS)}")
    for key, want in (("tie_word_embeddings", True), ("scale_attn_weights", True),
                      ("scale_attn_by_inverse_layer_idx", False), ("add_cross_attention", False)):
        if hf[key] is not want:
            raise refuse(key, f"this GPT-2 loader supports {want} only (GPT-2's setting)")
    eos = hf["eos_token_id"]
    try:
        return TransformerConfig(
            src_vocab_size=hf["vocab_size"], tgt_vocab_size=hf["vocab_size"],
            d_model=hf["n_embd"], nhead=hf["n_head"],
            num_encoder_layers=1,  # (DecoderOnly has no encoder)
            num_decoder_layers=hf["n_layer"],
            dim_feedforward=hf["n_inner"] or 4 * hf["n_embd"],
            dropout=0.0, activation=ACTIVATIONS[hf["activation_function"]],
            norm_first=True, final_norm=True, max_len=hf["n_positions"],
            pad_id=eos if isinstance(eos, int) and 0 <= eos < hf["vocab_size"] else 0,
            tie_embeddings=True, positional="learned",
            layer_norm_eps=hf["layer_norm_epsilon"], scale_embeddings=False)
    except (ValueError, TypeError) as e:  # TransformerConfig names the field and its values
        raise ModelFilesError(f"config.json: {e}") from None


def weight_names(n_layer: int) -> list[tuple[str, str, int | None, bool]]:
    """(our parameter, GPT-2's tensor, which third of it or None, transposed?) for every
    parameter of a GPT-2 ``DecoderOnly``: the table of the module docstring."""
    rows = [("embed.embedding.weight", "wte.weight", None, False),
            ("pos.embedding.weight", "wpe.weight", None, False)]
    for i in range(n_layer):
        ours, theirs = f"blocks.layers.{i}.", f"h.{i}."
        for j, proj in enumerate(("q_proj", "k_proj", "v_proj")):  # c_attn = [q | k | v]
            rows += [(f"{ours}self_attn.{proj}.weight", f"{theirs}attn.c_attn.weight", j, True),
                     (f"{ours}self_attn.{proj}.bias", f"{theirs}attn.c_attn.bias", j, False)]
        for our, their, transposed in (("norm1", "ln_1", False), ("norm2", "ln_2", False),
                                       ("self_attn.out_proj", "attn.c_proj", True),
                                       ("feed_forward.linear1", "mlp.c_fc", True),
                                       ("feed_forward.linear2", "mlp.c_proj", True)):
            rows += [(f"{ours}{our}.weight", f"{theirs}{their}.weight", None, transposed),
                     (f"{ours}{our}.bias", f"{theirs}{their}.bias", None, False)]
    rows += [("blocks.norm.weight", "ln_f.weight", None, False),
             ("blocks.norm.bias", "ln_f.bias", None, False)]
    return rows


class _SafetensorsFiles:
    """The tensors of model.safetensors (or of the shards an index names), read one at a
    time as NumPy arrays, by GPT-2's names with or without the "transformer." prefix."""

    def __init__(self, path: str):
        try:
            from safetensors import SafetensorError, safe_open
        except ImportError:
            raise ModelFilesError(f"reading {WEIGHTS} needs the safetensors package: "
                                  f"pip install -e '.[gpt2]'") from None
        self.error = SafetensorError
        if os.path.exists(os.path.join(path, WEIGHTS)):
            files = [WEIGHTS]
        else:
            index_file = os.path.join(path, SHARDED)
            try:
                with open(index_file, encoding="utf-8") as f:
                    files = sorted(set(json.load(f)["weight_map"].values()))
            except (ValueError, KeyError, TypeError, AttributeError) as e:
                raise ModelFilesError(f"{index_file}: not a safetensors index ({e})") from None
        self.where, self.handles = {}, []  # tensor name -> the open file that has it
        for name in files:
            file = os.path.join(path, name)
            try:
                handle = safe_open(file, framework="np")
                keys = list(handle.keys())
            except (OSError, self.error) as e:
                raise ModelFilesError(f"{file}: not a safetensors file ({e})") from None
            self.handles.append(handle)
            self.where.update({k: (file, handle) for k in keys})
        # GPT2LMHeadModel saves "transformer.h.0...", the original gpt2 files "h.0..."
        self.prefix = "transformer." if "transformer.wte.weight" in self.where else ""

    def names(self) -> list[str]:
        return [k.removeprefix(self.prefix) for k in self.where]

    def get(self, name: str) -> np.ndarray:
        key = self.prefix + name
        if key not in self.where:
            raise ModelFilesError(f"{WEIGHTS}: no tensor {key!r}; is this a GPT-2 model "
                                  f"(GPT2LMHeadModel)?")
        file, handle = self.where[key]
        try:
            return handle.get_tensor(key)
        except (self.error, TypeError, ValueError) as e:  # e.g. bfloat16, which NumPy lacks
            raise ModelFilesError(f"{file}: cannot read {key!r} ({e})") from None


def load_weights(model: DecoderOnly, path: str) -> None:
    """Copy GPT-2's tensors from ``path``'s safetensors into ``model``'s parameters."""
    files = _SafetensorsFiles(path)
    rows = weight_names(model.config.num_decoder_layers)
    used = {theirs for _, theirs, _, _ in rows}
    unknown = [n for n in files.names() if n not in used and not _not_a_weight(n)]
    if unknown:
        raise ModelFilesError(f"{path}: {WEIGHTS} has tensors a GPT-2 of config.json's size "
                              f"does not have ({', '.join(unknown[:3])}); is n_layer right?")
    params = dict(model.named_parameters())  # (lm_head.weight is embed's: tied, listed once)
    name, array = None, None
    with tt.no_grad():
        for ours, theirs, third, transposed in rows:
            if theirs != name:  # c_attn serves three rows: read it once
                name, array = theirs, files.get(theirs)
            value = array
            if third is not None:  # c_attn (d, 3d) = [W_q | W_k | W_v]: the third'th block
                size = value.shape[-1] // 3
                value = value[..., third * size:(third + 1) * size]
            if transposed:  # Conv1D's (in, out) -> Linear's (out, in); a view, no copy
                value = value.T
            target = params[ours]
            if tuple(value.shape) != tuple(target.shape):
                raise ModelFilesError(f"{WEIGHTS}: {theirs} has shape {array.shape}, but "
                                      f"config.json's sizes need {tuple(target.shape)} for "
                                      f"{ours}{' (transposed)' if transposed else ''}")
            target.array[...] = value  # the one copy (and a cast, if stored as float16)


class GPT2LMHeadModel:
    """``GPT2LMHeadModel.from_pretrained(DIR)``: Hugging Face's call, our model."""

    @staticmethod
    def from_pretrained(path: str, dtype=tt.float32) -> DecoderOnly:
        """A ``DecoderOnly`` in eval mode with GPT-2's weights from ``path`` (config.json,
        model.safetensors). Any problem with the files raises ``ModelFilesError``."""
        path = os.fspath(path)
        _check_dir(path)
        model = DecoderOnly(gpt2_config(read_config(path)))
        load_weights(model, path)
        if dtype != tt.float32:
            model.to(dtype=dtype)
        return model.eval()


def from_pretrained(path: str, dtype=tt.float32) -> tuple[DecoderOnly, GPT2Tokenizer]:
    """(model, tokenizer) from a GPT-2 directory: GPT2LMHeadModel and GPT2Tokenizer."""
    model = GPT2LMHeadModel.from_pretrained(path, dtype)
    try:
        tok = GPT2Tokenizer.from_dir(path)
    except FileNotFoundError as e:
        raise ModelFilesError(f"{e.filename}: no such file; a GPT-2 directory has vocab.json "
                              f"and merges.txt beside {WEIGHTS}") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise ModelFilesError(f"the tokenizer of {path}: {e}") from None
    top = max(tok.encoder.values())
    if top >= model.config.tgt_vocab_size:
        raise ModelFilesError(f"{path}: vocab.json has id {top} but the model has "
                              f"{model.config.tgt_vocab_size} embeddings (config.json's "
                              f"vocab_size): are they from the same model?")
    return model, tok
