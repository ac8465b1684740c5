"""The built-in English→Spanish corpus: grammar, determinism, and held-out splits."""

import re

import pytest

from transformer.data import grammar as G
from transformer.data import lexicon as L
from transformer.data import verbs as V
from transformer.data import synthetic as S
from transformer.data.grammar import translate_clause as T
from transformer.data.synthetic import HELD_OUT


@pytest.fixture(scope="module")
def splits():
    return S.make_split_examples(seed=0, n_train=20_000, n_valid=500, n_test=500)


def words(text):
    return re.findall(r"\w+", text.lower())


# (translate_clause arguments, expected English, expected Spanish), written by hand.
TABLE = [
    # agreement: article, adjective after the noun, gender and number
    (dict(subject="she", verb="eat", tense="past", negated=True, obj="the apple"),
     "She did not eat the apple.", "Ella no comió la manzana."),
    (dict(subject="the cat", verb="eat", obj="the fish"),
     "The cat eats the fish.", "El gato come el pescado."),
    (dict(subject="I", verb="see", obj="the red car"), "I see the red car.",
     "Yo veo el coche rojo."),
    (dict(subject="the big dogs", verb="be", tense="past", adj="tired"),
     "The big dogs were tired.", "Los perros grandes estaban cansados."),
    (dict(subject="the girls", verb="be", adj="tired"), "The girls are tired.",
     "Las niñas están cansadas."),
    (dict(subject="our houses", verb="be", adj="big"), "Our houses are big.",
     "Nuestras casas son grandes."),
    (dict(subject="these white cups", verb="be", adj="clean"), "These white cups are clean.",
     "Estas tazas blancas están limpias."),
    (dict(subject="the water", verb="be", adj="cold"), "The water is cold.", "El agua está fría."),
    (dict(subject="he", verb="have", obj="an old car"), "He has an old car.",
     "Él tiene un coche viejo."),
    (dict(subject="she", verb="write", tense="past", obj="a long poem"),
     "She wrote a long poem.", "Ella escribió un poema largo."),
    (dict(subject="they", verb="sing", tense="future", obj="the songs"),
     "They will sing the songs.", "Ellos cantarán las canciones."),
    # ser (inherent) vs estar (state, location)
    (dict(subject="the door", verb="be", adj="red"), "The door is red.", "La puerta es roja."),
    (dict(subject="the door", verb="be", adj="open"), "The door is open.",
     "La puerta está abierta."),
    (dict(subject="the car", verb="be", tense="past", adj="red"), "The car was red.",
     "El coche era rojo."),
    (dict(subject="the cat", verb="be", place="under the table"), "The cat is under the table.",
     "El gato está debajo de la mesa."),
    # irregular verbs in three tenses
    (dict(subject="I", verb="go", place="the park"), "I go to the park.", "Yo voy al parque."),
    (dict(subject="we", verb="go", tense="past", place="the market"), "We went to the market.",
     "Nosotros fuimos al mercado."),
    (dict(subject="she", verb="go", tense="future", place="the beach"), "She will go to the beach.",
     "Ella irá a la playa."),
    (dict(subject="he", verb="make", obj="a cake"), "He makes a cake.", "Él hace un pastel."),
    (dict(subject="they", verb="make", tense="past", obj="the soup"), "They made the soup.",
     "Ellos hicieron la sopa."),
    (dict(subject="you", verb="make", tense="future", obj="tea"), "You will make tea.",
     "Tú harás té."),
    (dict(subject="I", verb="have", obj="three dogs"), "I have three dogs.",
     "Yo tengo tres perros."),
    (dict(subject="she", verb="have", tense="past", obj="a cat"), "She had a cat.",
     "Ella tenía un gato."),
    (dict(subject="we", verb="have", tense="future", obj="a house"), "We will have a house.",
     "Nosotros tendremos una casa."),
    (dict(subject="you", verb="come", tense="past", place="the park"), "You came to the park.",
     "Tú viniste al parque."),
    (dict(subject="he", verb="leave", tense="past", place="the park"), "He left the park.",
     "Él salió del parque."),
    (dict(subject="we", verb="leave", tense="future", place="the station"),
     "We will leave the station.", "Nosotros saldremos de la estación."),
    (dict(subject="the cat", verb="sleep", tense="past", place="in the house"),
     "The cat slept in the house.", "El gato durmió en la casa."),
    (dict(subject="he", verb="read", tense="past", obj="the book"), "He read the book.",
     "Él leyó el libro."),
    (dict(subject="I", verb="arrive", tense="past", place="the station"),
     "I arrived at the station.", "Yo llegué a la estación."),
    (dict(subject="they", verb="arrive", tense="future", place="the city"),
     "They will arrive in the city.", "Ellos llegarán a la ciudad."),
    (dict(subject="I", verb="play", tense="past", place="in the park"), "I played in the park.",
     "Yo jugué en el parque."),
    (dict(subject="I", verb="be", adj="tall"), "I am tall.", "Yo soy alto."),
    (dict(subject="she", verb="go", tense="present", place="the school"),
     "She goes to the school.", "Ella va a la escuela."),
    (dict(subject="he", verb="study", obj="English"), "He studies English.", "Él estudia inglés."),
    (dict(subject="you all", verb="live", place="in the city"), "You all live in the city.",
     "Ustedes viven en la ciudad."),
    # modals: can (poder), want to (querer)
    (dict(subject="I", verb="open", tense="past", negated=True, modal="can", obj="the door"),
     "I was not able to open the door.", "Yo no pude abrir la puerta."),
    (dict(subject="I", verb="open", tense="future", modal="can", obj="the door"),
     "I will be able to open the door.", "Yo podré abrir la puerta."),
    (dict(subject="he", verb="swim", negated=True, modal="can"), "He cannot swim.",
     "Él no puede nadar."),
    (dict(subject="she", verb="eat", tense="past", modal="want", obj="an apple"),
     "She wanted to eat an apple.", "Ella quería comer una manzana."),
    # negation in three tenses
    (dict(subject="I", verb="eat", negated=True), "I do not eat.", "Yo no como."),
    (dict(subject="I", verb="eat", tense="past", negated=True), "I did not eat.", "Yo no comí."),
    (dict(subject="I", verb="eat", tense="future", negated=True), "I will not eat.",
     "Yo no comeré."),
    (dict(subject="the car", verb="be", tense="future", negated=True, adj="expensive"),
     "The car will not be expensive.", "El coche no será caro."),
    # yes/no questions (statement order) and wh-questions (inverted)
    (dict(subject="you", verb="eat", obj="bread", form="yesno"), "Do you eat bread?",
     "¿Tú comes pan?"),
    (dict(subject="you", verb="swim", modal="can", form="yesno"), "Can you swim?",
     "¿Tú puedes nadar?"),
    (dict(subject="you", verb="swim", tense="past", modal="can", form="yesno"),
     "Were you able to swim?", "¿Tú pudiste nadar?"),
    (dict(subject="the car", verb="be", adj="red", form="yesno"), "Is the car red?",
     "¿El coche es rojo?"),
    (dict(subject="she", verb="eat", form="what"), "What does she eat?", "¿Qué come ella?"),
    (dict(subject="the dog", verb="be", place="in the house", form="where"),
     "Where is the dog?", "¿Dónde está el perro?"),
    (dict(subject="the dog", verb="be", tense="future", place="in the house", form="where"),
     "Where will the dog be?", "¿Dónde estará el perro?"),
    (dict(subject="we", verb="live", place="in the city", form="where"), "Where do we live?",
     "¿Dónde vivimos nosotros?"),
    (dict(verb="eat", tense="past", obj="the apple", form="who"), "Who ate the apple?",
     "¿Quién comió la manzana?"),
    (dict(subject="they", verb="arrive", tense="future", place="the station", form="when"),
     "When will they arrive at the station?", "¿Cuándo llegarán ellos a la estación?"),
    (dict(subject="you", verb="have", obj="dogs", form="how_many"), "How many dogs do you have?",
     "¿Cuántos perros tienes tú?"),
    (dict(subject="she", verb="buy", tense="past", obj="red cups", form="how_many"),
     "How many red cups did she buy?", "¿Cuántas tazas rojas compró ella?"),
    (dict(verb="there", obj="cats", place="in the house", form="how_many"),
     "How many cats are there in the house?", "¿Cuántos gatos hay en la casa?"),
    # numbers with gender (uno → un/una), one hundred → cien
    (dict(subject="I", verb="have", obj="one house"), "I have one house.", "Yo tengo una casa."),
    (dict(subject="I", verb="have", obj="one dog"), "I have one dog.", "Yo tengo un perro."),
    (dict(subject="we", verb="see", tense="past", obj="one hundred birds"),
     "We saw one hundred birds.", "Nosotros vimos cien pájaros."),
    (dict(subject="the sixteen keys", verb="be", place="in the box"),
     "The sixteen keys are in the box.", "Las dieciséis llaves están en la caja."),
    # existentials
    (dict(verb="there", obj="three cats", place="in the house"),
     "There are three cats in the house.", "Hay tres gatos en la casa."),
    (dict(verb="there", obj="bread", place="in the kitchen", negated=True),
     "There is no bread in the kitchen.", "No hay pan en la cocina."),
    (dict(verb="there", tense="past", obj="a dog", place="under the bed"),
     "There was a dog under the bed.", "Había un perro debajo de la cama."),
    (dict(verb="there", tense="future", obj="milk", place="in the glass", form="yesno"),
     "Will there be milk in the glass?", "¿Habrá leche en el vaso?"),
    # contractions and the personal "a"
    (dict(subject="the dog", verb="be", place="near the bank"), "The dog is near the bank.",
     "El perro está cerca del banco."),
    (dict(subject="we", verb="see", tense="past", obj="the boy"), "We saw the boy.",
     "Nosotros vimos al niño."),
    (dict(subject="we", verb="see", tense="past", obj="a dog"), "We saw a dog.",
     "Nosotros vimos un perro."),
    (dict(subject="we", verb="see", tense="past", obj="the dog"), "We saw the dog.",
     "Nosotros vimos al perro."),
    (dict(subject="she", verb="see", tense="future", obj="the birds"), "She will see the birds.",
     "Ella verá los pájaros."),
    (dict(subject="I", verb="call", obj="my mother"), "I call my mother.", "Yo llamo a mi madre."),
    (dict(subject="Ana", verb="visit", tense="future", obj="Juan"), "Ana will visit Juan.",
     "Ana visitará a Juan."),
    # time
    (dict(subject="I", verb="eat", obj="bread", time="every day"), "I eat bread every day.",
     "Yo como pan todos los días."),
    (dict(subject="she", verb="swim", tense="past", place="in the river", time="at night"),
     "She swam in the river at night.", "Ella nadó en el río por la noche."),
]


