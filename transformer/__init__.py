"""A hand-written encoder-decoder transformer on tinytorch, read top to bottom:

layout.py                Layout and AttentionMask: padding, causality, packing in one object
attention.py             scaled dot-product attention (composed, then fused), masks
multi_head_attention.py  MultiHeadAttention: project, split heads, attend, merge
positional.py            sinusoidal / learned positions, token embeddings * sqrt(d_model)
feedforward.py           the position-wise feed-forward network
layers.py                EncoderLayer, DecoderLayer (Add & Norm, post-/pre-LN), stacks
model.py                 Transformer (seq2seq), DecoderOnly (GPT), EncoderOnly (BERT)
cache.py                 the key/value cache of decoding
generate.py              greedy, beam search, sampling
packing.py               the fast path's ops that leave padding rows out
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
