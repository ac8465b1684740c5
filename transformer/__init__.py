"""A hand-written encoder-decoder transformer on tinytorch, read top to bottom:

attention.py             scaled dot-product attention (fused + composed), masks
multi_head_attention.py  MultiHeadAttention: project, split heads, attend, merge
positional.py            sinusoidal / learned positions, token embeddings * sqrt(d_model)
feedforward.py           the position-wise feed-forward network
layers.py                EncoderLayer, DecoderLayer (Add & Norm, post-/pre-LN), stacks
model.py                 Transformer (seq2seq), DecoderOnly (GPT), EncoderOnly (BERT)
generate.py              greedy, beam search, sampling, the key/value cache
"""

from .attention import attention_composed, causal_mask, padding_mask, scaled_dot_product_attention
from .generate import generate, make_cache
from .layers import Decoder, DecoderLayer, Encoder, EncoderLayer
from .model import DecoderOnly, EncoderOnly, Transformer, TransformerConfig, shift_right
from .multi_head_attention import MultiHeadAttention
from .positional import LearnedPositionalEmbedding, PositionalEncoding, TokenEmbedding

__all__ = ["Decoder", "DecoderLayer", "DecoderOnly", "Encoder", "EncoderLayer", "EncoderOnly",
           "LearnedPositionalEmbedding", "MultiHeadAttention", "PositionalEncoding",
           "TokenEmbedding", "Transformer", "TransformerConfig", "attention_composed",
           "causal_mask", "generate", "make_cache", "padding_mask",
           "scaled_dot_product_attention", "shift_right"]
