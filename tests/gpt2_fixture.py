"""A tiny GPT-2 in Hugging Face's layout, made on the spot (tests never download GPT-2).

``make_gpt2_dir(path)`` writes what a real GPT-2 directory holds:

- vocab.json, merges.txt: a byte-level BPE trained by Hugging Face's `tokenizers` on a few
  hundred English and Spanish sentences (plus digits, emoji, tabs), ~500 pieces;
- config.json, model.safetensors: a random ``transformers.GPT2LMHeadModel`` (2 layers,
  2 heads, 64 dimensions) saved by ``save_pretrained``.

It returns the `tokenizers` tokenizer and the (eval-mode) Hugging Face model, the
references the tests compare ours with. Needs transformers, tokenizers and safetensors
(the ``compare`` extra): the tests importorskip them first.
"""

from __future__ import annotations

import os

from transformer.data.synthetic import make_splits

EXTRA = ["It's 2026: π ≈ 3.14159, and 1,000,000 people said \"¡Olé!\" 🙂👍🏽",
         "Naïve café owners in São Paulo don't close on Sundays.\tThey'll open at 9.",
         "Ünïcödé  spaces   and\nnew\nlines\r\nare fine; so are tabs\t\t.",
         "Mañana, el niño comerá piñas y jalapeños 🌶️🔥 at 7:30 p.m."]


def corpus(n: int = 300) -> list[str]:
    """n English-Spanish pairs from the built-in corpus, each side a sentence, and EXTRA."""
    pairs = make_splits(seed=0, n_train=n, n_valid=1, n_test=1)["train"]
    return [s for pair in pairs for s in pair] + EXTRA * 5


def make_gpt2_dir(path, vocab_size: int = 500, seed: int = 0, init_std: float = 0.1):
    """Write a tiny GPT-2 into ``path``; return (tokenizers.Tokenizer, GPT2LMHeadModel).

    ``init_std`` is larger than GPT-2's 0.02, so that the logits are of order 1 and the
    greedy continuations vary: a comparison to 1e-5 then means something.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel

    path = str(path)
    os.makedirs(path, exist_ok=True)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(corpus(), trainer)
    tok.model.save(path)  # vocab.json, merges.txt
    eos = tok.token_to_id("<|endoftext|>")

    torch.manual_seed(seed)
    config = GPT2Config(n_layer=2, n_head=2, n_embd=64, n_positions=64,
                        vocab_size=tok.get_vocab_size(), bos_token_id=eos, eos_token_id=eos,
                        initializer_range=init_std)
    model = GPT2LMHeadModel(config).eval()
    model.save_pretrained(path)  # config.json, model.safetensors (transformers 5: always)
    return tok, model
