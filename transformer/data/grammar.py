"""The built-in corpus's grammar: one clause, realised in English and in Spanish at once.

``NP`` (a noun phrase) and ``Clause`` (one proposition) hold a sentence's structure;
``realise`` writes a clause as a statement or a question in both languages (agreement,
ser/estar, tenses, negation, word order, the personal "a", the contractions al/del) and
records the combinations it contains (``Example.combos``). ``translate_clause`` builds a
clause from English pieces, the grammar's front door:

    >>> from transformer.data.grammar import translate_clause
    >>> translate_clause("he", "go", "future", place="the park")
    ('He will go to the park.', 'Él irá al parque.')

The fixed phrases and greetings (``FIXED``, ``greet``) are here too. The words come from
lexicon.py; synthetic.py's docstring lists what the grammar covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace as _replace

from .lexicon import (
    ADJECTIVES,
    DEMONSTRATIVES,
    LOC_PREPS,
    NAMES,
    NOUNS,
    NUMBER_BY_WORD,
    NUMBERS,
    POSSESSIVES,
    PRONOUNS,
    TIMES,
)
from .verbs import MODALS, VERBS, es_verb

__all__ = [
    "NP",
    "Example",
    "parse_np",
    "translate_clause",
]


# ================================================================ noun phrases


@dataclass(frozen=True)
class NP:
    """A noun phrase: a noun (English singular), a pronoun or a name, and its determiner.

    det: the / a / bare (no article: "bread", "dogs") / num ("three dogs"; with
    ``det="the"`` and a number: "the three dogs") / my your his her our their / this that
    (plural: these, those). ``parse_np("the three red cars")`` builds one from English.
    """
    head: str
    det: str = "the"
    plural: bool = False
    adj: str | None = None
    number: int | None = None

    @property
    def kind(self) -> str:
        if self.head in PRONOUNS:
            return "pronoun"
        return "name" if self.head in NAMES else "noun"


@dataclass
class Phrase:
    en: list
    es: list
    slot: int          # Spanish verb slot (PERSONS index)
    gender: str
    plural: bool
    en_agr: str        # 1s / 2s / 3s / pl
    combos: list


def realise_np(np: NP) -> Phrase:
    if np.kind == "pronoun":
        es, slot, gender, agr = PRONOUNS[np.head]
        return Phrase([np.head], [es], slot, gender, agr == "pl", agr, [])
    if np.kind == "name":
        return Phrase([np.head], [np.head], 2, NAMES[np.head], False, "3s", [])
    n = NOUNS[np.head]
    plural = np.plural or (np.number is not None and np.number > 1)
    g = n.gender
    en_noun = n.en_pl if plural else n.en
    es_noun = n.es_pl if plural else n.es
    combos = []
    en_adj, es_adj = [], []
    if np.adj:
        a = ADJECTIVES[np.adj]
        en_adj, es_adj = [a.en], [a.form(g, plural)]
        combos.append(("noun_adj", n.en, a.en))
    en_num, es_num = [], []
    if np.number is not None:
        en_num = NUMBERS[np.number][0].split()
        es_num = [("un" if g == "m" else "una") if np.number == 1 else NUMBERS[np.number][1]]
        combos.append(("num_noun", NUMBERS[np.number][0], n.en))
    det = np.det
    if det == "the":
        en_det = ["the"]
        if plural:
            es_det = ["los" if g == "m" else "las"]
        else:
            es_det = ["el" if g == "m" or n.el else "la"]
    elif det == "a":
        nxt = (en_adj + [en_noun])[0]
        en_det = ["an" if nxt[0] in "aeiou" else "a"]
        es_det = ["un" if g == "m" or n.el else "una"]
    elif det in ("bare", "num"):
        en_det, es_det = [], []
    elif det in POSSESSIVES:
        es = POSSESSIVES[det]
        if es == "nuestro" and g == "f":
            es = "nuestra"
        en_det, es_det = [det], [es + "s" if plural else es]
    elif det in DEMONSTRATIVES:
        en_pl, es = DEMONSTRATIVES[det]
        if plural:
            es_det = [es[:-1] + ("os" if g == "m" else "as")]   # estos/estas, esos/esas
        else:
            es_det = [es if g == "m" else es[:-1] + "a"]       # este/esta, ese/esa
        en_det = [en_pl if plural else det]
    else:
        raise ValueError(f"unknown determiner {det!r}")
    return Phrase(en_det + en_num + en_adj + [en_noun], es_det + es_num + [es_noun] + es_adj,
                  4 if plural else 2, g, plural, "pl" if plural else "3s", combos)


def parse_np(text: str) -> NP:
    """An NP from English: "she", "Ana", "bread", "the three red cars", "an apple", "my dog"."""
    if text in PRONOUNS or text in NAMES:
        return NP(text, det="pronoun" if text in PRONOUNS else "name")
    words = text.split()
    det, number = "bare", None
    if words[0] in ("the", "a", "an", "my", "your", "his", "her", "our", "their", "this",
                    "that", "these", "those"):
        det = {"an": "a", "these": "this", "those": "that"}.get(words[0], words[0])
        words = words[1:]
    for k in (2, 1):                      # "one hundred" is two words
        if " ".join(words[:k]) in NUMBER_BY_WORD:
            number = NUMBER_BY_WORD[" ".join(words[:k])]
            words = words[k:]
            if det == "bare":
                det = "num"
            break
    adj = None
    if len(words) == 2:
        adj, words = words[0], words[1:]
        if adj not in ADJECTIVES:
            raise ValueError(f"unknown adjective {adj!r} in {text!r}")
    (noun,) = words
    if noun in NOUNS:
        return NP(noun, det, False, adj, number)
    for n in NOUNS.values():
        if n.en_pl == noun:
            return NP(n.en, det, True, adj, number)
    raise ValueError(f"unknown noun {noun!r} in {text!r}")


# ======================================================================== clauses

@dataclass
class Clause:
    """One proposition, realised by ``realise`` as a statement or a question.

    verb: a key of VERBS, or "be" (adj or place), or "there" (there is/are + obj + place).
    place: (English preposition, NP); for motion verbs the destination (prep ignored).
    modal: "can" / "want" + the verb as an infinitive.
    """
    subject: NP | None
    verb: str
    tense: str = "present"
    negated: bool = False
    obj: NP | None = None
    adj: str | None = None
    place: tuple | None = None
    time: str | None = None
    modal: str | None = None


def _en_be(agr: str, tense: str) -> str:
    if tense == "present":
        return {"1s": "am", "3s": "is"}.get(agr, "are")
    return "was" if agr in ("1s", "3s") else "were"


def _en_do(agr: str, tense: str) -> str:
    return "did" if tense == "past" else ("does" if agr == "3s" else "do")


def _object(c: Clause):
    """(English tokens, Spanish tokens, combos) of the object, with the personal "a"."""
    if c.obj is None:
        return [], [], []
    p = realise_np(c.obj)
    if VERBS[c.verb].personal_a and _is_personal(c.obj):
        p.es.insert(0, "a")
    return p.en, p.es, p.combos + [("verb_obj", c.verb, c.obj.head)]


def _is_personal(np: NP) -> bool:
    """The personal "a": people and names always; pets when specific ("veo al perro", "veo
    un perro", "veo el pájaro")."""
    if np.kind != "noun":
        return True
    tags = NOUNS[np.head].tags
    return "person" in tags or "pet" in tags and np.det not in ("a", "bare", "num")


def _place(c: Clause):
    if c.place is None:
        return [], [], []
    prep, np = c.place
    p = realise_np(np)
    if c.verb in VERBS and VERBS[c.verb].kind == "motion":
        v = VERBS[c.verb]
        en_prep = [v.en_prep] if v.en_prep else []     # go to, come to, leave (nothing)
        if v.en_prep == "at" and "town" in NOUNS[np.head].tags:
            en_prep = ["in"]                           # arrive at the station / in the city
        es_prep = [v.es_prep]
    else:
        en_prep, es_prep = prep.split(), LOC_PREPS[prep].split()
    key = "be" if c.verb in ("be", "there") else c.verb
    return en_prep + p.en, es_prep + p.es, p.combos + [("verb_place", key, np.head)]


def _time(c: Clause):
    if c.time is None:
        return [], []
    return c.time.split(), TIMES[c.time][0].split()


def _subject(c: Clause) -> Phrase:
    p = realise_np(c.subject)
    if c.subject.kind in ("noun", "name"):
        p.combos.append(("subj_verb", c.subject.head, c.verb))
    elif c.subject.head in ("he", "she", "they"):
        p.combos.append(("pron_verb_tense", c.subject.head, c.modal or c.verb, c.tense))
    return p


def _contract(tokens: list) -> list:
    """a + el → al, de + el → del (only the article "el"; the pronoun is "él")."""
    out = []
    for t in tokens:
        if t == "el" and out and out[-1] in ("a", "de"):
            out[-1] = out[-1] + "l" if out[-1] == "de" else "al"
        else:
            out.append(t)
    return out


def _sentence(tokens: list, question: bool, spanish: bool) -> str:
    text = " ".join(tokens)
    text = text[0].upper() + text[1:]
    if question:
        return ("¿" + text if spanish else text) + "?"
    return text + "."


@dataclass(frozen=True)
class Example:
    en: str
    es: str
    combos: frozenset


def realise(c: Clause, form: str = "statement") -> Example:
    """The clause as (English, Spanish): form is statement / yesno / what / who / where /
    when / how_many. Questions ignore ``negated``; who/what drop the subject/object."""
    if form == "where":
        c = _replace(c, place=None)          # the place is what is asked for
    combos = []
    if form == "who":
        subj = Phrase(["who"], ["quién"], 2, "m", False, "3s", [])
    elif c.subject is None:                   # there is ...
        subj = Phrase([], [], 2, "m", False, "3s", [])
    else:
        subj = _subject(c)
        combos += subj.combos
    en_obj, es_obj, oc = _object(c) if c.verb in VERBS else ([], [], [])
    en_pl, es_pl, pc = _place(c)
    en_t, es_t = _time(c)
    combos += oc + pc
    neg = c.negated and form == "statement"
    en_neg, es_neg = (["not"], ["no"]) if neg else ([], [])
    agr, t = subj.en_agr, c.tense

    # --- the verb group in both languages: en_aux (fronted in questions) + en_rest
    if c.verb == "be":
        adj = ADJECTIVES[c.adj] if c.adj else None
        if adj:
            if form != "who" and c.subject.kind == "noun":
                combos.append(("noun_adj", c.subject.head, adj.en))
            inf = adj.copula
            es_pred = [adj.form(subj.gender, subj.plural)]
            en_pred = [adj.en]
        else:
            inf, es_pred, en_pred = "estar", es_pl, en_pl
            en_pl, es_pl = [], []
        es_v = [es_verb(inf, t, subj.slot)]
        if t == "future":
            en_aux, en_rest = ["will"], en_neg + ["be"]
        else:
            en_aux, en_rest = [_en_be(agr, t)], en_neg
        en_tail, es_tail = en_pred, es_pred
    elif c.verb == "there":
        o = realise_np(c.obj)
        combos += o.combos
        es_v = [{"present": "hay", "past": "había", "future": "habrá"}[t]]
        # en_aux + en_rest is the question order: "is there", "will there be"
        en_aux = ["will"] if t == "future" else [_en_be(o.en_agr, t)]
        en_rest = ["there", "be"] if t == "future" else ["there"]
        en_tail, es_tail = (["no"] if neg else []) + o.en, o.es
    else:
        v = VERBS[c.verb]
        if c.modal == "can":
            es_v = [es_verb(MODALS["can"], t, subj.slot), v.es]
            if t == "present":
                en_aux, en_rest = (["cannot"] if neg else ["can"]), []
            elif t == "past":
                en_aux, en_rest = [_en_be(agr, t)], en_neg + ["able", "to"]
            else:
                en_aux, en_rest = ["will"], en_neg + ["be", "able", "to"]
            en_rest = en_rest + [v.en]
        elif c.modal == "want":
            es_v = [es_verb(MODALS["want"], t, subj.slot), v.es]
            en_aux, en_rest = [_en_do(agr, t)], en_neg + ["want", "to", v.en]
            if not neg and form in ("statement", "who"):
                en_aux, en_rest = [], [("wanted" if t == "past" else
                                        "wants" if agr == "3s" else "want"), "to", v.en]
        else:
            es_v = [es_verb(v.es, t, subj.slot)]
            if t == "future":
                en_aux, en_rest = ["will"], en_neg + [v.en]
            elif neg or form not in ("statement", "who"):
                en_aux, en_rest = [_en_do(agr, t)], en_neg + [v.en]
            else:
                en_aux = []
                en_rest = [v.en_past if t == "past" else v.en_3s if agr == "3s" else v.en]
        en_tail, es_tail = en_obj, es_obj
    es_neg_v = es_neg + es_v

    # --- word order per form
    question = form != "statement"
    if form == "statement":
        if c.verb == "there":                # there is / there will be
            en = ["there"] + en_aux + en_rest[1:] + en_tail + en_pl + en_t
            es = es_neg_v + es_tail + es_pl + es_t
        else:
            en = subj.en + en_aux + en_rest + en_tail + en_pl + en_t
            es = subj.es + es_neg_v + es_tail + es_pl + es_t
    elif form == "yesno":
        if c.verb == "there":
            en = en_aux + en_rest + en_tail + en_pl + en_t
            es = es_v + es_tail + es_pl + es_t
        else:
            en = en_aux + subj.en + en_rest + en_tail + en_pl + en_t
            es = subj.es + es_v + es_tail + es_pl + es_t
    elif form == "who":
        en = ["who"] + en_aux + en_rest + en_tail + en_pl + en_t
        es = ["quién"] + es_v + es_tail + es_pl + es_t
    elif form == "what":
        en = ["what"] + en_aux + subj.en + en_rest + en_pl + en_t
        es = ["qué"] + es_v + subj.es + es_pl + es_t
    elif form == "where":
        if c.verb == "be":
            en = ["where"] + en_aux + subj.en + en_rest
            es = ["dónde"] + es_v + subj.es
        else:
            en = ["where"] + en_aux + subj.en + en_rest + en_tail + en_t
            es = ["dónde"] + es_v + subj.es + es_tail + es_t
    elif form == "when":
        en = ["when"] + en_aux + subj.en + en_rest + en_tail + en_pl
        es = ["cuándo"] + es_v + subj.es + es_tail + es_pl
    elif form == "how_many":
        o = realise_np(c.obj)
        g = NOUNS[c.obj.head].gender
        es_hm = ["cuántos" if g == "m" else "cuántas"] + o.es
        if c.verb == "there":
            en = ["how", "many"] + o.en + en_aux + ["there"] + en_pl
            es = es_hm + es_v + es_pl
        else:
            en = ["how", "many"] + o.en + en_aux + subj.en + en_rest + en_pl + en_t
            es = es_hm + es_v + subj.es + es_pl + es_t
    else:
        raise ValueError(f"unknown form {form!r}")
    return Example(_sentence(en, question, False), _sentence(_contract(es), question, True),
                   frozenset(combos))


def translate_clause(subject=None, verb="be", tense="present", negated=False, obj=None,
                     adj=None, place=None, time=None, modal=None, form="statement"):
    """(English, Spanish) of one clause, from English pieces (the grammar's front door).

    subject/obj: pronoun, name or noun phrase text ("the three red cars"); place: "in the
    house", "on the table", or for go/come/arrive/leave just the destination "the park".
    """
    def as_np(x):
        return parse_np(x) if isinstance(x, str) else x

    if isinstance(place, str):
        words = place.split()
        if words[0] in LOC_PREPS or words[0] == "to":
            prep, rest = words[0], " ".join(words[1:])
        else:
            prep, rest = "", place
        place = (prep, as_np(rest))
    ex = realise(Clause(as_np(subject) if subject is not None else None, verb, tense, negated,
                        as_np(obj) if obj is not None else None, adj, place, time, modal), form)
    return ex.en, ex.es


# =============================================================== fixed phrases

FIXED = [
    ("Hello world.", "Hola mundo."), ("Hello.", "Hola."), ("Good morning.", "Buenos días."),
    ("Good afternoon.", "Buenas tardes."), ("Good night.", "Buenas noches."),
    ("Goodbye.", "Adiós."), ("See you later.", "Hasta luego."),
    ("See you tomorrow.", "Hasta mañana."), ("See you soon.", "Hasta pronto."),
    ("Thank you.", "Gracias."), ("Thank you very much.", "Muchas gracias."),
    ("You are welcome.", "De nada."), ("Please.", "Por favor."), ("Excuse me.", "Perdón."),
    ("I am sorry.", "Lo siento."), ("How are you?", "¿Cómo estás?"),
    ("I am fine.", "Estoy bien."), ("I am fine, thank you.", "Estoy bien, gracias."),
    ("And you?", "¿Y tú?"), ("What is your name?", "¿Cómo te llamas?"),
    ("Nice to meet you.", "Mucho gusto."), ("Yes.", "Sí."), ("No.", "No."),
    ("Of course.", "Por supuesto."), ("Very good.", "Muy bien."),
    ("Good luck.", "Buena suerte."), ("Happy birthday.", "Feliz cumpleaños."),
    ("Congratulations.", "Felicidades."), ("I do not understand.", "No entiendo."),
    ("I do not know.", "No sé."), ("What time is it?", "¿Qué hora es?"),
    ("How much is it?", "¿Cuánto cuesta?"), ("I love you.", "Te quiero."),
    ("Hello, how are you?", "Hola, ¿cómo estás?"),
    ("Good morning, how are you?", "Buenos días, ¿cómo estás?"),
    ("It is cold.", "Hace frío."), ("It is hot.", "Hace calor."),
    ("It is raining.", "Está lloviendo."), ("Cheers.", "Salud."),
]
# (English greeting, Spanish greeting, ends with "?"): "Good morning, Ana." etc.
GREETINGS_WITH_NAME = [
    ("Hello", "Hola", False), ("Good morning", "Buenos días", False),
    ("Good afternoon", "Buenas tardes", False), ("Good night", "Buenas noches", False),
    ("Goodbye", "Adiós", False), ("Thank you", "Gracias", False),
    ("See you tomorrow", "Hasta mañana", False), ("How are you", "¿Cómo estás", True),
]


def greet(greeting: str, name: str) -> Example:
    """("Good morning, Ana.", "Buenos días, Ana."); "My name is" → "Me llamo"."""
    if greeting == "My name is":
        return Example(f"My name is {name}.", f"Me llamo {name}.",
                       frozenset({("greeting_name", greeting, name)}))
    for en, es, q in GREETINGS_WITH_NAME:
        if en == greeting:
            end = "?" if q else "."
            return Example(f"{en}, {name}{end}", f"{es}, {name}{end}",
                           frozenset({("greeting_name", en, name)}))
    raise ValueError(f"unknown greeting {greeting!r}")