@pytest.mark.parametrize("kwargs, en, es", TABLE, ids=[t[1] for t in TABLE])
def test_hand_written_translations(kwargs, en, es):
    assert T(**kwargs) == (en, es)


def test_spanish_plurals_and_conjugation_tables():
    assert [L.NOUNS[w].es_pl for w in ("song", "mouse", "garden", "umbrella", "city")] == [
        "canciones", "ratones", "jardines", "paraguas", "ciudades"]
    assert [L.NOUNS[w].en_pl for w in ("mouse", "woman", "box", "city", "potato")] == [
        "mice", "women", "boxes", "cities", "potatoes"]
    assert V.SPANISH_VERBS["dormir"]["preterite"] == (
        "dormí", "dormiste", "durmió", "dormimos", "durmieron")
    assert V.SPANISH_VERBS["tener"]["future"][0] == "tendré"
    assert V.SPANISH_VERBS["llegar"]["preterite"][0] == "llegué"
    assert L.ADJECTIVES["young"].form("f", True) == "jóvenes"
    assert L.ADJECTIVES["blue"].form("f", True) == "azules"


def test_greetings_and_fixed_phrases(splits):
    assert ("Hello world.", "Hola mundo.") in G.FIXED
    assert ("How are you?", "¿Cómo estás?") in G.FIXED
    g = G.greet("Good morning", "Ana")
    assert (g.en, g.es) == ("Good morning, Ana.", "Buenos días, Ana.")
    g = G.greet("How are you", "Juan")
    assert (g.en, g.es) == ("How are you, Juan?", "¿Cómo estás, Juan?")
    assert ("Hello world.", "Hola mundo.") in {(e.en, e.es) for e in splits["train"]}


