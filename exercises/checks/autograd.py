"""Graders of exercises 1-3: the backward of mul/pow/exp, broadcasting, topological order.

Each answer is first compared with the library's (solutions.py) on random cases, with
the typical wrong answers computed next to the right one; then plugged into the engine
(a tinytorch Function whose backward is the student's, or the student's ``unbroadcast``
in place of the engine's ``sum_to``) and checked with ``gradcheck`` in float64; then,
when PyTorch is installed, compared with ``torch.autograd``.
"""

from __future__ import annotations

import numpy as np

import tinytorch as tt
from tinytorch.autograd import engine

from .. import solutions as ref
from ..grading import (IGNORED_UPSTREAM, Mistake, Text, compare, describe, engine_gradcheck,
                       for_cases, student_op, torch_or_none)


def _pair(got, name: str, case: Text):
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Mistake(Text(
            f"{name} must return two gradients, (grad_a, grad_b), one per input; it returned "
            f"{type(got).__name__} (for {case.en}).",
            f"{name} debe devolver dos gradientes, (grad_a, grad_b), uno por entrada; devolvió "
            f"{type(got).__name__} (con {case.es})."))
    return got


def _grad_name(fn: str, x: str) -> Text:
    return Text(f"the gradient for {x} from {fn}", f"el gradiente de {x} de {fn}")


def _tensors(*arrays):
    return tuple(tt.tensor(a, requires_grad=True) for a in arrays)


# -- 1. mul, pow, exp ---------------------------------------------------------------------------

SWAPPED = Text(
    "you swapped the gradients. y = a * b gives dy/da = b: a's gradient is grad_output * b, "
    "the *other* input, and b's is grad_output * a.",
    "intercambiaste los gradientes. y = a * b da dy/da = b: el gradiente de a es "
    "grad_output * b, la *otra* entrada, y el de b es grad_output * a.")
POW_NO_FACTOR = Text(
    "the exponent comes down as a factor: d(a^b)/da = b * a^(b-1), not a^(b-1).",
    "el exponente baja como factor: d(a^b)/da = b * a^(b-1), no a^(b-1).")
POW_NO_MINUS_ONE = Text(
    "the power goes down by one: d(a^b)/da = b * a^(b-1), not b * a^b.",
    "la potencia baja en uno: d(a^b)/da = b * a^(b-1), no b * a^b.")
POW_EXPONENT_RULE = Text(
    "b is the exponent, so the power rule does not apply to it: a^b = exp(b ln a), hence "
    "d(a^b)/db = a^b * ln(a) = y * ln(a).",
    "b es el exponente, así que la regla de la potencia no vale para él: a^b = exp(b ln a), "
    "luego d(a^b)/db = a^b * ln(a) = y * ln(a).")
POW_NO_LOG = Text(
    "d(a^b)/db = a^b * ln(a): the factor ln(a) is missing.",
    "d(a^b)/db = a^b * ln(a): falta el factor ln(a).")
EXP_TWICE = Text(
    "y is already exp(x): the derivative of exp is exp(x) = y itself, so multiply "
    "grad_output by y; do not take exp of y again.",
    "y ya es exp(x): la derivada de exp es exp(x) = y, así que multiplica grad_output por "
    "y; no vuelvas a aplicar exp a y.")


