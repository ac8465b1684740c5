"""Exercise 3: the topological order of backward
Ejercicio 3: el orden topológico de backward

English
=======

Each tensor made by an op points at its node, tensor.grad_fn (a Function), and each node
points at its inputs' nodes, node.parents: a tuple with, per input, the node that made
it, the input itself when it is a leaf tensor that requires grad, or None. A leaf is
told apart by node.is_leaf_node (True for a leaf tensor, False for a Function).
backward walks this graph from the output to the leaves (docs/01-backprop.md, "How the
engine walks").

A node may run its backward only when every node that consumes its output has run: it
needs the *sum* of the gradients they send. When a value is used twice,

    x = leaf;  a = x * x;  b = a.sin();  out = (a * b).sum()

a must wait for both (a * b) and sin; a depth-first walk that runs a right after
(a * b) would miss sin's share.

Write topological_order(output): a list with every node of the graph behind output, each
once, output.grad_fn first, and every node after all the nodes that consume it. Leaves
are nodes too (they come after the nodes that use them). The grader checks your order on
random graphs and then runs the engine's backward in your order.

    python -m exercises check 3

Hints
-----
1. Keep visited nodes in a set: nodes hash by identity (a leaf tensor's == compares
   values, so "node in a_list" does not work for leaves).
2. Post-order: visit all of a node's parents first, then append the node. The reverse of
   that list puts every node after its consumers.
3. Or count first how many consumers each node has, then release a node when the count
   reaches 0: that is what engine.py does.
4. Use an explicit stack rather than recursion if you like: graphs can be deep.

Español
=======

Cada tensor hecho por una op apunta a su nodo, tensor.grad_fn (una Function), y cada nodo
apunta a los nodos de sus entradas, node.parents: una tupla con, por cada entrada, el
nodo que la hizo, la propia entrada si es un tensor hoja que requiere gradiente, o None.
Una hoja se distingue por node.is_leaf_node (True en un tensor hoja, False en una
Function). backward recorre este grafo de la salida a las hojas (docs/es/01-backprop.md,
"Cómo recorre el motor el grafo").

Un nodo solo puede ejecutar su backward cuando todos los nodos que consumen su salida ya
se ejecutaron: necesita la *suma* de los gradientes que le envían. Cuando un valor se usa
dos veces,

    x = leaf;  a = x * x;  b = a.sin();  out = (a * b).sum()

a debe esperar a (a * b) y a sin; un recorrido en profundidad que ejecute a justo
después de (a * b) perdería la parte de sin.

Escribe topological_order(output): una lista con todos los nodos del grafo detrás de
output, cada uno una vez, primero output.grad_fn, y cada nodo después de todos los nodos
que lo consumen. Las hojas también son nodos (van después de los nodos que las usan). El
corrector comprueba tu orden en grafos aleatorios y luego ejecuta el backward del motor
en tu orden.

    python -m exercises check 3

Pistas
------
1. Guarda los nodos visitados en un set: los nodos se comparan por identidad (el == de un
   tensor hoja compara valores, así que "node in una_lista" no sirve para hojas).
2. Post-orden: visita primero todos los padres de un nodo y luego añade el nodo. La lista
   al revés pone cada nodo después de sus consumidores.
3. O cuenta primero cuántos consumidores tiene cada nodo y libera un nodo cuando la
   cuenta llegue a 0: es lo que hace engine.py.
4. Si quieres, usa una pila explícita en lugar de recursión: los grafos pueden ser hondos.
"""


def topological_order(output):
    """output: a tensor with a grad_fn -> [output.grad_fn, ..., leaves], each node once.

    ES: output: un tensor con grad_fn -> [output.grad_fn, ..., hojas], cada nodo una vez.
    """
    raise NotImplementedError