def test_generate_pairs_is_deterministic_from_the_seed():
    a, b = S.generate_pairs(300, seed=0), S.generate_pairs(300, seed=0)
    assert a == b and len(a) == 300
    assert S.generate_pairs(300, seed=1) != a


def test_make_splits_is_deterministic_and_test_independent_of_n_train():
    a = S.make_splits(seed=3, n_train=500, n_valid=50, n_test=50)
    assert a == S.make_splits(seed=3, n_train=500, n_valid=50, n_test=50)
    assert {k: len(v) for k, v in a.items()} == {"train": 500, "valid": 50, "test": 50}
    assert S.make_splits(seed=3, n_train=200, n_valid=50, n_test=50)["test"] == a["test"]
    assert S.make_splits(seed=4, n_train=500, n_valid=50, n_test=50)["test"] != a["test"]


def test_splits_are_disjoint_by_english_sentence(splits):
    en = {k: {e.en for e in v} for k, v in splits.items()}
    assert not en["train"] & en["valid"]
    assert not en["train"] & en["test"]
    assert not en["valid"] & en["test"]
    assert len(en["test"]) == len(splits["test"])       # held-out sentences are distinct


def test_test_combinations_never_seen_in_training(splits):
    train_combos = set().union(*(e.combos for e in splits["train"]))
    assert not train_combos & (HELD_OUT["test"] | HELD_OUT["valid"])
    for e in splits["test"]:
        assert e.combos & HELD_OUT["test"] and not e.combos & HELD_OUT["valid"], e
    for e in splits["valid"]:
        assert e.combos & HELD_OUT["valid"] and not e.combos & HELD_OUT["test"], e
    # nearly every held-out combination is actually tested
    seen = set().union(*(e.combos for e in splits["test"])) & HELD_OUT["test"]
    assert len(seen) >= 0.9 * len(HELD_OUT["test"]), HELD_OUT["test"] - seen


