"""einsum: products and sums of tensors written as index equations.

    torch.einsum("ij,jk->ik", a, b)      matrix product        y_ik = sum_j a_ij b_jk
    torch.einsum("bhqd,bhkd->bhqk", q, k) attention scores, batched over b and h
    torch.einsum("ii->", a)              trace                 y = sum_i a_ii
    torch.einsum("ii->i", a)             diagonal              y_i = a_ii
    torch.einsum("i,j->ij", u, v)        outer product

Each operand gets one letter per dim. A letter that is missing from the output is summed
over; the output lists its letters in the order wanted (after ``->``). Without ``->`` the
output is every letter that appears exactly once, in alphabetical order (A-Z before a-z).
``...`` stands for the dims that are not named (right-aligned, as in broadcasting), and a
size-1 dim broadcasts against the same letter of another operand, as in PyTorch. The
"sublist" form ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` and a list of operands work too.

The order in which several operands are contracted is NumPy's choice (``optimize=True``);
PyTorch's ``torch.backends.opt_einsum`` settings have no counterpart here.
"""

from __future__ import annotations

import string

from ..autograd.function import Function, is_tensor
from ..backend import array_module
from .dims import open_grid

_LETTERS = string.ascii_letters


def _error(message):
    return RuntimeError(f"einsum(): {message}")


def _from_sublists(args):
    """einsum(a, [0, 1], b, [1, 2], [0, 2]) -> ("ab,bc->ac", [a, b])."""
    def letters(sub):
        out = []
        for s in sub:
            if s is Ellipsis:
                out.append("...")
            elif isinstance(s, int) and 0 <= s < 52:
                out.append(_LETTERS[s])
            else:
                raise _error(f"a sublist holds ints in [0, 52) or Ellipsis, got {s!r}")
        return "".join(out)

    has_out = len(args) % 2 == 1  # an odd count: the last sublist is the output
    pairs = args[:-1] if has_out else args
    subs = [letters(s) for s in pairs[1::2]]
    return ",".join(subs) + ("->" + letters(args[-1]) if has_out else ""), list(pairs[0::2])


def parse(equation: str, ndims: list[int]):
    """(input subscripts, output subscript), one letter per dim, '...' made into letters."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    if "->" in rhs:
        raise _error(f"more than one '->' in {equation!r}")
    subs = lhs.split(",")
    if len(subs) != len(ndims):
        fewer = len(subs) > len(ndims)
        raise _error(f"{'fewer' if fewer else 'more'} operands were provided than specified "
                     f"in the equation {equation!r} ({len(ndims)} given, {len(subs)} named)")
    for s in subs + [rhs]:
        bad = [c for c in s.replace("...", "") if c not in _LETTERS]
        if bad:
            raise _error(f"invalid subscript {bad[0]!r} in {equation!r}: subscripts must be "
                         f"in [a-zA-Z] (and '...')")
        if s.count("...") > 1 or "." in s.replace("...", "", 1):
            raise _error(f"a '.' that is not part of one ellipsis in {equation!r}")
    unused = [c for c in _LETTERS if c not in eq]
    spans = []
    for k, (s, n) in enumerate(zip(subs, ndims)):
        named = len(s.replace("...", ""))
        if ("..." not in s and named != n) or named > n:
            raise _error(f"the number of subscripts in {s!r} ({named}) does not match the "
                         f"number of dimensions ({n}) for operand {k}"
                         + ("" if "..." in s else " and no ellipsis was given"))
        spans.append(n - named if "..." in s else 0)
    width = max(spans, default=0)
    if width > len(unused):
        raise _error("too many dims under '...' for the letters that are left")
    ell = "".join(unused[:width])
    subs = [s.replace("...", ell[width - e:]) for s, e in zip(subs, spans)]
    if arrow:
        out = rhs.replace("...", ell)
        for c in out:
            if out.count(c) > 1:
                raise _error(f"output subscript {c} appears more than once in the output")
            if not any(c in s for s in subs):
                raise _error(f"output subscript {c} does not appear in the equation for any "
                             f"input operand")
    else:
        joined = "".join(subs)
        out = ell + "".join(sorted(c for c in set(joined) if joined.count(c) == 1 and c not in ell))
    return subs, out


def _sizes(subs, shapes):
    """{letter: size}, checking that each letter's sizes agree (or are 1: broadcast)."""
    size = {}
    for k, (s, shape) in enumerate(zip(subs, shapes)):
        own = {}
        for c, n in zip(s, shape):
            if own.setdefault(c, n) != n:
                raise _error(f"subscript {c} is repeated for operand {k} but the sizes don't "
                             f"match, {own[c]} != {n}")
            seen = size.get(c, 1)
            if n != 1 and seen != 1 and n != seen:
                raise _error(f"subscript {c} has size {n} for operand {k} which does not "
                             f"broadcast with previously seen size {seen}")
            size[c] = max(seen, n) if n != 1 else seen
    return size