def check_mul_pow_exp(student, examples: int) -> list:
    def one(draw):
        shape = draw.shape(0, 3)
        a, b, g = draw.array(shape), draw.array(shape), draw.array(shape)
        case = describe(a=a, b=b)
        ga, gb = _pair(student.mul_backward(g, a, b), "mul_backward", case)
        ra, rb = ref.mul_backward(g, a, b)
        ones_a, ones_b = ref.mul_backward(np.ones_like(g), a, b)
        compare(_grad_name("mul_backward", "a"), ga, ra, case,
                [(g * a, SWAPPED), (ones_a, IGNORED_UPSTREAM)])
        compare(_grad_name("mul_backward", "b"), gb, rb, case,
                [(g * b, SWAPPED), (ones_b, IGNORED_UPSTREAM)])

        a = draw.array(shape, 0.5, 2.0)  # a > 0: a^b and ln(a) are real
        y = a ** b
        case = describe(a=a, b=b)
        ga, gb = _pair(student.pow_backward(g, a, b, y), "pow_backward", case)
        ra, rb = ref.pow_backward(g, a, b, y)
        ones_a, ones_b = ref.pow_backward(np.ones_like(g), a, b, y)
        compare(_grad_name("pow_backward", "a"), ga, ra, case,
                [(g * a ** (b - 1), POW_NO_FACTOR), (g * b * y, POW_NO_MINUS_ONE),
                 (ones_a, IGNORED_UPSTREAM)])
        compare(_grad_name("pow_backward", "b"), gb, rb, case,
                [(g * b * a ** (b - 1), POW_EXPONENT_RULE), (g * y, POW_NO_LOG),
                 (ones_b, IGNORED_UPSTREAM)])

        y = np.exp(a - 1.0)
        case = describe(y=y)
        compare("exp_backward", student.exp_backward(g, y), ref.exp_backward(g, y), case,
                [(g * np.exp(y), EXP_TWICE), (y, IGNORED_UPSTREAM)])

    for_cases(one, examples)

    ops = {
        "mul": student_op("MulByStudent", lambda a, b: (a * b, (a, b)), student.mul_backward),
        "pow": student_op("PowByStudent", lambda a, b: (a ** b, (a, b, a ** b)),
                          student.pow_backward),
        "exp": student_op("ExpByStudent", lambda x: (np.exp(x), (np.exp(x),)),
                          student.exp_backward),
    }

    def in_engine(draw):
        shape = draw.shape(0, 2, 3)
        a, b = _tensors(draw.array(shape, 0.5, 2.0), draw.array(shape))
        engine_gradcheck(lambda a, b: ops["mul"].apply(a, b), (a, b), ("a", "b"),
                         Text("your mul_backward", "tu mul_backward"))
        engine_gradcheck(lambda a, b: ops["pow"].apply(a, b), (a, b), ("a", "b"),
                         Text("your pow_backward", "tu pow_backward"))
        engine_gradcheck(lambda b: ops["exp"].apply(b), (b,), ("x",),
                         Text("your exp_backward", "tu exp_backward"))

    for_cases(in_engine, max(2, examples // 4))
    checked = [Text(f"{examples} random cases against the library's Mul, Pow and Exp backward",
                    f"{examples} casos aleatorios contra el backward de Mul, Pow y Exp de la "
                    f"biblioteca"),
               Text("plugged into the engine as Functions: gradcheck in float64 passes",
                    "conectadas al motor como Functions: gradcheck en float64 pasa")]
    torch = torch_or_none()
    if torch is not None:
        def against_torch(draw):
            shape = draw.shape(0, 3)
            a, b, g = draw.array(shape, 0.5, 2.0), draw.array(shape), draw.array(shape)
            ta, tb = (torch.tensor(v, requires_grad=True) for v in (a, b))
            (ta ** tb).backward(torch.tensor(g))
            ga, gb = student.pow_backward(g, a, b, a ** b)
            case = describe(a=a, b=b)
            compare(_grad_name("pow_backward", "a"), ga, ta.grad.numpy(), case)
            compare(_grad_name("pow_backward", "b"), gb, tb.grad.numpy(), case)

        for_cases(against_torch, max(2, examples // 4))
        checked.append(Text("pow_backward agrees with torch.autograd",
                            "pow_backward coincide con torch.autograd"))
    return checked


# -- 2. broadcasting ---------------------------------------------------------------------------

MEAN_NOT_SUM = Text(
    "you averaged over the broadcast dimensions; sum instead. Each copy that broadcasting "
    "made was used once, and each sends its whole gradient back: they add up.",
    "promediaste sobre las dimensiones difundidas; hay que sumar. Cada copia que hizo el "
    "broadcasting se usó una vez y devuelve su gradiente entero: se suman.")


def check_broadcasting(student, examples: int) -> list:
    def one(draw):
        out_shape = draw.shape(1, 3)
        shape = draw.broadcasts_to(out_shape)
        grad = draw.array(out_shape)
        case = describe(grad=grad, shape=shape)
        expected = ref.unbroadcast(grad, shape)
        mean = expected * (np.prod(shape, dtype=np.int64) / grad.size)
        compare("unbroadcast(grad, shape)", student.unbroadcast(grad, shape), expected, case,
                [(mean, MEAN_NOT_SUM)])

        a_shape, b_shape = draw.broadcasts_to(out_shape), draw.broadcasts_to(out_shape)
        a, b = draw.array(a_shape), draw.array(b_shape)
        g = draw.array(np.broadcast_shapes(a_shape, b_shape))
        case = describe(a=a, b=b)
        ga, gb = _pair(student.broadcast_mul_backward(g, a, b), "broadcast_mul_backward", case)
        ra, rb = ref.broadcast_mul_backward(g, a, b)
        compare(_grad_name("broadcast_mul_backward", "a"), ga, ra, case)
        compare(_grad_name("broadcast_mul_backward", "b"), gb, rb, case)

    for_cases(one, examples)

    def theirs(grad, shape, op_name="op"):  # the engine's signature
        return np.asarray(student.unbroadcast(grad, shape), dtype=grad.dtype)

    mul = student_op("BroadcastMulByStudent", lambda a, b: (a * b, (a, b)),
                     student.broadcast_mul_backward)

    def in_engine(draw):
        out_shape = draw.shape(1, 3, 3)
        a, b = _tensors(draw.array(draw.broadcasts_to(out_shape)),
                        draw.array(draw.broadcasts_to(out_shape)))
        saved, engine.sum_to = engine.sum_to, theirs
        try:
            engine_gradcheck(lambda a, b: a * b + a / (b * b + 1), (a, b), ("a", "b"),
                             Text("a * b + a / (b * b + 1) with your unbroadcast as the "
                                  "engine's sum_to",
                                  "a * b + a / (b * b + 1) con tu unbroadcast como el sum_to "
                                  "del motor"))
        finally:
            engine.sum_to = saved
        engine_gradcheck(lambda a, b: mul.apply(a, b), (a, b), ("a", "b"),
                         Text("your broadcast_mul_backward", "tu broadcast_mul_backward"))

    for_cases(in_engine, max(2, examples // 4))
    checked = [Text(f"{examples} random broadcasts against the engine's sum_to",
                    f"{examples} broadcasts aleatorios contra el sum_to del motor"),
               Text("your unbroadcast ran as the engine's sum_to: gradcheck in float64 passes",
                    "tu unbroadcast funcionó como el sum_to del motor: gradcheck en float64 "
                    "pasa")]
    torch = torch_or_none()
    if torch is not None:
        def against_torch(draw):
            out_shape = draw.shape(1, 3)
            a, b = draw.array(draw.broadcasts_to(out_shape)), draw.array(out_shape)
            g = draw.array(out_shape)
            ta, tb = (torch.tensor(v, requires_grad=True) for v in (a, b))
            (ta * tb).backward(torch.tensor(g))
            ga, gb = student.broadcast_mul_backward(g, a, b)
            case = describe(a=a, b=b)
            compare(_grad_name("broadcast_mul_backward", "a"), ga, ta.grad.numpy(), case)
            compare(_grad_name("broadcast_mul_backward", "b"), gb, tb.grad.numpy(), case)

        for_cases(against_torch, max(2, examples // 4))
        checked.append(Text("broadcast_mul_backward agrees with torch.autograd",
                            "broadcast_mul_backward coincide con torch.autograd"))
    return checked


# -- 3. topological order -----------------------------------------------------------------------

_OPS = (lambda x, y: x * y, lambda x, y: x + y, lambda x, y: x - y,
        lambda x, y: x.sin() * y, lambda x, y: (x * y).tanh())

BEFORE_CONSUMER = Text(
    "a node must come after every node that uses its output: backward may run a node only "
    "once all its consumers have handed it their gradient (it needs their sum). A plain "
    "depth-first or breadth-first walk gets this wrong as soon as a value is used twice "
    "(a diamond). Do a depth-first walk that appends a node after all its parents "
    "(post-order), then reverse the list; or count each node's consumers first and release "
    "a node when its count reaches zero (what engine.py does).",
    "un nodo debe ir después de todos los nodos que usan su salida: backward solo puede "
    "ejecutar un nodo cuando todos sus consumidores le han pasado su gradiente (necesita la "
    "suma). Un recorrido simple en profundidad o en anchura falla en cuanto un valor se usa "
    "dos veces (un rombo). Haz un recorrido en profundidad que añada cada nodo después de "
    "todos sus padres (post-orden) y da la vuelta a la lista; o cuenta primero los "
    "consumidores de cada nodo y libera un nodo cuando su cuenta llegue a cero (lo que hace "
    "engine.py).")
VISIT_ONCE = Text(
    "each node appears once: remember the nodes you have visited in a set (nodes hash by "
    "identity) and skip a node you have already seen.",
    "cada nodo aparece una vez: guarda los nodos visitados en un set (los nodos se "
    "comparan por identidad) y sáltate los que ya has visto.")
LEAVES_TOO = Text(
    "the leaves (the tensors made with requires_grad=True) are nodes of the graph too: "
    "backward ends there, accumulating their .grad. Include them.",
    "las hojas (los tensores creados con requires_grad=True) también son nodos del grafo: "
    "backward termina en ellas, acumulando su .grad. Inclúyelas.")


def _label(node) -> Text:
    if node.is_leaf_node:
        return Text(f"a leaf tensor of shape {tuple(node.shape)}",
                    f"un tensor hoja de forma {tuple(node.shape)}")
    return Text(node.name, node.name)


def _graph(recipe, values):
    """The leaves and the output of the graph that ``recipe`` builds from ``values``."""
    leaves = [tt.tensor(v, requires_grad=True) for v in values]
    nodes = list(leaves)
    for op, i, j in recipe:
        nodes.append(_OPS[op](nodes[i], nodes[j]))
    return leaves, nodes[-1].sum()


def _run_in_order(order, output):
    """Backward through the nodes in the given order (the engine's loop, without its
    counting): {id(leaf): gradient}."""
    grads = {id(output.grad_fn): np.ones(())}
    leaf_grads = {}
    for node in order:
        g = grads.pop(id(node), None)
        if node.is_leaf_node or g is None:
            leaf_grads[id(node)] = g
            continue
        outs = node.backward(g)
        outs = outs if isinstance(outs, tuple) else (outs,)
        for i, (parent, gi) in enumerate(zip(node.parents, outs)):
            if parent is None or gi is None:
                continue
            arr = parent.array if parent.is_leaf_node else None
            shape = arr.shape if arr is not None else parent.out_shape
            dtype = arr.dtype if arr is not None else parent.out_dtype
            gi = engine._check(node, i, gi, shape, dtype)
            grads[id(parent)] = gi if id(parent) not in grads else grads[id(parent)] + gi
    return leaf_grads


#: Graphs where a value is used twice (x, then x * x), as (op, input, input) steps over the
#: values so far: a plain depth-first order breaks on them. Checked before the random ones.
KNOWN_GRAPHS = (((0, 0, 0), (3, 1, 0), (0, 1, 2)), ((0, 0, 0), (3, 1, 0), (0, 2, 1)))


def check_topological_order(student, examples: int) -> list:
    def check_graph(recipe, values):
        leaves, out = _graph(recipe, values)
        expected = ref.topological_order(out)
        ops = [("mul", "add", "sub", "sin-mul", "tanh-mul")[o] for o, _, _ in recipe]
        case = Text(f"the graph of {len(values)} leaves and {len(recipe)} ops {ops}",
                    f"el grafo de {len(values)} hojas y {len(recipe)} operaciones {ops}")
        order = student.topological_order(out)
        _check_order(order, expected, out, case)
        got = _run_in_order(order, out)
        again, out2 = _graph(recipe, values)
        out2.backward()
        for k, (leaf, leaf2) in enumerate(zip(leaves, again)):
            if leaf2.grad is not None:
                compare(Text(f"backward in your order: leaf {k}'s gradient",
                             f"backward en tu orden: el gradiente de la hoja {k}"),
                        got.get(id(leaf)), leaf2.grad.numpy(), case)

    def one(draw):
        n_leaves, n_ops = draw.integer(1, 3), draw.integer(1, 6)
        recipe = [(draw.integer(0, len(_OPS) - 1), draw.integer(0, n_leaves + k - 1),
                   draw.integer(0, n_leaves + k - 1)) for k in range(n_ops)]
        check_graph(recipe, [draw.array((2,)) for _ in range(n_leaves)])

    for recipe in KNOWN_GRAPHS:
        check_graph(recipe, [np.array([0.5, -1.5])])
    for_cases(one, examples)
    return [Text(f"{examples} random graphs (values used twice included): your order puts "
                 f"every node after all its consumers",
                 f"{examples} grafos aleatorios (con valores usados dos veces): tu orden pone "
                 f"cada nodo después de todos sus consumidores"),
            Text("the engine's backward run in your order gives the gradients of .backward()",
                 "el backward del motor ejecutado en tu orden da los gradientes de "
                 ".backward()")]


def _check_order(order, expected, out, case: Text) -> None:
    if not isinstance(order, (list, tuple)):
        raise Mistake(Text(
            f"topological_order returned a {type(order).__name__} (for {case.en}); expected "
            f"a list of nodes.",
            f"topological_order devolvió un {type(order).__name__} (con {case.es}); se "
            f"esperaba una lista de nodos."))
    graph = {id(n): n for n in expected}
    position = {}
    for i, node in enumerate(order):
        if id(node) not in graph:
            raise Mistake(Text(
                f"element {i} of your order, a {type(node).__name__}, is not a node of the "
                f"graph (for {case.en}): give the Function nodes (tensor.grad_fn, "
                f"node.parents) and the leaf tensors themselves.",
                f"el elemento {i} de tu orden, un {type(node).__name__}, no es un nodo del "
                f"grafo (con {case.es}): da los nodos Function (tensor.grad_fn, node.parents) "
                f"y los propios tensores hoja."))
        if id(node) in position:
            raise Mistake(Text(
                f"{_label(node).en} appears twice in your order (at {position[id(node)]} and "
                f"{i}), for {case.en}.",
                f"{_label(node).es} aparece dos veces en tu orden (en {position[id(node)]} y "
                f"{i}), con {case.es}."), VISIT_ONCE)
        position[id(node)] = i
    missing = [n for n in expected if id(n) not in position]
    if missing:
        names = ", ".join(_label(n).en for n in missing[:3])
        nombres = ", ".join(_label(n).es for n in missing[:3])
        raise Mistake(Text(
            f"your order leaves out {len(missing)} of the graph's {len(expected)} nodes "
            f"({names}), for {case.en}.",
            f"tu orden deja fuera {len(missing)} de los {len(expected)} nodos del grafo "
            f"({nombres}), con {case.es}."),
            LEAVES_TOO if all(n.is_leaf_node for n in missing) else None)
    if order[0] is not out.grad_fn:
        raise Mistake(Text(
            f"your order starts with {_label(order[0]).en}; it must start with the output's "
            f"node, output.grad_fn, where backward starts (for {case.en}).",
            f"tu orden empieza por {_label(order[0]).es}; debe empezar por el nodo de la "
            f"salida, output.grad_fn, donde empieza backward (con {case.es})."))
    for node in order:
        if node.is_leaf_node:
            continue
        for parent in node.parents:
            if parent is not None and position[id(parent)] < position[id(node)]:
                raise Mistake(Text(
                    f"{_label(parent).en} comes before {_label(node).en}, which uses it "
                    f"(for {case.en}).",
                    f"{_label(parent).es} va antes que {_label(node).es}, que lo usa "
                    f"(con {case.es})."), BEFORE_CONSUMER)
