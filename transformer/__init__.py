"""A hand-written encoder-decoder transformer on tinytorch, read top to bottom:

layout.py                Layout and AttentionMask: padding, causality, packing in one object
attention.py             scaled dot-product attention (composed, then fused), masks
multi_head_attention.py  MultiHeadAttention: project, split heads, attend, merge
positional.py            sinusoidal / learned positions, token embeddings * sqrt(d_model)
feedforward.py           the position-wise feed-forward network
layers.py                EncoderLayer, DecoderLayer (Add & Norm, post-/pre-LN), stacks
model.py                 Transformer (seq2seq), DecoderOnly (GPT), EncoderOnly (BERT)
cache.py                 the key/value cache of decoding
generate.py              greedy, beam search, sampling (for translators and GPTs alike)
packing.py               the fast path's ops that leave padding rows out

Training and using them:

tokenizer.py             BPE on characters and bytes (the translator's and the LMs')
data/                    corpora, sentence pairs and sentences, length-bucketed batches
trainer.py               the training loop every model shares: checkpoints, resume, Ctrl-C
train.py                 the translator's task: pairs, BLEU (``python -m transformer train``)
language_model.py        GPT's task: next-token prediction, perplexity (``lm train``)
masked_lm.py             BERT's task: 15% masked, fill-mask (``mlm train``)
gpt2/                    GPT-2's own weights and byte-level BPE tokenizer, in NumPy
"""

from .attention import attention_composed, causal_mask, padding_mask, scaled_dot_product_attention
from .cache import KVCache
from .generate import generate
from .layers import Decoder, DecoderLayer, Encoder, EncoderLayer
from .layout import AttentionMask, Layout
from .model import DecoderOnly, EncoderOnly, Transformer, TransformerConfig, shift_right
from .multi_head_attention import MultiHeadAttention
from .positional import LearnedPositionalEmbedding, PositionalEncoding, TokenEmbedding

__all__ = ["AttentionMask", "Decoder", "DecoderLayer", "DecoderOnly", "Encoder", "EncoderLayer",
           "EncoderOnly", "KVCache", "Layout", "LearnedPositionalEmbedding", "MultiHeadAttention",
           "PositionalEncoding", "TokenEmbedding", "Transformer", "TransformerConfig",
           "attention_composed", "causal_mask", "generate", "padding_mask",
           "scaled_dot_product_attention", "shift_right"]
