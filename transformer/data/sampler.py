"""The built-in corpus's sampler: random clauses and sentences, deterministic from a seed.

``_Sampler`` draws every choice (the kind of sentence, verb, subject, object, place,
determiner, adjective, tense, time, question form) from one seeded ``random.Random``,
among the words and combinations that make sense (lexicon.py), and realises the clause
with the grammar (grammar.py). ``_pins`` steer it towards one combination: synthetic.py
uses them to build the held-out valid and test sets.
"""

from __future__ import annotations

import random
from dataclasses import replace as _replace

from .grammar import FIXED, GREETINGS_WITH_NAME, NP, Clause, Example, greet, realise, realise_np
from .lexicon import (
    ADJ_FOR_NOUN,
    ADJECTIVES,
    ANIMAL_PLACES,
    ATTRIBUTIVE,
    BE_ADJ_SUBJECTS,
    BE_LOC_SUBJECTS,
    COUNTABLE_EXIST,
    DRINKWARE,
    EXIST_SUBJECTS,
    FURNITURE,
    HOME,
    NAMES,
    NOUNS,
    NUMBER_BY_WORD,
    NUMBERS,
    PERSON_ADJS,
    PERSON_PLACES,
    PERSON_STATES,
    POSSESSIVES,
    TIMES,
)
from .verbs import ALL_VERBS, HOW_MANY_VERBS, VERB_ADJ_CLASH, VERBS, WHAT_VERBS, WHERE_VERBS, Verb

# ====================================================================== sampling

TENSES = ("present", "past", "future")
TIMES_FOR = {t: tuple(k for k, (_, only) in TIMES.items() if only in (None, t)) for t in TENSES}
POSSESSIVE_DETS = tuple(POSSESSIVES)
# subject pronouns, weighted so that every Spanish verb slot is well represented (the
# third person also comes from names and nouns); questions skip "I" ("Am I tired?")
PRONOUN_LIST = ("I", "I", "you", "you", "he", "she", "we", "we", "you all", "they")
QUESTION_PRONOUNS = tuple(p for p in PRONOUN_LIST if p != "I")
NAME_LIST = tuple(NAMES)
NUMBER_LIST = tuple(NUMBERS)            # 1 first
GREETING_LIST = tuple(g for g, _, _ in GREETINGS_WITH_NAME) + ("My name is",)