class Einsum(Function):
    """y = einsum(equation, *operands): products of the operands' elements, summed over
    the letters that are not in the output."""

    def forward(self, *arrays, subs, out):
        dtypes = {a.dtype for a in arrays}
        if len(dtypes) > 1:
            raise RuntimeError(f"einsum(): all operands must have the same dtype, got "
                               f"{sorted(str(d) for d in dtypes)}; convert them with .to(dtype)")
        xp = array_module(arrays[0])
        self.size = _sizes(subs, [a.shape for a in arrays])
        self.subs, self.out, self.shapes = subs, out, [a.shape for a in arrays]
        # size-1 dims broadcast: views with the full size (no copy)
        full = [xp.broadcast_to(a, tuple(self.size[c] for c in s)) for a, s in zip(arrays, subs)]
        self.save(*full)
        y = xp.einsum(",".join(subs) + "->" + out, *full, optimize=len(full) > 1)
        # "ij->ji" or "ii->i" of one operand give NumPy views of it: copy, the output is new
        return y.copy() if getattr(y, "base", None) is not None else y

    def backward(self, g):
        # y[out] = sum over the other letters of prod_k A_k[s_k]
        #   =>  dL/dA_k[s_k] = sum over letters not in s_k of g[out] prod_{j != k} A_j[s_j]:
        # einsum of g and the other operands, with s_k as output. A letter that only A_k has
        # is constant along y (broadcast g over it); a repeated one (A_k[i, i]) puts the
        # gradient on that diagonal, 0 elsewhere; a broadcast size-1 dim sums back.
        full = self.saved
        return tuple(self._grad(g, k, full) if self.needs_grad(k) else None
                     for k in range(len(full)))

    def _grad(self, g, k, full):
        xp, s = array_module(g), self.subs[k]
        others = [j for j in range(len(full)) if j != k]
        known = set(self.out).union(*(self.subs[j] for j in others))
        letters = "".join(dict.fromkeys(s))  # distinct, in order
        present = "".join(c for c in letters if c in known)
        spec = ",".join([self.out] + [self.subs[j] for j in others]) + "->" + present
        part = xp.einsum(spec, g, *(full[j] for j in others), optimize=bool(others))
        # letters only A_k has: the same gradient all along them
        part = part.reshape(tuple(self.size[c] if c in present else 1 for c in letters))
        part = xp.broadcast_to(part, tuple(self.size[c] for c in letters))
        if len(letters) < len(s):  # a repeated letter: onto the diagonal
            grad = xp.zeros(tuple(self.size[c] for c in s), dtype=g.dtype)
            grid = open_grid(xp, [self.size[c] for c in letters])
            grad[tuple(grid[letters.index(c)] for c in s)] = part
        else:
            grad = part
        stretched = tuple(i for i, (n, c) in enumerate(zip(self.shapes[k], s))
                          if n == 1 and self.size[c] != 1)
        if stretched:  # a size-1 dim that broadcast: its gradient is the sum
            grad = grad.sum(axis=stretched, keepdims=True)
        # a fresh array, not a (broadcast) view of g or of another gradient
        return grad.copy() if getattr(grad, "base", None) is not None else grad


def einsum(*args):
    """``einsum(equation, *operands)``, ``einsum(equation, [operands])`` or the sublist form
    ``einsum(a, [0, 1], b, [1, 2], [0, 2])``."""
    if not args:
        raise TypeError("einsum(): expected an equation and operands")
    if isinstance(args[0], str):
        equation, operands = args[0], list(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
    else:
        equation, operands = _from_sublists(args)
    if not operands or not all(is_tensor(t) for t in operands):
        raise TypeError("einsum(): the operands must be tensors (at least one)")
    subs, out = parse(equation, [t.ndim for t in operands])
    return Einsum.apply(*operands, subs=subs, out=out)
