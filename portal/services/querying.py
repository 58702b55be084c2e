"""Query understanding for service search: synonyms and abbreviations, request stop-words, typo correction
and the best partial matches when not every word matches.

A query becomes `Terms`: a sequence of segments that must all match, each segment a few alternative
phrases (the words as typed, or a synonym's other wordings). The search engine turns them into the
database's own text query, so the index stays as it is.
"""

from __future__ import annotations

import bisect
import csv
import heapq
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import islice, product
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein
from sqlalchemy import column, select, table
from sqlalchemy.orm import Session

from portal.models.search import NAMES
from portal.services.memo import database_key, memo
from portal.text import fold, lower_nfc, query_tokens

SYNONYMS_FILE = Path(__file__).resolve().parent.parent / "data" / "search_synonyms.csv"
MIN_PREFIX = 3
MAX_VARIANTS = 8
SYNONYM_WEIGHT = 0.7
# Words of a request that say what the citizen wants done, not which service: they need not match.
STOP_PHRASES = (
    "xin", "lam", "thu tuc", "cach", "muon", "toi muon", "o dau", "nhu the nao", "the nao", "huong dan",
    "lam sao", "giay to", "thi lam the nao",
    "how to", "apply for",
)
_TERM_SPLIT = re.compile(r"\s*\|\s*")

Phrase = tuple[str, ...]


@dataclass(frozen=True)
class Segment:
    """One part of the query that must match: any of its alternative phrases (folded words)."""

    alternatives: tuple[Phrase, ...]
    typed: str = ""
    synonym: bool = False

    @property
    def word(self) -> str:
        return self.alternatives[0][0]


@dataclass(frozen=True)
class Terms:
    """Every segment must match; the last word of the last segment is a prefix when `prefix` is set."""

    segments: tuple[Segment, ...]
    prefix: bool = True

    def prefix_word(self, seg: int, alt: Phrase, pos: int) -> bool:
        return (self.prefix and seg == len(self.segments) - 1 and pos == len(alt) - 1
                and not self.segments[seg].synonym and len(alt[pos]) >= MIN_PREFIX)

    def phrases(self) -> list[tuple[Phrase, bool]]:
        """Whole-query phrases (one alternative of every segment), at most MAX_VARIANTS, with the prefix flag."""
        combos = islice(product(*[s.alternatives for s in self.segments]), MAX_VARIANTS)
        last = self.segments[-1]
        prefix = self.prefix and not last.synonym and len(last.word) >= MIN_PREFIX
        return [(tuple(w for alt in combo for w in alt), prefix) for combo in combos]

    def display(self) -> str:
        return " ".join(s.typed for s in self.segments)