class _Sampler:
    """Draws random clauses; every choice goes through ``self.r`` (a seeded Random).

    ``pins`` steer the choices towards one combination (used to build valid/test, see
    ``_held_out``): a pinned noun ("subj", "obj", "place" or, for any of them, "noun") is
    taken, once per sentence, where it may appear; a pinned verb, adjective, number,
    pronoun, name or tense whenever it fits. Unpinned, the sampler draws from the
    corpus's natural distribution.
    """

    def __init__(self, seed, pins=None):
        self.r = random.Random(seed)
        self.pins = pins or {}
        self.pin_used = self.adj_used = False

    def pick(self, seq):
        return seq[int(self.r.random() * len(seq))]

    def chance(self, p):
        return self.r.random() < p

    def pinned(self, key, options):
        """The pinned value for ``key`` if it is one of ``options``, else None."""
        value = self.pins.get(key)
        return value if value is not None and value in options else None

    def pinned_noun(self, role, options):
        if self.pins and not self.pin_used:
            for key in (role, "noun"):
                value = self.pinned(key, options)
                if value:
                    return value
        return None

    def noun(self, options, role):
        value = self.pinned_noun(role, options)
        if value and self.chance(0.9):
            self.pin_used = True
            return value
        return self.pick(options)

    # --- noun phrases
    def adj_for(self, noun, exclude_group=None, p=0.25):
        """An attributive adjective for ``noun`` with probability ``p`` (else None)."""
        options = ATTRIBUTIVE[noun]
        if self.pins.get("noun") == noun and self.pinned("adj", options) and not self.adj_used:
            adj, self.adj_used = self.pins["adj"], True
        elif not options or not self.chance(p):
            return None
        else:
            adj = self.pick(options)
        return None if ADJECTIVES[adj].group == exclude_group else adj

    def noun_np(self, noun, role, p_adj=0.25, exclude_group=None):
        n = NOUNS[noun]
        if "language" in n.tags:
            return NP(noun, "bare")
        adj = self.adj_for(noun, exclude_group, p_adj)
        r = self.r.random()
        if n.mass:
            if role == "exist" or role == "obj" and r < 0.45:
                return NP(noun, "bare", adj=adj)
            return NP(noun, self.pick(("the", "the", "the", "my", "your", "his", "her", "our",
                                       "their", "this", "that")), adj=adj)
        if role == "place" or "place" in n.tags:     # places: singular, no numbers
            det = "the" if r < 0.75 else self.pick(POSSESSIVE_DETS + ("this", "that"))
            return NP(noun, det, adj=adj)
        if "kin" in n.tags:      # my mother, the brothers: no "a mother", "seven mothers",
            #                      "my fathers"
            det = "the" if r < 0.4 else self.pick(POSSESSIVE_DETS)
            return NP(noun, det, "parent" not in n.tags and self.chance(0.3), adj)
        if self.pins.get("number") and self.pins.get("noun") == noun:
            r = 0.0 if role != "exist" else 0.5     # take the numbered determiner
        if role == "exist":      # there is a dog / there are (three) dogs
            if r < 0.4:
                return NP(noun, "a", adj=adj)
            if r < 0.7:
                return NP(noun, "num", True, adj, self.number(2))
            return NP(noun, "bare", True, adj)
        if "person" in n.tags and r >= 0.6:
            r = self.r.random() * 0.6           # people: no "my man", "this girl"
        if r < 0.12:
            return NP(noun, "num", adj=adj, number=self.number(1))
        if r < 0.16:
            return NP(noun, "the", True, adj, self.number(2))
        plural = self.chance(0.35)
        if r < 0.45:
            return NP(noun, "the", plural, adj)
        if r < 0.6:
            if role == "obj" and plural:
                return NP(noun, "bare", True, adj)
            return NP(noun, "a", adj=adj)
        if r < 0.85:
            return NP(noun, self.pick(POSSESSIVE_DETS), plural, adj)
        return NP(noun, self.pick(("this", "that")), plural, adj)

    def object(self, v: Verb, objects):
        if v.personal_a and "man" in objects and (
                self.pins.get("name") or not self.pins and self.chance(0.15)):
            return NP(self.pins.get("name") or self.pick(NAME_LIST), "name")   # "llamé a Ana"
        obj = self.noun_np(self.noun(objects, "obj"), "obj", exclude_group=VERB_ADJ_CLASH.get(v.en))
        if "person" in NOUNS[obj.head].tags and obj.det == "bare":
            obj = _replace(obj, det="the")     # no bare "veo niños": always specific people
        return obj

    def number(self, lowest):
        pinned = self.pins.get("number")
        if pinned and pinned >= lowest:
            return pinned
        return self.pick(NUMBER_LIST[1:] if lowest > 1 else NUMBER_LIST)

    def subject(self, allowed, question=False, p_adj=0.2, definite=False):
        """A pronoun, a name or a noun phrase among ``allowed`` nouns (``definite``: not
        "a dog", which reads oddly as the subject of "be": "a hat is yellow")."""
        people = "man" in allowed
        r = self.r.random()
        if people and self.pins.get("pronoun"):
            return NP(self.pins["pronoun"], "pronoun")
        if people and self.pins.get("name"):
            return NP(self.pins["name"], "name")
        if self.pinned_noun("subj", allowed):
            r = 1.0                                   # a noun subject, not a pronoun
        if people and r < 0.5:
            return NP(self.pick(QUESTION_PRONOUNS if question else PRONOUN_LIST), "pronoun")
        if people and r < 0.6:
            return NP(self.pick(NAME_LIST), "name")
        np = self.noun_np(self.noun(allowed, "subj"), "subj", p_adj)
        if definite and np.det in ("a", "num"):      # the five eggs are in the box
            many = (np.number or 1) > 1
            np = _replace(np, det="the", plural=many, number=np.number if many else None)
        return np

    def tense(self, allowed=TENSES):
        return self.pinned("tense", allowed) or self.pick(allowed)

    def time(self, tense, p=0.2):
        if not self.chance(p):
            return None
        return self.pick(TIMES_FOR[tense])

    # --- clauses
    def action(self, question=False, need_obj=False, need_place=False, verbs=ALL_VERBS):
        v = VERBS[self.pinned("verb", verbs) or self.pick(verbs)]
        subj = self.subject(v.subjects, question)
        tense = self.tense(v.tenses)
        animal = subj.kind == "noun" and "animal" in NOUNS[subj.head].tags
        obj = None
        objects = v.animal_objects if animal else v.objects   # the bird sings (no object)
        if v.kind == "trans" and objects and (
                need_obj or not v.optional_object or self.pinned_noun("obj", objects)
                or self.chance(0.75)):
            obj = self.object(v, objects)
        place = None
        places = v.places
        if animal:
            places = tuple(p for p in v.animal_places or v.places if p in ANIMAL_PLACES[subj.head])
        if obj is not None and obj.kind == "noun" and "place" in NOUNS[obj.head].tags:
            places = ()                      # "I saw the museum", not "... in the house"
        if places and (v.kind == "motion" or v.place_required or need_place
                       or self.pinned_noun("place", places) or self.chance(0.3)):
            place_noun = self.noun(places, "place")
            place = (NOUNS[place_noun].prep, self.noun_np(place_noun, "place", p_adj=0.12))
        modal = None
        if v.en != "want" and self.chance(0.2 if question else 0.15):
            modal = self.pick(("can", "want"))
            if modal == "want":
                tense = self.tense(("present", "past"))
        time = self.time(tense) if v.timed else None
        return Clause(subj, v.en, tense, False, obj, None, place, time, modal)

    def be_adj(self, question=False):
        while True:
            subj = self.subject(BE_ADJ_SUBJECTS, question, p_adj=0.15, definite=True)
            options = ADJ_FOR_NOUN[subj.head] if subj.kind == "noun" else PERSON_ADJS
            if subj.adj:
                options = [a for a in options if ADJECTIVES[a].group != ADJECTIVES[subj.adj].group]
            if options:
                break
        adj = self.pinned("adj", options) or self.pick(options)
        tense = self.tense() if ADJECTIVES[adj].future_ok else self.tense(("present", "past"))
        time = self.time(tense, 0.15) if ADJECTIVES[adj].copula == "estar" else None
        return Clause(subj, "be", tense, False, None, adj, None, time)

    def location_for(self, head):
        """(preposition, place noun) where a person/animal/thing can be."""
        tags = NOUNS[head].tags if head in NOUNS else frozenset({"person"})
        if "person" in tags:
            noun = self.noun(PERSON_PLACES, "place")
        elif "animal" in tags:
            if "pet" in tags and self.chance(0.4):
                return self.pick(("on", "under")), self.noun(FURNITURE, "place")
            noun = self.noun(ANIMAL_PLACES[head], "place")
        elif "vehicle" in tags:
            noun = self.noun(("street", "garden", "park", "station"), "place")
        elif "food" in tags or "drink" in tags:
            if "drink" in tags and self.chance(0.6):
                return "in", self.noun(DRINKWARE, "place")
            if self.chance(0.3):
                return "on", "table"
            noun = self.noun(("kitchen", "store", "restaurant") if "drink" in tags else
                             ("kitchen", "market", "store", "restaurant", "box", "bag"), "place")
        else:
            r = self.r.random()
            if r < 0.35 and head not in FURNITURE:
                return self.pick(("on", "under")), self.noun(FURNITURE, "place")
            if r < 0.55 and head not in ("box", "bag", "car"):
                return "in", self.noun(("box", "bag", "car"), "place")
            noun = self.noun(HOME + ("office", "library", "school", "store"), "place")
        prep = NOUNS[noun].prep
        if noun not in ("room", "kitchen") and "place" in NOUNS[noun].tags and self.chance(0.15):
            prep = "near"
        return prep, noun

    def be_loc(self, question=False):
        subj = self.subject(BE_LOC_SUBJECTS, question, p_adj=0.15, definite=True)
        prep, noun = self.location_for(subj.head)
        tense = self.tense()
        place = (prep, self.noun_np(noun, "place", p_adj=0.1))
        return Clause(subj, "be", tense, False, None, None, place, self.time(tense, 0.1))

    def there(self, negated=False, countable=False):
        head = self.noun(COUNTABLE_EXIST if countable else EXIST_SUBJECTS, "exist")
        obj = self.noun_np(head, "exist", p_adj=0.2)
        if negated or countable:     # "there are no dogs"; "how many dogs are there"
            obj = NP(head, "bare", not NOUNS[head].mass, obj.adj)
        prep, noun = self.location_for(head)
        tense = self.tense(("present", "past") if countable else TENSES)
        return Clause(None, "there", tense, negated, obj, None,
                      (prep, self.noun_np(noun, "place", p_adj=0.1)),
                      None if countable else self.time(tense, 0.1))

    # --- sentences
    def clause(self, question=False, negated=False):
        r = self.r.random()
        if r < 0.6:
            return self.action(question)
        if r < 0.75:
            return self.be_adj(question)
        if r < 0.88:
            return self.be_loc(question)
        return self.there(negated)

    def statement(self):
        neg = self.chance(0.25)
        c = self.clause(negated=neg)
        c.negated = neg
        if neg and c.obj is not None and c.obj.det == "a":   # "no tengo un perro" → el perro
            c.obj = _replace(c.obj, det="the")
        if (c.verb == "read" and c.tense == "past" and not (neg or c.modal)
                and realise_np(c.subject).en_agr != "3s"):
            c.tense = "present"   # "I read the book": English cannot tell present from past
        return realise(c)

    def yesno(self):
        return realise(self.clause(question=True), "yesno")

    def wh(self):
        form = self.pick(("what", "who", "where", "where", "when", "how_many"))
        if form == "what":
            c = self.action(question=True, need_obj=True, verbs=WHAT_VERBS)
            c.obj = c.modal = None
        elif form == "who":
            c = self.be_adj() if self.chance(0.15) else self.action()
            if c.verb == "be":     # "Who is tired?" (not "Who will be intelligent?")
                c.adj, c.time = self.pick(PERSON_STATES), None
            c.modal = None
        elif form == "where":
            if self.chance(0.5):
                c = self.be_loc(question=True)
                c.time = None
            else:
                c = self.action(question=True, need_place=True, verbs=WHERE_VERBS)
                c.modal = None
        elif form == "when":
            c = self.action(question=True)
            c.time = c.modal = None
        elif self.chance(0.25):
            c = self.there(countable=True)
        else:
            while True:
                c = self.action(question=True, need_obj=True, verbs=HOW_MANY_VERBS)
                if c.obj.kind == "noun" and not NOUNS[c.obj.head].mass and not (
                        NOUNS[c.obj.head].tags & {"person", "place"}):
                    break
            c.obj, c.modal = NP(c.obj.head, "bare", True, c.obj.adj), None
        return realise(c, form)

    def fixed(self):
        if self.chance(0.5):
            en, es = self.pick(FIXED)
            return Example(en, es, frozenset())
        return greet(self.pick(GREETING_LIST), self.pick(NAME_LIST))

    def sentence(self) -> Example:
        while True:
            self.pin_used = self.adj_used = False
            r = self.r.random()
            if r < 0.6:
                ex = self.statement()
            elif r < 0.75:
                ex = self.yesno()
            elif r < 0.96:
                ex = self.wh()
            else:
                ex = self.fixed()
            if ex.en.count(" ") < 13:       # at most 13 words
                return ex


def _pins(combo) -> dict:
    """Sampler pins that make ``combo`` likely (see ``_Sampler``)."""
    kind, *rest = combo
    if kind == "verb_obj":
        return {"verb": rest[0], "obj": rest[1]}
    if kind == "verb_place":
        return {"verb": rest[0], "place": rest[1]}
    if kind == "noun_adj":
        return {"noun": rest[0], "adj": rest[1]}
    if kind == "subj_verb":
        who = "name" if rest[0] in NAMES else "subj"
        return {who: rest[0], "verb": rest[1]}
    if kind == "num_noun":
        return {"number": NUMBER_BY_WORD[rest[0]], "noun": rest[1]}
    if kind == "pron_verb_tense":
        return {"pronoun": rest[0], "verb": rest[1], "tense": rest[2]}
    raise ValueError(f"cannot steer towards {combo!r}")