def test_every_test_word_appears_in_training(splits):
    for side in ("en", "es"):
        train = {w for e in splits["train"] for w in words(getattr(e, side))}
        held = {w for k in ("valid", "test") for e in splits[k] for w in words(getattr(e, side))}
        assert held <= train, held - train


def test_combination_keys_are_a_function_of_the_english_sentence():
    """The English side alone decides the Spanish (and the held-out keys)."""
    spanish, keys = {}, {}
    for e in S.generate_examples(20_000, seed=7):
        assert spanish.setdefault(e.en, e.es) == e.es, e.en
        assert keys.setdefault(e.en, e.combos) == e.combos, e.en


def test_formatting(splits):
    for e in [x for v in splits.values() for x in v[:3000]]:
        for text in (e.en, e.es):
            assert "  " not in text and text == text.strip()
            assert text[-1] in ".?" and not re.search(r" [.,?]", text), text
            assert re.search(r"\w", text[:2]) and (text[0].isupper() or text[1].isupper()), text
        question = e.en.endswith("?")
        assert e.es.endswith("?") == question, e
        if question:     # "¿Dónde está?", or after a greeting: "Hola, ¿cómo estás?"
            assert e.es.startswith("¿") and e.es[1].isupper() or ", ¿" in e.es, e
        assert len(e.en.split()) <= 13


def test_describe_lists_the_vocabulary():
    text = S.describe()
    for w in ("dog (el perro)", "house (la casa)", "tired (estar cansado)", "go (ir)", "Ana"):
        assert w in text
