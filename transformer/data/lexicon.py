"""The built-in corpus's words: nouns and adjectives, with their Spanish forms.

Every word is written once, with what the grammar needs to realise it in both languages:
nouns with their plurals, gender and tags (``NOUNS``); adjectives with their copula
(ser/estar), the noun tags they describe and their agreeing forms (``ADJECTIVES``).
Pronouns, names, possessives, demonstratives, numbers, time adverbs and prepositions sit
beside them, and so do the tables derived from the words (``ADJ_FOR_NOUN``, ``ATTRIBUTIVE``,
``PEOPLE``, ``FOODS``, the places ...) that the verbs (verbs.py: conjugations and what each
verb combines with), the grammar (grammar.py) and the sampler (sampler.py) pick from.
synthetic.py's docstring describes the corpus as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass

PERSONS = ("1s", "2s", "3s", "1p", "3p")   # Spanish verb slots (3p also for ustedes)


# ====================================================================== lexicon: nouns

@dataclass(frozen=True)
class Noun:
    en: str                 # English singular (also the lemma used in combination keys)
    en_pl: str | None       # None for mass nouns: no plural, no "a", no numbers
    es: str
    es_pl: str | None
    gender: str             # "m" / "f"
    tags: frozenset
    prep: str = "in"        # English preposition for "located at": in / at
    el: bool = False        # feminine noun taking "el" in the singular (el agua)

    @property
    def mass(self) -> bool:
        return self.en_pl is None


def en_plural(w: str) -> str:
    if w.endswith(("s", "sh", "ch", "x", "z")):
        return w + "es"
    if w.endswith("y") and w[-2] not in "aeiou":
        return w[:-1] + "ies"
    return w + "s"


_UNACCENT = str.maketrans("áéíóú", "aeiou")


def _es_plural(w: str) -> str:
    if w[-1] in "aeiouéó":              # casa → casas, café → cafés
        return w + "s"
    if w.endswith("z"):                 # luz → luces
        return w[:-1] + "ces"
    if w[-1] in "ns" and w[-2] in "áéíóú":   # canción → canciones, jardín → jardines
        return w[:-2] + w[-2].translate(_UNACCENT) + w[-1] + "es"
    return w + "es"                     # ciudad → ciudades, hotel → hoteles


def _n(en, es, gender, tags, en_pl="", es_pl="", mass=False, prep="in", el=False):
    if mass:
        en_pl = es_pl = None
    else:
        en_pl = en_pl or en_plural(en)
        es_pl = es_pl or _es_plural(es)
    return Noun(en, en_pl, es, es_pl, gender, frozenset(tags.split()), prep, el)


# Tags: person animal food drink thing place + finer ones used to pick sensible
# adjectives, objects and locations (colored, openable, container, breakable, ...).
NOUNS = {n.en: n for n in [
    # people
    _n("man", "hombre", "m", "person", en_pl="men"),
    _n("woman", "mujer", "f", "person", en_pl="women"),
    _n("boy", "niño", "m", "person"),
    _n("girl", "niña", "f", "person"),
    _n("brother", "hermano", "m", "person kin"),
    _n("sister", "hermana", "f", "person kin"),
    _n("father", "padre", "m", "person kin parent"),
    _n("mother", "madre", "f", "person kin parent"),
    _n("son", "hijo", "m", "person kin"),
    _n("daughter", "hija", "f", "person kin"),
    _n("grandfather", "abuelo", "m", "person kin parent"),
    _n("grandmother", "abuela", "f", "person kin parent"),
    # animals
    _n("dog", "perro", "m", "animal pet furry cleanable"),
    _n("cat", "gato", "m", "animal pet furry"),
    _n("bird", "pájaro", "m", "animal wild"),
    _n("horse", "caballo", "m", "animal furry"),
    _n("cow", "vaca", "f", "animal furry"),
    _n("mouse", "ratón", "m", "animal wild", en_pl="mice"),
    _n("duck", "pato", "m", "animal wild swimmer"),
    _n("rabbit", "conejo", "m", "animal pet furry"),
    # food (mass nouns: no "a", no plural)
    _n("bread", "pan", "m", "food tasty animal_food", mass=True),
    _n("apple", "manzana", "f", "food tasty animal_food small"),
    _n("fish", "pescado", "m", "food tasty animal_food cookable servedhot", mass=True),
    _n("cheese", "queso", "m", "food tasty animal_food", mass=True),
    _n("egg", "huevo", "m", "food cookable small"),
    _n("orange", "naranja", "f", "food tasty small"),
    _n("cake", "pastel", "m", "food tasty makeable"),
    _n("rice", "arroz", "m", "food cookable servedhot", mass=True),
    _n("meat", "carne", "f", "food tasty animal_food cookable servedhot", mass=True),
    _n("chicken", "pollo", "m", "food tasty cookable servedhot", mass=True),
    _n("soup", "sopa", "f", "food tasty makeable cookable servedhot", mass=True),
    _n("tomato", "tomate", "m", "food small", en_pl="tomatoes"),
    _n("potato", "patata", "f", "food cookable small", en_pl="potatoes"),
    _n("cookie", "galleta", "f", "food tasty makeable small"),
    # drinks (mass)
    _n("milk", "leche", "f", "drink tasty animal_drink servedhot", mass=True),
    _n("coffee", "café", "m", "drink tasty makeable servedhot", mass=True),
    _n("tea", "té", "m", "drink tasty makeable servedhot", mass=True),
    _n("water", "agua", "f", "drink animal_drink servedhot", mass=True, el=True),
    _n("juice", "zumo", "m", "drink tasty", mass=True),
    _n("wine", "vino", "m", "drink tasty", mass=True),
    # things
    _n("book", "libro", "m", "thing reading colored openable small long"),
    _n("letter", "carta", "f", "thing reading writing small long"),
    _n("newspaper", "periódico", "m", "thing reading small"),
    _n("magazine", "revista", "f", "thing reading small"),
    _n("poem", "poema", "m", "thing reading writing long"),
    _n("song", "canción", "f", "thing writing long"),
    _n("car", "coche", "m", "thing colored vehicle breakable cleanable container fillable"),
    _n("bicycle", "bicicleta", "f", "thing colored vehicle breakable"),
    _n("table", "mesa", "f", "thing colored furniture breakable cleanable"),
    _n("chair", "silla", "f", "thing colored furniture breakable"),
    _n("bed", "cama", "f", "thing furniture cleanable"),
    _n("door", "puerta", "f", "thing colored openable breakable"),
    _n("window", "ventana", "f", "thing openable breakable cleanable"),
    _n("ball", "pelota", "f", "thing colored small"),
    _n("phone", "teléfono", "m", "thing breakable small"),
    _n("computer", "ordenador", "m", "thing breakable"),
    _n("key", "llave", "f", "thing small"),
    _n("cup", "taza", "f",
       "thing colored dishes container drinkware breakable cleanable small fillable"),
    _n("glass", "vaso", "m", "thing dishes container drinkware breakable cleanable small fillable"),
    _n("bottle", "botella", "f", "thing container drinkware openable small fillable"),
    _n("box", "caja", "f", "thing colored container openable small fillable"),
    _n("bag", "bolsa", "f", "thing colored container openable small fillable"),
    _n("shirt", "camisa", "f", "thing colored clothing cleanable small"),
    _n("hat", "sombrero", "m", "thing colored clothing small"),
    _n("shoe", "zapato", "m", "thing colored clothing cleanable small"),
    _n("umbrella", "paraguas", "m", "thing colored openable breakable small", es_pl="paraguas"),
    _n("map", "mapa", "m", "thing small"),
    _n("clock", "reloj", "m", "thing breakable small"),
    _n("photo", "foto", "f", "thing small"),
    _n("lamp", "lámpara", "f", "thing colored breakable small"),
    # places
    _n("house", "casa", "f", "place building home cleanable"),
    _n("room", "habitación", "f", "place building home cleanable"),
    _n("kitchen", "cocina", "f", "place building home cleanable"),
    _n("garden", "jardín", "m", "place outdoor home"),
    _n("park", "parque", "m", "place outdoor"),
    _n("street", "calle", "f", "place outdoor long cleanable"),
    _n("beach", "playa", "f", "place outdoor water", prep="at"),
    _n("river", "río", "m", "place outdoor water long"),
    _n("lake", "lago", "m", "place outdoor water"),
    _n("forest", "bosque", "m", "place outdoor"),
    _n("city", "ciudad", "f", "place town"),
    _n("village", "pueblo", "m", "place town"),
    _n("school", "escuela", "f", "place building public", prep="at"),
    _n("library", "biblioteca", "f", "place building public openable"),
    _n("office", "oficina", "f", "place building", prep="at"),
    _n("hospital", "hospital", "m", "place building public", prep="at"),
    _n("market", "mercado", "m", "place building public business openable", prep="at"),
    _n("store", "tienda", "f", "place building public business openable", prep="at"),
    _n("restaurant", "restaurante", "m", "place building public business openable fillable",
       prep="at"),
    _n("bank", "banco", "m", "place building public openable", prep="at"),
    _n("station", "estación", "f", "place building public", prep="at"),
    _n("airport", "aeropuerto", "m", "place building public", prep="at"),
    _n("hotel", "hotel", "m", "place building public business fillable", prep="at"),
    _n("museum", "museo", "m", "place building public openable fillable", prep="at"),
    # languages: bare nouns, no article, no adjective
    _n("English", "inglés", "m", "language", mass=True),
    _n("Spanish", "español", "m", "language", mass=True),
    _n("French", "francés", "m", "language", mass=True),
    _n("German", "alemán", "m", "language", mass=True),
]}


def tagged(*tags, exclude=()) -> tuple[str, ...]:
    """Nouns carrying any of ``tags`` (and none of ``exclude``), in lexicon order."""
    return tuple(k for k, n in NOUNS.items()
                 if n.tags & set(tags) and not n.tags & set(exclude))


PEOPLE = tagged("person")
ANIMALS = tagged("animal")

NAMES = {"Ana": "f", "María": "f", "Lucía": "f", "Elena": "f",
         "Juan": "m", "Carlos": "m", "Pedro": "m", "Pablo": "m"}

# English pronoun → (Spanish, verb slot, gender, English agreement)
PRONOUNS = {
    "I": ("yo", 0, "m", "1s"), "you": ("tú", 1, "m", "2s"), "he": ("él", 2, "m", "3s"),
    "she": ("ella", 2, "f", "3s"), "we": ("nosotros", 3, "m", "pl"),
    "you all": ("ustedes", 4, "m", "pl"), "they": ("ellos", 4, "m", "pl"),
}
POSSESSIVES = {"my": "mi", "your": "tu", "his": "su", "her": "su", "our": "nuestro",
               "their": "su"}
DEMONSTRATIVES = {"this": ("these", "este"), "that": ("those", "ese")}

NUMBERS = {1: ("one", "uno"), 2: ("two", "dos"), 3: ("three", "tres"), 4: ("four", "cuatro"),
           5: ("five", "cinco"), 6: ("six", "seis"), 7: ("seven", "siete"),
           8: ("eight", "ocho"), 9: ("nine", "nueve"), 10: ("ten", "diez"),
           11: ("eleven", "once"), 12: ("twelve", "doce"), 13: ("thirteen", "trece"),
           14: ("fourteen", "catorce"), 15: ("fifteen", "quince"),
           16: ("sixteen", "dieciséis"), 17: ("seventeen", "diecisiete"),
           18: ("eighteen", "dieciocho"), 19: ("nineteen", "diecinueve"),
           20: ("twenty", "veinte"), 30: ("thirty", "treinta"), 40: ("forty", "cuarenta"),
           50: ("fifty", "cincuenta"), 100: ("one hundred", "cien")}
NUMBER_BY_WORD = {en: k for k, (en, _) in NUMBERS.items()}

# ================================================================= lexicon: adjectives


@dataclass(frozen=True)
class Adj:
    en: str
    es: str                 # masculine singular
    copula: str             # "ser" (inherent quality) or "estar" (state)
    applies: frozenset      # noun tags it can describe ("person" also covers pronouns/names)
    group: str              # never two adjectives of one group on one noun (red car is blue)
    attributive: bool = True

    @property
    def future_ok(self) -> bool:
        """"The door will be open", "the soup will be delicious"; not "a hat will be yellow"."""
        return self.copula == "estar" or self.group in ("size", "beauty", "price", "taste")

    def form(self, gender: str, plural: bool) -> str:
        w = self.es
        if w[-1] == "o":                                  # rojo roja rojos rojas
            w = w[:-1] + ("o" if gender == "m" else "a")
            return w + "s" if plural else w
        if not plural:
            return w                                      # grande, azul, joven
        return _ADJ_PLURALS.get(w) or (w + "s" if w[-1] in "aeiou" else w + "es")


_ADJ_PLURALS = {"joven": "jóvenes"}


def _a(en, es, copula, applies, group, attributive=True):
    return Adj(en, es, copula, frozenset(applies.split()), group, attributive)


ADJECTIVES = {a.en: a for a in [
    # ser: inherent qualities
    _a("big", "grande", "ser", "animal vehicle furniture building home town container", "size"),
    _a("small", "pequeño", "ser", "animal vehicle furniture building home town container", "size"),
    _a("red", "rojo", "ser", "colored", "color"),
    _a("blue", "azul", "ser", "colored", "color"),
    _a("green", "verde", "ser", "colored", "color"),
    _a("yellow", "amarillo", "ser", "colored", "color"),
    _a("white", "blanco", "ser", "colored furry", "color"),
    _a("black", "negro", "ser", "colored furry", "color"),
    _a("new", "nuevo", "ser", "colored vehicle furniture building clothing", "age"),
    _a("old", "viejo", "ser", "person animal vehicle furniture building town clothing", "age"),
    _a("young", "joven", "ser", "person animal", "age"),
    _a("beautiful", "hermoso", "ser", "animal outdoor town home", "beauty"),
    _a("tall", "alto", "ser", "person", "height"),
    _a("intelligent", "inteligente", "ser", "person animal", "mind"),
    _a("strong", "fuerte", "ser", "person furry", "strength"),
    _a("expensive", "caro", "ser", "vehicle clothing business", "price"),
    _a("cheap", "barato", "ser", "vehicle clothing business", "price"),
    _a("long", "largo", "ser", "long", "length"),
    _a("delicious", "delicioso", "ser", "tasty", "taste"),
    # estar: states
    _a("tired", "cansado", "estar", "person animal", "energy"),
    _a("happy", "contento", "estar", "person animal", "mood"),
    _a("sad", "triste", "estar", "person animal", "mood"),
    _a("sick", "enfermo", "estar", "person animal", "health"),
    _a("busy", "ocupado", "estar", "person", "busy"),
    _a("ready", "listo", "estar", "person", "ready", attributive=False),
    _a("clean", "limpio", "estar", "cleanable", "clean"),
    _a("dirty", "sucio", "estar", "cleanable", "clean"),
    _a("open", "abierto", "estar", "openable", "open"),
    _a("closed", "cerrado", "estar", "openable", "open"),
    _a("full", "lleno", "estar", "fillable", "fill"),
    _a("empty", "vacío", "estar", "fillable", "fill"),
    _a("broken", "roto", "estar", "breakable", "broken"),
    _a("hot", "caliente", "estar", "servedhot", "temperature"),
    _a("cold", "frío", "estar", "servedhot", "temperature"),
]}


def _adjs_for(tags: frozenset) -> tuple[str, ...]:
    return tuple(k for k, a in ADJECTIVES.items() if a.applies & tags)


ADJ_FOR_NOUN = {k: _adjs_for(n.tags) for k, n in NOUNS.items()}
PERSON_ADJS = _adjs_for(frozenset({"person"}))
PERSON_STATES = tuple(a for a in PERSON_ADJS if ADJECTIVES[a].copula == "estar")
ATTRIBUTIVE = {k: tuple(a for a in v if ADJECTIVES[a].attributive) for k, v in ADJ_FOR_NOUN.items()}

# ================================================================ lexicon: noun tables
# Nouns grouped by where they can be and what they can do: the verbs (verbs.py) and the
# sampler pick subjects, objects and places from these.

HOME = ("house", "room", "kitchen", "garden")
FURNITURE = ("table", "chair", "bed")
# where each animal can be ("the cow is in the kitchen" is not generated)
ANIMAL_PLACES = {"dog": HOME + ("park", "street", "car", "beach", "river"),
                 "cat": HOME + ("park", "street", "car"), "rabbit": HOME + ("park",),
                 "mouse": ("house", "kitchen", "room", "garden"),
                 "bird": ("garden", "park", "forest"), "duck": ("river", "lake", "park", "garden"),
                 "horse": ("forest", "park", "river", "village"),
                 "cow": ("forest", "park", "river", "village")}
WORK = ("office", "hospital", "bank", "store", "restaurant", "school", "market", "hotel",
        "museum", "library", "station", "airport")
PUBLIC = tagged("public")
FOODS, DRINKS = tagged("food"), tagged("drink")
SMALL = tagged("small", exclude=("food",))
STRANGERS = tagged("person", exclude=("kin",))      # people that "there is/are"
PERSON_PLACES = tagged("building", "outdoor", "town", exclude=("water",)) + ("beach",)
BE_ADJ_SUBJECTS = PEOPLE + ANIMALS + tagged("thing", "place", "food", "drink")
BE_LOC_SUBJECTS = PEOPLE + ANIMALS + SMALL + FOODS + DRINKS + ("car", "bicycle")
EXIST_SUBJECTS = STRANGERS + ANIMALS + SMALL + FOODS + DRINKS
COUNTABLE_EXIST = tuple(h for h in STRANGERS + ANIMALS + SMALL + FOODS if not NOUNS[h].mass)
DRINKWARE = tagged("drinkware")

TIMES = {"today": ("hoy", None), "yesterday": ("ayer", "past"), "tomorrow": ("mañana", "future"),
         "every day": ("todos los días", "present"), "in the morning": ("por la mañana", None),
         "at night": ("por la noche", None)}

# English location prepositions → Spanish.
LOC_PREPS = {"in": "en", "at": "en", "on": "sobre", "under": "debajo de", "near": "cerca de"}