@dataclass
class Understanding:
    """What was made of a query: the terms searched and what the page tells the citizen about them."""

    typed: str
    terms: Terms | None
    corrections: list[tuple[str, str]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    synonyms: list[tuple[str, list[str]]] = field(default_factory=list)
    partial: bool = False

    @property
    def searched_for(self) -> str | None:
        """The query as it was understood, when that differs from what was typed (for "Kết quả cho: …")."""
        if self.terms is None or not (self.corrections or self.partial):
            return None
        return self.terms.display()


# ---------------------------------------------------------------- synonyms


@dataclass(frozen=True)
class SynonymGroup:
    key: str
    terms: tuple[str, ...]
    source: str
    origin: str = "file"
    enabled: bool = True


def synonym_key(terms: list[str] | tuple[str, ...]) -> str:
    return " ".join(query_tokens(fold(terms[0])))[:200] if terms else ""


def split_terms(raw: str) -> list[str]:
    """Terms of a group as written ("a | b | c"), blanks and repeats dropped, order kept."""
    seen: dict[str, str] = {}
    for term in _TERM_SPLIT.split(raw.strip()):
        term = " ".join(term.split())
        if term and fold(term) not in seen and query_tokens(fold(term)):
            seen[fold(term)] = term
    return list(seen.values())


def file_groups() -> list[SynonymGroup]:
    """The synonym groups bundled with the application."""
    with SYNONYMS_FILE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    groups = []
    for row in rows:
        terms = split_terms(row["terms"])
        groups.append(SynonymGroup(key=synonym_key(terms), terms=tuple(terms), source=row["source"].strip()))
    return groups


def all_groups(session: Session) -> list[SynonymGroup]:
    """The file's groups with the administrators' edits: a table row replaces the file group of its key."""
    from portal.models import SearchSynonym

    edited = {row.key: row for row in session.execute(select(SearchSynonym)).scalars()}
    groups = []
    for group in file_groups():
        row = edited.pop(group.key, None)
        groups.append(group if row is None else _from_row(row))
    groups += [_from_row(row) for row in edited.values()]
    return groups


def _from_row(row) -> SynonymGroup:
    return SynonymGroup(key=row.key, terms=tuple(split_terms(row.terms)), source=row.source, origin="admin",
                        enabled=row.enabled)


@dataclass
class _SynonymIndex:
    phrases: dict[Phrase, int]
    groups: list[tuple[Phrase, ...]]
    longest: int


_SYNONYMS = memo(60)


def synonym_index(session: Session) -> _SynonymIndex:
    def compute() -> _SynonymIndex:
        phrases: dict[Phrase, int] = {}
        groups: list[tuple[Phrase, ...]] = []
        for group in all_groups(session):
            if not group.enabled:
                continue
            alts = tuple(dict.fromkeys(tuple(query_tokens(fold(t))) for t in group.terms))
            for alt in alts:
                phrases.setdefault(alt, len(groups))
            groups.append(alts)
        return _SynonymIndex(phrases, groups, max((len(p) for p in phrases), default=1))

    return _SYNONYMS.get(database_key(session), compute)


def clear_synonyms() -> None:
    _SYNONYMS.clear()


# ---------------------------------------------------------------- vocabulary of service names


@dataclass
class Vocabulary:
    """Words of the active service names: how many names hold each, their usual spelling, and the names."""

    names: list[tuple[str, str, int]]  # (name, name_folded, active services)
    postings: dict[str, set[int]]
    forms: list[dict[str, str]]  # per name: folded word -> the word as the name spells it
    words: list[str]
    texts: list[str] = field(default_factory=list)  # per name: its folded words, " "-joined and padded
    by_length: list[int] = field(default_factory=list)  # name indexes, shorter (then commoner) first
    lower_texts: list[str] = field(default_factory=list)  # per name: its words with diacritics, joined and padded
    rank: list[int] = field(default_factory=list)  # per name: its place in the results' order (length, then name)
    latest: int | None = None  # _names_mark() when the vocabulary was read
    _prefixed: dict[str, frozenset[int]] = field(default_factory=dict)
    segments: dict[tuple, Any] = field(default_factory=dict)  # answers of _segment_postings and list_names

    def df(self, word: str, prefix: bool = False) -> int:
        if not prefix:
            return len(self.postings.get(word, ()))
        return len(self.prefix_postings(word))

    def prefix_postings(self, word: str) -> frozenset[int]:
        """Names holding a word that starts with `word` (the sorted word list is searched, the answer kept)."""
        hit = self._prefixed.get(word)
        if hit is None:
            found: set[int] = set()
            for i in range(bisect.bisect_left(self.words, word), len(self.words)):
                if not self.words[i].startswith(word):
                    break
                found |= self.postings[self.words[i]]
            if len(self._prefixed) > 4096:
                self._prefixed.clear()
            hit = self._prefixed[word] = frozenset(found)
        return hit


_VOCABULARY = memo(60)


def vocabulary(session: Session) -> Vocabulary:
    """The spelling index over `service_names` (a few thousand distinct names), memoised for a minute."""
    def compute() -> Vocabulary:
        latest = _names_mark(session)
        rows = session.execute(
            select(_NAMES.c.name, _NAMES.c.name_folded, _NAMES.c.active).where(_NAMES.c.active > 0)
        ).all()
        postings: dict[str, set[int]] = defaultdict(set)
        forms: list[dict[str, str]] = []
        names = []
        for i, (name, folded, active) in enumerate(rows):
            names.append((name, folded, active))
            lower, folded_words = query_tokens(lower_nfc(name)), query_tokens(folded)
            if len(lower) == len(folded_words):  # the same words, with and without diacritics
                spelt = dict(zip(folded_words, lower, strict=True))
            else:
                spelt = {fold(word): word for word in lower}
            forms.append(spelt)
            for key in spelt:
                postings[key].add(i)
        texts = [" " + " ".join(query_tokens(folded)) + " " for _, folded, _ in names]
        by_length = sorted(range(len(names)), key=lambda n: (len(names[n][0]), -names[n][2]))
        rank = [0] * len(names)
        for place, n in enumerate(sorted(range(len(names)), key=lambda n: (len(names[n][0]), names[n][0]))):
            rank[n] = place
        return Vocabulary(names, dict(postings), forms, sorted(postings), texts, by_length,
                          [" " + " ".join(query_tokens(lower_nfc(n[0]))) + " " for n in names], rank, latest)

    return _VOCABULARY.get(database_key(session), compute)


def forget_vocabulary(session: Session) -> None:
    """Read the vocabulary again at its next use (search found it behind the database)."""
    _VOCABULARY.forget(database_key(session))


# What changes when `service_names` gains a row: its newest id on SQLite, the number of rows on PostgreSQL
# (where the name is the key). Search reads it with each page's services (search_groups), to know whether
# the vocabulary in memory is current.
NAMES_MARK_SQL = {"sqlite": "SELECT max(id) FROM service_names", "other": "SELECT count(*) FROM service_names"}


def _names_mark(session: Session) -> int | None:
    connection = session.connection()
    return connection.exec_driver_sql(NAMES_MARK_SQL["sqlite" if connection.dialect.name == "sqlite" else "other"]
                                      ).scalar()


_NAMES = table(NAMES, column("id"), column("name"), column("name_folded"), column("active"))


# ---------------------------------------------------------------- understanding


def _segments(tokens: list[str], typed: list[str], index: _SynonymIndex) -> list[Segment]:
    """Longest synonym phrases first, left to right; other words are segments of their own."""
    if len(typed) != len(tokens):
        typed = tokens
    out: list[Segment] = []
    i = 0
    while i < len(tokens):
        for size in range(min(index.longest, len(tokens) - i), 0, -1):
            phrase = tuple(tokens[i:i + size])
            group = index.phrases.get(phrase)
            if group is not None and (size > 1 or len(phrase[0]) > 1):
                alts = (phrase, *[a for a in index.groups[group] if a != phrase])
                out.append(Segment(alts, " ".join(typed[i:i + size]), synonym=True))
                i += size
                break
        else:
            out.append(Segment(((tokens[i],),), typed[i]))
            i += 1
    return out


def _drop_stop_words(segments: list[Segment]) -> tuple[list[Segment], list[str]]:
    stops = {tuple(p.split()) for p in STOP_PHRASES}
    kept, dropped, i = [], [], 0
    while i < len(segments):
        seg = segments[i]
        if not seg.synonym and i + 1 < len(segments) and (seg.word, segments[i + 1].word) in stops \
                and not segments[i + 1].synonym:
            dropped.append(f"{seg.word} {segments[i + 1].word}")
            i += 2
            continue
        if not seg.synonym and (seg.word,) in stops:
            dropped.append(seg.word)
        else:
            kept.append(seg)
        i += 1
    if not kept:
        return segments, []
    return kept, dropped


def _synonym_started(index: _SynonymIndex, word: str) -> tuple[Phrase, ...] | None:
    """The synonym group of a one-word term that starts with `word` (at least 3 letters), if any."""
    if len(word) < MIN_PREFIX:
        return None
    for phrase, group in sorted(index.phrases.items()):
        if len(phrase) == 1 and phrase[0].startswith(word):
            return (phrase, *[a for a in index.groups[group] if a != phrase])
    return None


def _max_edits(word: str) -> int:
    return 1 if len(word) <= 5 else 2


def _correct(vocab: Vocabulary, segments: list[Segment], position: int, prefix: bool) -> str | None:
    """The catalogue word nearest to an unknown word (one or two edits), preferring one found in the same
    names as the query's other words, then the commoner."""
    word = segments[position].word
    limit = _max_edits(word)
    if not limit:
        return None
    found = process.extract(word, vocab.words, scorer=DamerauLevenshtein.distance, score_cutoff=limit,
                            limit=12)
    if not found:
        return None
    others: set[int] | None = None
    for i, seg in enumerate(segments):
        if i == position:
            continue
        hit = _segment_postings(vocab, seg, prefix and i == len(segments) - 1)
        others = hit if others is None else others & hit
    others = others or set()
    if len(word) <= 2:  # "se" is one edit from many words: only one found with the query's other words
        found = [item for item in found if vocab.postings[item[0]] & others]
        if not found:
            return None

    def rank(item):
        candidate, distance, _ = item
        return (-len(vocab.postings[candidate] & others), distance, -len(vocab.postings[candidate]))

    return min(found, key=rank)[0]


_NO_NAMES: frozenset[int] = frozenset()


def _segment_postings(vocab: Vocabulary, seg: Segment, prefix: bool) -> frozenset[int]:
    """Names holding every word of one of the segment's alternatives (a cheap over-approximation of a phrase);
    kept with the vocabulary, since the same words come back in query after query."""
    key = (seg.alternatives, seg.synonym, prefix)
    found = vocab.segments.get(key)
    if found is not None:
        return found
    hit: set[int] = set()
    for alt in seg.alternatives:
        lists = []
        for pos, word in enumerate(alt):
            last = prefix and pos == len(alt) - 1 and not seg.synonym and len(word) >= MIN_PREFIX
            lists.append(vocab.prefix_postings(word) if last else vocab.postings.get(word, _NO_NAMES))
        lists.sort(key=len)
        names = lists[0].intersection(*lists[1:]) if len(lists) > 1 else lists[0]
        hit.update(names)
    if len(vocab.segments) > 4096:
        vocab.segments.clear()
    found = vocab.segments[key] = frozenset(hit)
    return found


def _known(vocab: Vocabulary, word: str, prefix: bool) -> bool:
    if word in vocab.postings or word.isdigit():
        return True
    return prefix and len(word) >= MIN_PREFIX and any(w.startswith(word) for w in vocab.words)


def spelled(vocab: Vocabulary, terms: Terms) -> Terms:
    """Words typed without diacritics shown as the names they match spell them ("xay dung" → "xây dựng")."""
    names: set[int] | None = None
    for i, seg in enumerate(terms.segments):
        hit = _segment_postings(vocab, seg, terms.prefix and i == len(terms.segments) - 1)
        names = hit if names is None else names & hit
    if not names:
        return terms

    def spell(word: str) -> str:
        if word != fold(word):
            return word
        found = Counter(vocab.forms[n][word] for n in islice(names, 200) if word in vocab.forms[n])
        return found.most_common(1)[0][0] if found else word

    return Terms(tuple(Segment(seg.alternatives, " ".join(spell(w) for w in seg.typed.split()), seg.synonym)
                       for seg in terms.segments), terms.prefix)


def understand(session: Session, q: str, *, exact: bool = False, typing: bool = False) -> Understanding:
    """Terms for the search engine from what was typed; with `exact`, the words as typed and nothing more;
    with `typing` (suggestions), a last word shorter than 3 letters is left out rather than corrected."""
    tokens = query_tokens(fold(q))
    if not tokens:
        return Understanding(q, None)
    if exact:
        return Understanding(q, Terms(tuple(Segment(((t,),), t) for t in tokens)))
    segments = _segments(tokens, query_tokens(lower_nfc(q)), synonym_index(session))
    segments, dropped = _drop_stop_words(segments)
    vocab = vocabulary(session)
    index = synonym_index(session)
    corrections = []
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg.synonym or _known(vocab, seg.word, last) or (typing and last and len(seg.word) < MIN_PREFIX):
            continue
        started = _synonym_started(index, seg.word) if last else None
        if started is not None:  # "passp" as it is being typed: passport → hộ chiếu
            segments[i] = Segment(started, seg.typed, synonym=True)
            continue
        fixed = _correct(vocab, segments, i, prefix=True)
        if fixed:
            corrections.append((seg.word, fixed))
            segments[i] = Segment(((fixed,),), fixed)
    if len(segments) > 1 and not segments[-1].synonym and len(segments[-1].word) < MIN_PREFIX \
            and (typing or not _known(vocab, segments[-1].word, False)) and not segments[-1].word.isdigit():
        dropped.append(segments.pop().typed)  # a word being typed, too short to say which
    terms = Terms(tuple(segments))
    # The words as the names spell them are shown only with a correction ("Kết quả cho: …").
    understanding = Understanding(q, spelled(vocab, terms) if corrections else terms, corrections, dropped)
    understanding.synonyms = [(s.typed, [" ".join(a) for a in s.alternatives[1:]]) for s in segments if s.synonym]
    return understanding


def best_partial_names(session: Session, terms: Terms, *, limit: int = 60) -> tuple[list[str], Terms | None]:
    """Names matching the most query segments, rarer segments weighing more (idf), best first; and the
    segments they match, for "Kết quả cho: …". Empty when no segment matches anything."""
    vocab = vocabulary(session)
    count = len(vocab.names) or 1
    hits = [_segment_postings(vocab, seg, terms.prefix and i == len(terms.segments) - 1)
            for i, seg in enumerate(terms.segments)]
    # Rarer segments weigh more; one- and two-letter words ("ô", "tô") match by chance, so half as much.
    weights = [math.log((count + 1) / (len(h) + 0.5)) * (0.5 if max(map(len, seg.word.split())) <= 2 else 1)
               if h else 0.0 for seg, h in zip(terms.segments, hits, strict=True)]
    scores: dict[int, float] = defaultdict(float)
    for i, (seg, hit, weight) in enumerate(zip(terms.segments, hits, weights, strict=True)):
        typed = hit if len(seg.alternatives) == 1 else _segment_postings(
            vocab, Segment(seg.alternatives[:1], seg.typed), terms.prefix and i == len(terms.segments) - 1)
        for name in hit:  # the words as typed weigh more than their synonyms
            scores[name] += weight if name in typed else weight * SYNONYM_WEIGHT
    if not scores:
        return [], None
    ranked = heapq.nsmallest(limit, scores, key=lambda n: (-round(scores[n], 6), len(vocab.names[n][0]),
                                                          vocab.names[n][0]))
    best = ranked[0]
    matched = tuple(seg for seg, hit in zip(terms.segments, hits, strict=True) if best in hit)
    return [vocab.names[n][0] for n in ranked[:limit]], spelled(vocab, Terms(matched, terms.prefix))


# ---------------------------------------------------------------- administration of the synonyms


class SynonymError(ValueError):
    """A synonym group that cannot be saved; `errors` maps form fields to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def find_group(session: Session, key: str) -> SynonymGroup | None:
    return next((g for g in all_groups(session) if g.key == key), None)


def save_group(session: Session, key: str | None, *, terms: str, source: str, enabled: bool, user=None,
               ip: str | None = None) -> SynonymGroup:
    """Create a group (key None) or edit one (a file group gets an admin row of its key); audited, committed.

    Raises SynonymError: fewer than two terms, no source, or a new group whose first term starts another.
    """
    from flask_babel import gettext as _

    from portal.models import SearchSynonym
    from portal.services import audit

    listed = split_terms(terms)
    source = " ".join(source.split())
    errors = {}
    if len(listed) < 2:
        errors["terms"] = _("Nhập ít nhất hai cách gọi, phân cách bằng dấu |.")
    if not source:
        errors["source"] = _("Ghi rõ nguồn của nhóm từ (văn bản, cách gọi thông dụng …).")
    before = find_group(session, key) if key else None
    if key and before is None:
        errors[""] = _("Không tìm thấy nhóm từ này.")
    new_key = key or synonym_key(listed)
    if not key and listed and find_group(session, new_key) is not None:
        errors["terms"] = _("Đã có nhóm từ bắt đầu bằng “%(term)s”; hãy sửa nhóm đó.", term=listed[0])
    if errors:
        raise SynonymError(errors)
    row = session.execute(select(SearchSynonym).where(SearchSynonym.key == new_key)).scalar_one_or_none()
    if row is None:
        row = SearchSynonym(key=new_key)
        session.add(row)
    row.terms, row.source, row.enabled = " | ".join(listed), source, enabled

    def shown(group: SynonymGroup | None) -> dict | None:
        return None if group is None else {"terms": " | ".join(group.terms), "source": group.source,
                                           "enabled": group.enabled, "origin": group.origin}

    audit.record(session, action="synonym.update" if before else "synonym.create", entity_type="search_synonym",
                 entity_id=new_key, user=user, ip=ip, before=shown(before),
                 after={"terms": row.terms, "source": source, "enabled": enabled, "origin": "admin"})
    session.commit()
    clear_synonyms()
    return _from_row(row)


def nearest_names(session: Session, q: str, *, limit: int = 5) -> list[str]:
    """The service names most like the whole query (for a search that found nothing)."""
    vocab = vocabulary(session)
    folded = fold(q)
    if not folded or not vocab.names:
        return []
    found = process.extract(folded, [n[1] for n in vocab.names], scorer=fuzz.WRatio, limit=limit, score_cutoff=50)
    return [vocab.names[i][0] for _, _, i in found]


def _needle(phrase: Phrase, prefix: bool) -> str:
    """What `phrase` is as whole words in a name's padded word string, its last word a prefix when `prefix`."""
    return " " + " ".join(phrase) + ("" if prefix else " ")


@dataclass
class _Ranker:
    """Which names match every segment, and their tier: 0 the query as typed with its diacritics, 1 the whole
    phrase in one of its wordings, 2 every word somewhere (the order of the search results). The phrases are
    turned into the padded strings to look for (_needle) once per query, since every candidate name is tried."""

    vocab: Vocabulary
    terms: Terms
    exact: str | None  # needle in the names' lower-case words
    phrases: tuple[str, ...]  # needles in the names' folded words
    segments: tuple[tuple[str, ...], ...] | None  # per segment, its alternatives' needles; None: one word each

    @classmethod
    def of(cls, vocab: Vocabulary, q: str, terms: Terms) -> _Ranker:
        exact = tuple(query_tokens(lower_nfc(q)))
        exact_prefix = bool(exact) and terms.prefix and len(exact[-1]) >= MIN_PREFIX
        single = all(len(alt) == 1 for seg in terms.segments for alt in seg.alternatives)
        segments = None if single else tuple(
            tuple(_needle(alt, terms.prefix_word(i, alt, len(alt) - 1)) for alt in seg.alternatives)
            for i, seg in enumerate(terms.segments))
        return cls(vocab, terms, _needle(exact, exact_prefix) if exact else None,
                   tuple(_needle(p, pre) for p, pre in terms.phrases()), segments)

    def candidates(self) -> set[int]:
        """Names holding every segment's words (exactly the matches when every alternative is one word)."""
        found: set[int] | None = None
        last = len(self.terms.segments) - 1
        for i, seg in enumerate(self.terms.segments):
            hit = _segment_postings(self.vocab, seg, self.terms.prefix and i == last)
            found = hit if found is None else found & hit
            if not found:
                return set()
        return found or set()

    def matches(self, n: int) -> bool:
        if self.segments is None:
            return True
        text = self.vocab.texts[n]
        return all(any(needle in text for needle in needles) for needles in self.segments)

    def tier(self, n: int) -> int:
        if self.exact is not None and self.exact in self.vocab.lower_texts[n]:
            return 0
        text = self.vocab.texts[n]
        for needle in self.phrases:
            if needle in text:
                return 1
        return 2


@dataclass
class NameListing:
    """A page of the matching names in the results' order, how many names match and their active services."""

    names: list[str]
    names_total: int
    services_total: int


def list_names(session: Session, q: str, terms: Terms, *, skip: int, limit: int) -> NameListing:
    """The results page's names for a search without filters, read from the in-memory vocabulary of
    `service_names` (at most a minute old in other processes): tier, then shorter names, then by name."""
    vocab = vocabulary(session)
    ranker = _Ranker.of(vocab, q, terms)
    key = ("matched", terms)
    held = vocab.segments.get(key)
    if held is None:  # the same words come back in query after query, as with _segment_postings
        if len(vocab.segments) > 4096:
            vocab.segments.clear()
        found = [n for n in ranker.candidates() if ranker.matches(n)]
        held = vocab.segments[key] = (found, sum(vocab.names[n][2] for n in found))
    matched, services_total = held
    rank = vocab.rank
    if skip + limit >= len(matched):
        page = sorted(matched, key=lambda n: (ranker.tier(n), rank[n]))[skip:skip + limit]
    else:
        page = heapq.nsmallest(skip + limit, matched, key=lambda n: (ranker.tier(n), rank[n]))[skip:]
    return NameListing([vocab.names[n][0] for n in page], len(matched), services_total)


def suggest_names(session: Session, q: str, *, limit: int = 8) -> tuple[list[tuple[str, int]], Understanding]:
    """(name, active services) for the search box, ranked like search (the query with its diacritics, the
    whole phrase, every word; shorter names first), else the best partial matches. Read from the in-memory
    vocabulary of `service_names` (at most a minute old), so a keystroke costs no database query."""
    understanding = understand(session, q, typing=True)
    terms = understanding.terms
    if terms is None:
        return [], understanding
    vocab = vocabulary(session)
    ranker = _Ranker.of(vocab, q, terms)
    candidates = ranker.candidates()
    # Names in order of length, each put in its tier; the scan stops once the best tier possible is full
    # (the diacritics tier only when diacritics were typed).
    best = 0 if lower_nfc(q) != fold(lower_nfc(q)) else 1
    tiers: list[list[int]] = [[], [], []]
    for n in vocab.by_length if candidates else ():
        if n not in candidates or not ranker.matches(n):
            continue
        tier = ranker.tier(n)
        if len(tiers[tier]) < limit:
            tiers[tier].append(n)
        if len(tiers[best]) >= limit:
            break
    found = (tiers[0] + tiers[1] + tiers[2])[:limit]
    if not found:
        names, matched = best_partial_names(session, terms, limit=limit)
        if names:
            understanding.partial, understanding.terms = True, matched
            by_name = {vocab.names[n][0]: n for n in range(len(vocab.names))}
            found = [by_name[name] for name in names]
    return [(vocab.names[n][0], vocab.names[n][2]) for n in found], understanding
