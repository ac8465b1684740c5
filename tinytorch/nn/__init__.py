"""``tinytorch.nn``: Module, Parameter, layers, losses; ``nn.functional`` (F), ``nn.init``."""

from . import functional, init, parallel, utils
from .activation import GELU, Identity, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .containers import ModuleDict, ModuleList, Sequential
from .dropout import Dropout
from .embedding import Embedding
from .linear import Linear
from .loss import CrossEntropyLoss, LinearCrossEntropyOptions, MSELoss, NLLLoss
from .module import Module
from .normalization import LayerNorm
from .parameter import Parameter

# issue 16: more modules
from .activation import SiLU
from .containers import ParameterDict, ParameterList
from .flatten import Flatten, Unflatten
from .loss_more import (
    BCELoss, BCEWithLogitsLoss, HuberLoss, KLDivLoss, L1Loss, SmoothL1Loss,
)

__all__ = ["GELU", "CrossEntropyLoss", "Dropout", "Embedding", "Identity", "LayerNorm", "Linear",
           "LinearCrossEntropyOptions",
           "LogSoftmax", "MSELoss", "Module", "ModuleDict", "ModuleList", "NLLLoss", "Parameter",
           "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh", "functional", "init", "parallel",
           "utils",
           # issue 16
           "BCELoss", "BCEWithLogitsLoss", "Flatten", "HuberLoss", "KLDivLoss", "L1Loss",
           "ParameterDict", "ParameterList", "SiLU", "SmoothL1Loss", "Unflatten"]
