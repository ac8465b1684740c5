"""The built-in corpus's verbs: their Spanish conjugations and what each one combines with.

``conjugate`` writes a Spanish verb's present, preterite, imperfect and future from its
infinitive (irregular forms passed in), and ``SPANISH_VERBS`` holds every verb the corpus
uses; ``es_verb`` picks the form for an English tense and a person. ``VERBS`` says, for
each English verb, its past, its Spanish infinitive and the subjects, objects and places
that make sense with it, drawn from the nouns and noun tables of lexicon.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from .lexicon import (
    ANIMALS, DRINKS, FOODS, HOME, NOUNS, PEOPLE, PUBLIC, SMALL, WORK, en_plural, tagged,
)

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
        return en_plural(self.en)          # eats, studies, plays


# an object never repeats what the verb does: "open the open door", "clean the clean kitchen"
VERB_ADJ_CLASH = {"open": "open", "close": "open", "clean": "clean"}

VERBS = {v.en: v for v in [
    Verb("eat", "ate", "comer", "trans", PEOPLE + ANIMALS, FOODS, tagged("animal_food"),
         places=("house", "kitchen", "restaurant", "park", "garden", "school", "hotel"),
         optional_object=True),
    Verb("drink", "drank", "beber", "trans", PEOPLE + ANIMALS, DRINKS, tagged("animal_drink"),
         places=("house", "kitchen", "restaurant", "hotel")),
    Verb("buy", "bought", "comprar", "trans", PEOPLE, SMALL + FOODS + DRINKS + ("car", "bicycle",
         "computer", "table", "chair", "bed", "house"),
         places=("market", "store", "city", "village", "station", "airport")),
    Verb("sell", "sold", "vender", "trans", PEOPLE, SMALL + FOODS + ("car", "bicycle", "computer",
         "table", "chair", "bed", "house"), places=("market", "store", "street")),
    Verb("read", "read", "leer", "trans", PEOPLE, tagged("reading"),
         places=("house", "room", "library", "park", "garden", "school", "office"),
         optional_object=True),
    Verb("write", "wrote", "escribir", "trans", PEOPLE, tagged("writing") + ("book",),
         places=("house", "room", "library", "office", "school"), optional_object=True),
    Verb("see", "saw", "ver", "trans", PEOPLE + ANIMALS, PEOPLE + ANIMALS + SMALL
         + tagged("vehicle", "building", "outdoor", "town"), PEOPLE + ANIMALS,
         places=("park", "street", "city", "house", "garden", "museum", "market", "school",
                 "station", "beach"), personal_a=True),   # personal a: see _is_personal
    Verb("want", "wanted", "querer", "trans", PEOPLE, SMALL + FOODS + DRINKS + ANIMALS
         + ("car", "bicycle", "computer", "house"), tenses=("present", "past"), timed=False),
    Verb("have", "had", "tener", "trans", PEOPLE, SMALL + ANIMALS + FOODS
         + ("car", "bicycle", "computer", "house", "garden"), timed=False),
    Verb("make", "made", "hacer", "trans", PEOPLE, tagged("makeable"),
         places=("house", "kitchen", "restaurant")),
    Verb("open", "opened", "abrir", "trans", PEOPLE, tagged("openable")),
    Verb("close", "closed", "cerrar", "trans", PEOPLE, tagged("openable")),
    Verb("cook", "cooked", "cocinar", "trans", PEOPLE, tagged("cookable"),
         places=("house", "kitchen", "restaurant"), optional_object=True),
    Verb("clean", "cleaned", "limpiar", "trans", PEOPLE, tagged("cleanable", exclude=("animal",))),
    Verb("visit", "visited", "visitar", "trans", PEOPLE, PEOPLE + PUBLIC + ("city", "village",
         "park"), personal_a=True, what=False),
    Verb("call", "called", "llamar", "trans", PEOPLE, PEOPLE, personal_a=True, what=False),
    Verb("speak", "spoke", "hablar", "trans", PEOPLE, tagged("language"),
         places=("house", "school", "office"), what=False),
    Verb("study", "studied", "estudiar", "trans", PEOPLE, tagged("language"),
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
    Verb("go", "went", "ir", "motion", PEOPLE, places=PUBLIC + HOME + tagged("outdoor", "town")
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
