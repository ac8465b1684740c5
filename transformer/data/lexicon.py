"""The built-in corpus's words: nouns, adjectives and verbs, with their Spanish forms.

Every word is written once, with what the grammar needs to realise it in both languages:
nouns with their plurals, gender and tags (``NOUNS``); adjectives with their copula
(ser/estar), the noun tags they describe and their agreeing forms (``ADJECTIVES``); verbs
with their English past, Spanish infinitive and the subjects, objects and places that make
sense with them (``VERBS``), conjugated by ``conjugate`` into ``SPANISH_VERBS``. Pronouns,
names, possessives, demonstratives, numbers, time adverbs and prepositions sit beside
them, and so do the tables derived from the words (``ADJ_FOR_NOUN``, ``ATTRIBUTIVE``,
``PEOPLE``, ``FOODS``, ...) that the grammar (grammar.py) and the sampler (sampler.py) pick
from. synthetic.py's docstring describes the corpus as a whole.
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


def _en_plural(w: str) -> str:
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
        en_pl = en_pl or _en_plural(en)
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


def _tagged(*tags, exclude=()) -> tuple[str, ...]:
    """Nouns carrying any of ``tags`` (and none of ``exclude``), in lexicon order."""
    return tuple(k for k, n in NOUNS.items()
                 if n.tags & set(tags) and not n.tags & set(exclude))


PEOPLE = _tagged("person")
ANIMALS = _tagged("animal")

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

# ====================================================================== lexicon: verbs

_PRES = {"ar": ("o", "as", "a", "amos", "an"), "er": ("o", "es", "e", "emos", "en"),
         "ir": ("o", "es", "e", "imos", "en")}
_PRET = {"ar": ("é", "aste", "ó", "amos", "aron"), "er": ("í", "iste", "ió", "imos", "ieron"),
         "ir": ("í", "iste", "ió", "imos", "ieron")}
_IMPF = {"ar": ("aba", "abas", "aba", "ábamos", "aban"), "er": ("ía", "ías", "ía", "íamos", "ían"),
         "ir": ("ía", "ías", "ía", "íamos", "ían")}
_FUT = ("é", "ás", "á", "emos", "án")


def conjugate(inf: str, **irregular) -> dict[str, tuple[str, ...]]:
    """Regular present/preterite/imperfect/future of ``inf``, with irregular overrides.

    The preterite "yo" form keeps the stem's sound: llegar → llegué (-gar → -gué);
    future irregulars pass their stem (tener: ``future_stem="tendr"``).
    """
    stem, end = inf[:-2], inf[-2:]
    pret = [stem + e for e in _PRET[end]]
    if inf.endswith("gar"):
        pret[0] = stem + "ué"
    elif inf.endswith("car"):
        pret[0] = stem[:-1] + "qué"
    fut_stem = irregular.pop("future_stem", inf)
    forms = {"present": tuple(stem + e for e in _PRES[end]), "preterite": tuple(pret),
             "imperfect": tuple(stem + e for e in _IMPF[end]),
             "future": tuple(fut_stem + e for e in _FUT)}
    for tense, value in irregular.items():
        forms[tense] = tuple(value.split())
    return forms


SPANISH_VERBS = {
    "ser": conjugate("ser", present="soy eres es somos son",
                     imperfect="era eras era éramos eran"),
    "estar": conjugate("estar", present="estoy estás está estamos están"),
    "tener": conjugate("tener", present="tengo tienes tiene tenemos tienen", future_stem="tendr"),
    "ir": conjugate("ir", present="voy vas va vamos van",
                    preterite="fui fuiste fue fuimos fueron"),
    "hacer": conjugate("hacer", present="hago haces hace hacemos hacen",
                       preterite="hice hiciste hizo hicimos hicieron", future_stem="har"),
    "poder": conjugate("poder", present="puedo puedes puede podemos pueden",
                       preterite="pude pudiste pudo pudimos pudieron", future_stem="podr"),
    "querer": conjugate("querer", present="quiero quieres quiere queremos quieren",
                        future_stem="querr"),
    "ver": conjugate("ver", present="veo ves ve vemos ven", preterite="vi viste vio vimos vieron",
                     imperfect="veía veías veía veíamos veían"),
    "venir": conjugate("venir", present="vengo vienes viene venimos vienen",
                       preterite="vine viniste vino vinimos vinieron", future_stem="vendr"),
    "salir": conjugate("salir", present="salgo sales sale salimos salen", future_stem="saldr"),
    "dormir": conjugate("dormir", present="duermo duermes duerme dormimos duermen",
                        preterite="dormí dormiste durmió dormimos durmieron"),
    "cerrar": conjugate("cerrar", present="cierro cierras cierra cerramos cierran"),
    "jugar": conjugate("jugar", present="juego juegas juega jugamos juegan"),
    "leer": conjugate("leer", preterite="leí leíste leyó leímos leyeron"),
}
for _inf in ("comer", "beber", "comprar", "vender", "escribir", "abrir", "cocinar", "limpiar",
             "visitar", "llamar", "hablar", "estudiar", "cantar", "correr", "nadar", "trabajar",
             "vivir", "llegar"):                    # regular
    SPANISH_VERBS[_inf] = conjugate(_inf)

# Verbs whose English simple past is a state/description: Spanish imperfect, not preterite.
IMPERFECT_PAST = {"ser", "estar", "tener", "querer"}


def es_verb(inf: str, tense: str, slot: int) -> str:
    if tense == "past":
        tense = "imperfect" if inf in IMPERFECT_PAST else "preterite"
    return SPANISH_VERBS[inf][tense][slot]


@dataclass(frozen=True)
class Verb:
    en: str                   # base form, the lemma in combination keys
    en_past: str
    es: str                   # Spanish infinitive
    kind: str                 # "trans" (needs an object), "intrans", "motion" (needs a place)
    subjects: tuple           # allowed subject nouns; "person" in it also allows pronouns/names
    objects: tuple = ()
    animal_objects: tuple = ()   # objects allowed when the subject is an animal
    places: tuple = ()        # places for an optional "in/at the X" (the destination: motion)
    animal_places: tuple = ()  # places when the subject is an animal (default: places)
    optional_object: bool = False
    personal_a: bool = False  # objects that are people (or specific pets) take "a"
    en_prep: str = ""         # motion: "to"; "at" → the place's own (arrive at/in); "" none
    es_prep: str = ""         # motion: "a" / "de"
    tenses: tuple = ("present", "past", "future")
    what: bool = True         # "What does she V?" is natural
    timed: bool = True        # takes time adverbs ("I live in the city every day": no)
    place_required: bool = False   # "I live in the city", never just "I live"

    @property
    def en_3s(self) -> str:
        if self.en == "have":
            return "has"
        if self.en.endswith("o"):
            return self.en + "es"           # goes
        return _en_plural(self.en)          # eats, studies, plays


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
PUBLIC = _tagged("public")
FOODS, DRINKS = _tagged("food"), _tagged("drink")
SMALL = _tagged("small", exclude=("food",))
STRANGERS = _tagged("person", exclude=("kin",))      # people that "there is/are"
PERSON_PLACES = _tagged("building", "outdoor", "town", exclude=("water",)) + ("beach",)
BE_ADJ_SUBJECTS = PEOPLE + ANIMALS + _tagged("thing", "place", "food", "drink")
BE_LOC_SUBJECTS = PEOPLE + ANIMALS + SMALL + FOODS + DRINKS + ("car", "bicycle")
EXIST_SUBJECTS = STRANGERS + ANIMALS + SMALL + FOODS + DRINKS
COUNTABLE_EXIST = tuple(h for h in STRANGERS + ANIMALS + SMALL + FOODS if not NOUNS[h].mass)
DRINKWARE = _tagged("drinkware")
# an object never repeats what the verb does: "open the open door", "clean the clean kitchen"
VERB_ADJ_CLASH = {"open": "open", "close": "open", "clean": "clean"}

VERBS = {v.en: v for v in [
    Verb("eat", "ate", "comer", "trans", PEOPLE + ANIMALS, FOODS, _tagged("animal_food"),
         places=("house", "kitchen", "restaurant", "park", "garden", "school", "hotel"),
         optional_object=True),
    Verb("drink", "drank", "beber", "trans", PEOPLE + ANIMALS, DRINKS, _tagged("animal_drink"),
         places=("house", "kitchen", "restaurant", "hotel")),
    Verb("buy", "bought", "comprar", "trans", PEOPLE, SMALL + FOODS + DRINKS + ("car", "bicycle",
         "computer", "table", "chair", "bed", "house"),
         places=("market", "store", "city", "village", "station", "airport")),
    Verb("sell", "sold", "vender", "trans", PEOPLE, SMALL + FOODS + ("car", "bicycle", "computer",
         "table", "chair", "bed", "house"), places=("market", "store", "street")),
    Verb("read", "read", "leer", "trans", PEOPLE, _tagged("reading"),
         places=("house", "room", "library", "park", "garden", "school", "office"),
         optional_object=True),
    Verb("write", "wrote", "escribir", "trans", PEOPLE, _tagged("writing") + ("book",),
         places=("house", "room", "library", "office", "school"), optional_object=True),
    Verb("see", "saw", "ver", "trans", PEOPLE + ANIMALS, PEOPLE + ANIMALS + SMALL
         + _tagged("vehicle", "building", "outdoor", "town"), PEOPLE + ANIMALS,
         places=("park", "street", "city", "house", "garden", "museum", "market", "school",
                 "station", "beach"), personal_a=True),   # personal a: see _is_personal
    Verb("want", "wanted", "querer", "trans", PEOPLE, SMALL + FOODS + DRINKS + ANIMALS
         + ("car", "bicycle", "computer", "house"), tenses=("present", "past"), timed=False),
    Verb("have", "had", "tener", "trans", PEOPLE, SMALL + ANIMALS + FOODS
         + ("car", "bicycle", "computer", "house", "garden"), timed=False),
    Verb("make", "made", "hacer", "trans", PEOPLE, _tagged("makeable"),
         places=("house", "kitchen", "restaurant")),
    Verb("open", "opened", "abrir", "trans", PEOPLE, _tagged("openable")),
    Verb("close", "closed", "cerrar", "trans", PEOPLE, _tagged("openable")),
    Verb("cook", "cooked", "cocinar", "trans", PEOPLE, _tagged("cookable"),
         places=("house", "kitchen", "restaurant"), optional_object=True),
    Verb("clean", "cleaned", "limpiar", "trans", PEOPLE, _tagged("cleanable", exclude=("animal",))),
    Verb("visit", "visited", "visitar", "trans", PEOPLE, PEOPLE + PUBLIC + ("city", "village",
         "park"), personal_a=True, what=False),
    Verb("call", "called", "llamar", "trans", PEOPLE, PEOPLE, personal_a=True, what=False),
    Verb("speak", "spoke", "hablar", "trans", PEOPLE, _tagged("language"),
         places=("house", "school", "office"), what=False),
    Verb("study", "studied", "estudiar", "trans", PEOPLE, _tagged("language"),
         places=("library", "school", "house", "room"), optional_object=True),
    Verb("sing", "sang", "cantar", "trans", PEOPLE + ("bird",), ("song",),
         places=("house", "school", "park", "street", "garden"), optional_object=True),
    Verb("play", "played", "jugar", "intrans", PEOPLE + ("dog", "cat"),
         places=("park", "garden", "street", "school", "beach", "house")),
    Verb("sleep", "slept", "dormir", "intrans", PEOPLE + ANIMALS,
         places=("house", "room", "hotel", "garden")),
    Verb("run", "ran", "correr", "intrans", PEOPLE + ("dog", "cat", "horse", "rabbit", "mouse"),
         places=("park", "street", "beach", "forest", "garden")),
    Verb("swim", "swam", "nadar", "intrans", PEOPLE + ("dog", "duck"),
         places=("river", "lake", "beach")),
    Verb("work", "worked", "trabajar", "intrans", PEOPLE, places=WORK),
    Verb("live", "lived", "vivir", "intrans", PEOPLE + ANIMALS, places=("house", "city", "village"),
         animal_places=("house", "garden", "forest", "lake", "river", "village"), timed=False,
         place_required=True),
    Verb("go", "went", "ir", "motion", PEOPLE, places=PUBLIC + HOME + _tagged("outdoor", "town")
         + ("office",), en_prep="to", es_prep="a"),
    Verb("come", "came", "venir", "motion", PEOPLE, places=PUBLIC + ("house", "park", "garden",
         "city", "village", "office", "beach"), en_prep="to", es_prep="a"),
    Verb("arrive", "arrived", "llegar", "motion", PEOPLE, places=("station", "airport", "city",
         "village", "hotel", "school", "office", "hospital", "museum", "house", "park"),
         en_prep="at", es_prep="a"),
    Verb("leave", "left", "salir", "motion", PEOPLE, places=("house", "office", "school",
         "hospital", "restaurant", "station", "airport", "hotel", "museum", "bank", "store",
         "library", "park"), es_prep="de"),
]}
# every noun a verb names is in the lexicon
for _v in VERBS.values():
    assert all(s in NOUNS for s in _v.subjects + _v.objects + _v.places), _v.en

ALL_VERBS = tuple(VERBS)
WHAT_VERBS = tuple(k for k, v in VERBS.items() if v.kind == "trans" and v.what)
WHERE_VERBS = tuple(k for k, v in VERBS.items() if v.places and v.kind != "motion")
HOW_MANY_VERBS = ("have", "see", "buy", "want", "sell", "eat", "read", "write", "make")

# Predicate verbs: be (ser/estar) and there is (haber); modals can (poder), want to (querer).
MODALS = {"can": "poder", "want": "querer"}

TIMES = {"today": ("hoy", None), "yesterday": ("ayer", "past"), "tomorrow": ("mañana", "future"),
         "every day": ("todos los días", "present"), "in the morning": ("por la mañana", None),
         "at night": ("por la noche", None)}

# English location prepositions → Spanish.
LOC_PREPS = {"in": "en", "at": "en", "on": "sobre", "under": "debajo de", "near": "cerca de"}
