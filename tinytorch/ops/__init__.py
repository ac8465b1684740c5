"""Every differentiable op: one file per family, each op = forward + backward + derivation.

arithmetic  + - * / ** neg            unary      exp log sqrt ... relu gelu clamp
reduction   sum mean var max ...      softmax    softmax log_softmax (fused backward)
linalg      matmul                    shape      reshape transpose cat split ...
indexing    x[...] gather index_select selection  where masked_fill maximum tril ...
conversion  dtype / device casts, clone
"""
