"""GPT-2 (OpenAI, 2019) on this project's code: its own weights, in NumPy.

GPT-2 is the decoder-only transformer of transformer/model.py (``DecoderOnly``) with
these settings: learned positions, pre-LN layers (``norm_first``) and a LayerNorm at the
end, GELU in its tanh approximation, the output layer tied to the token embedding, and
no sqrt(d_model) scale on the embeddings. Nothing else is new: the same attention, the
same feed-forward, the same KV cache and ``generate``.

    from transformer.gpt2 import GPT2LMHeadModel, GPT2Tokenizer
    model = GPT2LMHeadModel.from_pretrained("gpt2")   # a DecoderOnly, GPT-2's weights
    tok = GPT2Tokenizer.from_dir("gpt2")

- bpe.py: the byte-level BPE tokenizer (vocab.json, merges.txt), by hand;
- weights.py: config.json and model.safetensors -> our model;
- cli.py: ``python -m transformer gpt2 generate --model DIR "Hello, I'm a language model,"``.
"""

from .bpe import GPT2Tokenizer, bytes_to_unicode, pretokenize
from .weights import GPT2LMHeadModel, ModelFilesError, from_pretrained, gpt2_config

__all__ = ["GPT2LMHeadModel", "GPT2Tokenizer", "ModelFilesError", "bytes_to_unicode",
           "from_pretrained", "gpt2_config", "pretokenize"]
