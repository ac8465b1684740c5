"""Every differentiable op: one file per family, each op = forward + backward + derivation.

The primitives, in the order a course meets them:

arithmetic    + - * / ** neg                unary        exp log sqrt ... relu gelu clamp
linalg        matmul                        reduction    sum mean var max logsumexp ...
softmax       softmax log_softmax, and shifted_exp, the stable core of every softmax
shape         reshape transpose cat split   indexing     x[...] gather index_select
selection     where masked_fill maximum tril  conversion   dtype / device casts, clone
embedding     the lookup of nn.Embedding    dropout      dropout's random mask
padding       F.pad (constant, reflect...)  lerp         start + w (end - start)
sorting       sort topk argsort             cumulative   cumsum cumprod
scatter       scatter index_fill ...        einsum       index equations
sampling      multinomial (no gradient)

Written with the primitives above (no backward of their own): matmul_forms (mm bmm
addmm baddbmm), attention (F.scaled_dot_product_attention), pointwise_loss (l1,
smooth_l1, huber, kl_div; binary cross-entropy is an op there), norms (torch.linalg norms,
F.normalize).

The layers' functions, each written first as its textbook formula out of the primitives
above and then as one fused op (``tinytorch.fast_paths`` picks):

linear                linear_composed, then Linear
normalization         layer_norm_composed, then LayerNorm
loss                  nll_loss; cross_entropy_composed, then CrossEntropy
linear_cross_entropy  linear_cross_entropy_composed, then LinearCrossEntropy

And two helpers: dims (checking ``dim`` arguments) and blas_sums (sums along an axis as
one BLAS product, for the fused ops).
"""
