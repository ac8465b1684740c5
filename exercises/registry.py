"""The exercises, in the order of the course: file, functions, title, grader, solution.

Nothing here imports a student's file (it may not even parse yet): ``list`` and ``hint``
work whatever state the answers are in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .grading import Text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclass(frozen=True)
class Exercise:
    number: int
    module: str                # the file's name without .py, e.g. "e04_softmax_backward"
    functions: tuple           # the names the student writes
    title: Text
    check: str                 # "module:function" in exercises/checks/
    solution: tuple            # (file, name) pairs: where the library does this job

    @property
    def path(self) -> Path:
        return HERE / f"{self.module}.py"

    @property
    def slug(self) -> str:
        """'softmax_backward' for e04_softmax_backward."""
        return self.module.split("_", 1)[1]


EXERCISES = (
    Exercise(1, "e01_mul_pow_exp", ("mul_backward", "pow_backward", "exp_backward"),
             Text("the backward of mul, pow and exp", "el backward de mul, pow y exp"),
             "autograd:check_mul_pow_exp",
             (("tinytorch/ops/arithmetic.py", "Mul.backward"),
              ("tinytorch/ops/arithmetic.py", "Pow.backward"),
              ("tinytorch/ops/unary.py", "Exp.backward"))),
    Exercise(2, "e02_broadcasting", ("unbroadcast", "broadcast_mul_backward"),
             Text("broadcasting and its unbroadcast", "el broadcasting y cómo deshacerlo"),
             "autograd:check_broadcasting",
             (("tinytorch/autograd/engine.py", "sum_to"),)),
    Exercise(3, "e03_topological_order", ("topological_order",),
             Text("the topological order of backward", "el orden topológico de backward"),
             "autograd:check_topological_order",
             (("tinytorch/autograd/engine.py", "_count_consumers"),
              ("tinytorch/autograd/engine.py", "run"))),
    Exercise(4, "e04_softmax_backward", ("softmax_backward",),
             Text("softmax's backward", "el backward de softmax"),
             "losses:check_softmax",
             (("tinytorch/ops/softmax.py", "Softmax.backward"),)),
    Exercise(5, "e05_cross_entropy", ("cross_entropy_backward",),
             Text("cross-entropy's backward", "el backward de la entropía cruzada"),
             "losses:check_cross_entropy",
             (("tinytorch/ops/loss.py", "CrossEntropy.backward"),)),
    Exercise(6, "e06_layer_norm", ("layer_norm_backward",),
             Text("layer norm's backward", "el backward de layer norm"),
             "losses:check_layer_norm",
             (("tinytorch/ops/normalization.py", "LayerNorm.backward"),
              ("tinytorch/ops/normalization.py", "_backward_rows"))),
    Exercise(7, "e07_attention", ("scaled_dot_product_attention", "causal_mask"),
             Text("scaled dot-product attention with its masks",
                  "atención de producto escalar escalado, con sus máscaras"),
             "attention:check_attention",
             (("transformer/attention.py", "attention_composed"),
              ("transformer/attention.py", "causal_mask"))),
    Exercise(8, "e08_multi_head", ("split_heads", "merge_heads"),
             Text("multi-head split and merge", "dividir y unir las cabezas"),
             "attention:check_heads",
             (("transformer/multi_head_attention.py", "MultiHeadAttention.split_heads"),
              ("transformer/multi_head_attention.py", "MultiHeadAttention.merge_heads"))),
    Exercise(9, "e09_positional_encoding", ("sinusoidal_table",),
             Text("sinusoidal positional encoding", "la codificación posicional sinusoidal"),
             "attention:check_positional",
             (("transformer/positional.py", "sinusoidal_table"),)),
    Exercise(10, "e10_adam", ("adam_step",),
             Text("one Adam step", "un paso de Adam"),
             "training:check_adam",
             (("tinytorch/optim/adam.py", "Adam._update"),
              ("tinytorch/optim/adam.py", "_adam_math"))),
    Exercise(11, "e11_bpe_merge", ("merge_step",),
             Text("one BPE merge step", "un paso de fusión de BPE"),
             "training:check_bpe",
             (("transformer/tokenizer.py", "BPETokenizer.train"),
              ("transformer/tokenizer_train.py", "merge_symbols"))),
    Exercise(12, "e12_decoding", ("greedy_decode", "beam_search"),
             Text("greedy decoding, then beam search", "decodificación voraz y búsqueda en haz"),
             "training:check_decoding",
             (("transformer/generate.py", "_greedy_or_sample"),
              ("transformer/generate.py", "_beam_search"))),
)


class UnknownExercise(ValueError):
    """A number or name that names no exercise (the CLI prints it as one line, exit 2)."""


def find(key) -> Exercise:
    """The exercise named by its number ('4', 4), its file ('e04_softmax_backward'), the
    end of its file name ('softmax_backward') or one of its functions ('merge_heads')."""
    text = str(key).strip().lower().removesuffix(".py")
    for ex in EXERCISES:
        if text in (str(ex.number), f"{ex.number:02d}", ex.module, ex.slug) or \
                text in ex.functions:
            return ex
    names = ", ".join(f"{ex.number} ({ex.slug})" for ex in EXERCISES)
    raise UnknownExercise(f"no exercise {key!r}; give a number from 1 to {len(EXERCISES)} "
                          f"or a name: {names}")
