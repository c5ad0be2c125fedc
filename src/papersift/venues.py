"""The venue and year a paper appeared at, read from its arXiv comment ("Accepted at NeurIPS 2025").

What counts as a venue: a conference, journal or workshop series of the tables below (``CONFERENCES``,
``JOURNALS``, ``WORKSHOP_SERIES``), named by its acronym or its full name, where the comment says the paper
was accepted there or simply names it ("CVPR 2025"). A venue not in the tables gives ``None``: the tables
hold the precision, and extending them is the way to more recall (add a name and its aliases).

The rules, applied to each mention of a known venue in turn (the first that counts wins):

* The comment is cut at 2,000 characters and its whitespace collapsed; it is split into sentences
  (at ``. ``/``! ``/``? `` before a capital, and at ``;``; not after ``Int.``, ``Proc.`` and the like).
* A name counts only as a whole: not inside a word, a URL or a path, not opening a hyphenated word
  ("AAAI-MAKE" is a symposium), and a full name not running on into a longer one ("International Conference
  on Machine Learning and Applications" is ICMLA). ``NOT_VENUES`` lists look-alikes that are skipped.
* The nearest cue before the mention, in its sentence, decides. Acceptance cues: accepted, to appear /
  appears in, published, camera-ready, proceedings, presented, oral, spotlight, poster, in press,
  forthcoming, findings of. Refusal cues: submitted / submission, under review, in review, under
  consideration, preprint, proposal, rejected, withdrawn ("Preprint of the paper accepted at ICASSP 2026"
  counts: "accepted" is nearer).
* With no cue before it, a mention counts when it opens its sentence or a ``,``/``:`` segment (only
  "in", "the", an ordinal, "IEEE", "ACM" or a year may come first: "CVPR 2025", "18 pages. NeurIPS 2025
  (oral)", "14 tables, ACL'25 Findings") and no refusal cue follows it in the sentence ("NeurIPS 2025
  (under review)").
* "Extended / long / full version of our ACL 2024 paper" counts as ACL 2024: it is the same work, and a
  reader browsing the venue looks for it. "version of" is a weak cue: a refusal after the name still wins
  ("Extended version of a 5-page ISIT submission").
* The year: four digits right after the name ("ICLR 2026", "KR2025", "(CVPR) 2026", "CVPR'2026"), two
  digits from 10 to 39 after it ("AAAI-26", "CVPR'25", "CVPR26" -> 2026; not "ICRA 40" nor "ICML 20
  pages"), a year just before it ("the 2025 IEEE/CVF Conference on ..."), the first year within 30
  characters after it in its sentence ("Symposium, 7-12 July 2024"), a later mention of the same venue in
  the sentence ("the AAAI Conference on Artificial Intelligence 40 (AAAI-26)"), or for a workshop the one
  year of its sentence ("the NLLP Workshop 2025, co-located with EMNLP"). None when no year is written:
  never guessed from the listing date.
* The track: ``workshop`` when "workshop" is in the mention's sentence or the acronym carries a W (ICCVW);
  then ``findings``, ``demo``, ``tutorial`` and ``other`` (challenge, competition, industry track, late-
  breaking work) by the same test; else ``journal`` for a journal and ``main`` for a conference. A workshop
  named with its host ("the Imageomics Workshop at NeurIPS 2025") is the host's; a workshop series of its
  own (BioNLP) keeps its name.

Every regular expression here runs in linear time (alternations of literals, bounded repeats, no nested
quantifiers) on at most 2,000 characters, with ``re.ASCII`` so that ``\\d`` is 0-9 only.

Measured by ``python -m bench run venues_eval`` on ``tests/data/venue_comments.jsonl`` (350 comments, 184
naming a venue, labelled by hand before the rules were written; the rules were then written and tuned
on it, so this is in-sample): (name, year) precision 1.000 (bootstrap 95% CI 1.000-1.000; Wilson
0.976-1.000), recall 0.848 (0.792-0.899). A second sample of 100 comments, labelled blind and scored once
before any tuning on it, gave precision 0.905 and recall 0.644 for the rules as they stood then (name only:
1.000 and 0.712); the fixes it prompted (two-digit years, names inside URLs, missing venues) brought it to
1.000 and 0.898. Most misses are venues outside the tables (PSIVT, IWCMC, SBCAS, ...).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Literal

Track = Literal["main", "workshop", "findings", "journal", "demo", "tutorial", "other"]

# name -> aliases (the name itself is always one). Full names are matched as written after whitespace is
# collapsed; the longest alias wins where two start at the same place.
CONFERENCES: dict[str, tuple[str, ...]] = {
    # machine learning and AI
    "NeurIPS": ("NIPS", "Advances in Neural Information Processing Systems",
                "Conference on Neural Information Processing Systems", "Neural Information Processing Systems"),
    "ICLR": ("International Conference on Learning Representations",),
    "ICML": ("International Conference on Machine Learning",),
    "AAAI": ("AAAI Conference on Artificial Intelligence",),
    "IJCAI": ("International Joint Conference on Artificial Intelligence",),
    "UAI": ("Conference on Uncertainty in Artificial Intelligence",),
    "AISTATS": ("International Conference on Artificial Intelligence and Statistics",),
    "COLT": ("Conference on Learning Theory",),
    "COLM": ("Conference on Language Modeling",),
    "ECAI": ("European Conference on Artificial Intelligence",),
    "AAMAS": (),
    "KR": ("International Conference on Principles of Knowledge Representation and Reasoning",),
    "ECML PKDD": ("ECML-PKDD", "ECML/PKDD"),
    "ICAPS": ("International Conference on Automated Planning and Scheduling",),
    "IJCNN": ("International Joint Conference on Neural Networks",),
    "GECCO": ("Genetic and Evolutionary Computation Conference",),
    "CogSci": ("Annual Conference of the Cognitive Science Society", "Cognitive Science Society"),
    "L4DC": (),
    "RLC": ("Reinforcement Learning Conference",),
    "ICANN": ("International Conference on Artificial Neural Networks",),
    "PAKDD": (),
    "SDM": ("SIAM International Conference on Data Mining",),
    "FAccT": ("Conference on Fairness, Accountability, and Transparency",),
    "AIES": ("Conference on AI, Ethics, and Society",),
    "AIED": ("International Conference on Artificial Intelligence in Education",),
    "EDM": ("International Conference on Educational Data Mining",),
    "LAK": ("Learning Analytics and Knowledge",),
    "SSCI": ("Symposium Series on Computational Intelligence",),
    # vision, graphics, multimedia, medical imaging
    "CVPR": ("Conference on Computer Vision and Pattern Recognition", "Computer Vision and Pattern Recognition"),
    "ICCV": ("International Conference on Computer Vision",),
    "ECCV": ("European Conference on Computer Vision",),
    "WACV": ("Winter Conference on Applications of Computer Vision",),
    "BMVC": ("British Machine Vision Conference",),
    "3DV": ("International Conference on 3D Vision",),
    "ACCV": ("Asian Conference on Computer Vision",),
    "ICPR": ("International Conference on Pattern Recognition",),
    "ICIP": ("International Conference on Image Processing",),
    "ICME": ("International Conference on Multimedia and Expo",),
    "ICIAP": ("International Conference on Image Analysis and Processing",),
    "SIGGRAPH Asia": (),
    "SIGGRAPH": (),
    "ACM MM": ("ACMMM", "ACM Multimedia", "ACM International Conference on Multimedia"),
    "MICCAI": ("Medical Image Computing and Computer Assisted Intervention",),
    "ISBI": ("International Symposium on Biomedical Imaging",),
    "MIDL": ("Medical Imaging with Deep Learning",),
    "IGARSS": ("International Geoscience and Remote Sensing Symposium",),
    "FG": ("International Conference on Automatic Face and Gesture Recognition",),
    # language and speech
    "ACL": ("Annual Meeting of the Association for Computational Linguistics", "ACL-IJCNLP"),
    "EMNLP": ("Conference on Empirical Methods in Natural Language Processing",
              "Empirical Methods in Natural Language Processing", "EMNLP-IJCNLP"),
    "NAACL": ("North American Chapter of the Association for Computational Linguistics", "NAACL-HLT"),
    "EACL": ("European Chapter of the Association for Computational Linguistics",),
    "AACL": ("IJCNLP-AACL", "AACL-IJCNLP"),
    "LREC-COLING": (),
    "COLING": ("International Conference on Computational Linguistics",),
    "LREC": ("Language Resources and Evaluation Conference",),
    "CoNLL": ("Conference on Computational Natural Language Learning",),
    "INLG": ("International Natural Language Generation Conference",),
    "SIGDIAL": (),
    "Interspeech": (),
    "ICASSP": ("International Conference on Acoustics, Speech and Signal Processing",
               "International Conference on Acoustics, Speech, and Signal Processing"),
    "ISMIR": ("International Society for Music Information Retrieval Conference",),
    "*SEM": ("Joint Conference on Lexical and Computational Semantics",),
    "IJCNLP": (),
    # data, retrieval, web
    "KDD": ("SIGKDD", "Conference on Knowledge Discovery and Data Mining"),
    "WWW": ("The Web Conference", "TheWebConf"),
    "SIGIR": (),
    "CIKM": (),
    "WSDM": (),
    "RecSys": (),
    "ICDM": ("International Conference on Data Mining",),
    "SIGMOD": (),
    "VLDB": (),
    "VLDBJ": ("VLDB Journal",),
    "ICDE": (),
    "PODS": (),
    "ECIR": ("European Conference on Information Retrieval",),
    "ICWSM": (),
    # robotics and control
    "ICRA": ("International Conference on Robotics and Automation",),
    "IROS": ("International Conference on Intelligent Robots and Systems",),
    "CoRL": ("Conference on Robot Learning",),
    "RSS": ("Robotics: Science and Systems",),
    "HRI": (),
    "CDC": ("Conference on Decision and Control",),
    "ITSC": ("International Conference on Intelligent Transportation Systems",),
    "Humanoids": (),
    "MobiCom": (),
    "SenSys": (),
    # systems, software, security, theory, HCI
    "SOSP": (),
    "OSDI": (),
    "NSDI": (),
    "EuroSys": (),
    "MLSys": (),
    "ASPLOS": (),
    "ISCA": (),
    "DAC": ("Design Automation Conference",),
    "ASP-DAC": (),
    "ICSE": ("International Conference on Software Engineering",),
    "FSE": ("ESEC/FSE",),
    "ASE": (),
    "ISSTA": (),
    "ICCAD": (),
    "DATE": (),
    "HPCA": (),
    "MICRO": (),
    "PPoPP": (),
    "CAV": (),
    "LICS": (),
    "PLDI": (),
    "POPL": (),
    "CCS": (),
    "NDSS": (),
    "IEEE S&P": ("IEEE Symposium on Security and Privacy",),
    "USENIX Security": (),
    "STOC": (),
    "FOCS": (),
    "SODA": (),
    "ICALP": (),
    "CHI": (),
    "UIST": (),
    "CSCW": (),
    "ICAART": ("International Conference on Agents and Artificial Intelligence",),
    "IJCB": ("International Joint Conference on Biometrics",),
    "EMBC": (),
    "ISIT": ("International Symposium on Information Theory",),
    "ICC": (),
    "GLOBECOM": (),
    "INFOCOM": (),
}

JOURNALS: dict[str, tuple[str, ...]] = {
    "TMLR": ("Transactions on Machine Learning Research",),
    "JMLR": ("Journal of Machine Learning Research",),
    "TPAMI": ("T-PAMI", "PAMI", "Transactions on Pattern Analysis and Machine Intelligence"),
    "IJCV": ("International Journal of Computer Vision",),
    "TACL": ("Transactions of the Association for Computational Linguistics",),
    "TIP": ("Transactions on Image Processing",),
    "TNNLS": ("Transactions on Neural Networks and Learning Systems",),
    "TVCG": ("Transactions on Visualization and Computer Graphics",),
    "TASLP": ("Transactions on Audio, Speech and Language Processing",
              "Transactions on Audio, Speech, and Language Processing"),
    "TMI": ("Transactions on Medical Imaging",),
    "TOG": ("ACM Transactions on Graphics", "Transactions on Graphics"),
    "RA-L": ("RAL", "Robotics and Automation Letters"),
    "Pattern Recognition Letters": (),
    "Pattern Recognition": (),
    "Neural Networks": (),
    "Neurocomputing": (),
    "Information Sciences": (),
    "Knowledge-Based Systems": (),
    "IP&M": ("Information Processing & Management", "Information Processing and Management"),
    "Nature Machine Intelligence": (),
    "Medical Image Analysis": (),
    "Computational Linguistics": (),
    "TKDE": ("Transactions on Knowledge and Data Engineering",),
    "TMM": ("Transactions on Multimedia",),
    "TCSVT": ("Transactions on Circuits and Systems for Video Technology",),
    "TGRS": ("Transactions on Geoscience and Remote Sensing",),
    "TIFS": ("Transactions on Information Forensics and Security",),
    "TCYB": ("Transactions on Cybernetics",),
    "TSP": ("Transactions on Signal Processing",),
    "TCOM": ("Transactions on Communications",),
    "TWC": ("Transactions on Wireless Communications",),
    "TSE": ("Transactions on Software Engineering",),
    "TOSEM": ("Transactions on Software Engineering and Methodology",),
    "TOIS": ("Transactions on Information Systems",),
    "SPL": ("Signal Processing Letters",),
    "IEEE Access": (),
    "CSUR": ("ACM Computing Surveys",),
    "JAIR": ("Journal of Artificial Intelligence Research",),
    "ESWA": ("Expert Systems with Applications",),
    "Nature Communications": (),
    "Scientific Reports": (),
}

# names that begin like a venue's but are something else: matched (the longest alias wins) and skipped, so
# that "AAAI Spring Symposium" is not read as AAAI, nor "Findings of the Association for Computational
# Linguistics: NAACL" as the journal Computational Linguistics
NOT_VENUES = ("AAAI Spring Symposium", "AAAI Fall Symposium", "AAAI Summer Symposium",
              "Association for Computational Linguistics", "ACL Anthology", "ACL Rolling Review",
              "International Conference on Artificial Intelligence in Education Technology")

# workshops that are venues in their own right, named by themselves rather than by a host conference
WORKSHOP_SERIES: dict[str, tuple[str, ...]] = {
    "BioNLP": (),
    "WMT": ("Conference on Machine Translation",),
}

# an acronym with a W is the host's workshops
WORKSHOP_ALIASES = {"CVPRW": "CVPR", "ICCVW": "ICCV", "ECCVW": "ECCV", "WACVW": "WACV", "AAAIW": "AAAI",
                    "NeurIPSW": "NeurIPS", "ICMLW": "ICML", "ICLRW": "ICLR"}

# aliases that are ordinary words or too short to trust in lower case ("colt", "pattern recognition"):
# these match only as written
CASE_SENSITIVE = {"KR", "RSS", "COLT", "HRI", "CDC", "DAC", "ISCA", "FSE", "CCS", "CHI", "TIP", "TOG", "TMI", "RAL",
                  "PAMI", "SODA", "WWW", "FG", "RLC", "SDM", "EDM", "LAK", "ASE", "DATE", "MICRO", "CAV", "LICS",
                  "TSP", "TMM", "TSE", "SPL", "Humanoids", "ICC", "WMT", "Pattern Recognition",
                  "Pattern Recognition Letters", "Neural Networks", "Information Sciences", "Medical Image Analysis",
                  "Computational Linguistics"}

# A full name must end where the venue's name ends: "International Conference on Machine Learning and
# Applications" (ICMLA) and "... on Computer Vision Theory and Applications" (VISAPP) are other conferences.
# Only these words may follow a full name capitalised.
FULL_NAME_END = (r"(?! (?:and|&|for|of|on|in) [A-Z]"
                 r"| (?!(?:Workshops?|Conference|Annual|Proceedings|Findings|Main|Track|Datasets)\b)[A-Z][a-z])")

# journals whose names are ordinary phrases, and the words that join them into a longer name
PHRASE_NAMES = {"Pattern Recognition", "Pattern Recognition Letters", "Neural Networks", "Information Sciences",
                "Computational Linguistics", "Medical Image Analysis", "Scientific Reports"}
JOINING_WORDS = {"on", "of", "and", "&", "for"}

MAX_COMMENT_CHARS = 2000
YEAR_WINDOW = 30  # how far after a name the fallback looks for its year ("Symposium, 7-12 July 2024")
MAX_MENTIONS = 20  # a comment names a handful of venues; more is noise, and this bounds the work


@dataclass(frozen=True)
class Venue:
    name: str
    year: int | None
    track: Track

    @property
    def label(self) -> str:
        """"NeurIPS 2025", "ICLR 2026 Workshop", "Findings of EMNLP 2025", "TMLR"."""
        dated = f"{self.name} {self.year}" if self.year else self.name
        if self.track == "findings":
            return f"Findings of {dated}"
        suffix = {"workshop": " Workshop", "demo": " Demo", "tutorial": " Tutorial"}.get(self.track, "")
        return dated + suffix

    @property
    def slug(self) -> str:
        """The label's URL form: "NeurIPS-2025", "NeurIPS-2025-Workshop", "EMNLP-2025-Findings", "ACM-MM-2025"."""
        parts = [self.name] + ([str(self.year)] if self.year else [])
        suffix = {"workshop": "Workshop", "findings": "Findings", "demo": "Demo", "tutorial": "Tutorial"}.get(self.track)
        parts += [suffix] if suffix else []
        return re.sub(r"[^A-Za-z0-9]+", "-", "-".join(parts), flags=re.ASCII).strip("-")

    @property
    def terms(self) -> list[str]:
        """What ``venue:`` matches, lower-cased: the slug ("neurips-2025-workshop") and the name alone
        ("neurips": every year and track)."""
        name = re.sub(r"[^A-Za-z0-9]+", "-", self.name, flags=re.ASCII).strip("-").lower()
        return list(dict.fromkeys([self.slug.lower(), name]))

    def as_dict(self) -> dict:
        return {"name": self.name, "year": self.year, "track": self.track, "label": self.label, "slug": self.slug}


def _alias_table() -> dict[str, tuple[str, str]]:
    """alias -> (canonical name, kind), kind being the table it came from ("" for a name that is no venue)."""
    table: dict[str, tuple[str, str]] = {alias: ("", "") for alias in NOT_VENUES}
    for kind, venues in (("conference", CONFERENCES), ("journal", JOURNALS), ("workshop", WORKSHOP_SERIES)):
        for name, aliases in venues.items():
            for alias in (name, *aliases):
                table[alias] = (name, kind)
    for alias, host in WORKSHOP_ALIASES.items():
        table[alias] = (host, "host-workshop")
    return table


ALIASES = _alias_table()
_ALIAS_KEYS = {alias.lower(): alias for alias in ALIASES if alias not in CASE_SENSITIVE}


def _alias_pattern() -> re.Pattern[str]:
    """One alternation of every alias, longest first so "SIGGRAPH Asia" beats "SIGGRAPH"; a name must not sit
    inside a word, a URL or a path ("https://neurips.cc"), nor open a hyphenated word ("AAAI-MAKE" is a
    symposium, not AAAI), but digits may follow it ("ICCV2025")."""
    def one(alias: str) -> str:
        escaped = re.escape(alias)
        matched = escaped if alias in CASE_SENSITIVE else f"(?i:{escaped})"
        # a look-alike (NOT_VENUES) is skipped whatever follows it, so only a venue's full name needs the guard
        return matched + FULL_NAME_END if " " in alias and alias not in NOT_VENUES else matched
    body = "|".join(one(alias) for alias in sorted(ALIASES, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9/.@_-])(?:{body})(?![A-Za-z]|-[A-Za-z])", re.ASCII)


VENUE_NAME = _alias_pattern()

ACCEPT = (r"accept(?:ed|ance)?|to appear|appear(?:s|ed|ing)?|published|camera[- ]ready|proceedings|presented|"
          r"presentation|oral|spotlight|poster|in press|forthcoming|findings of")
# "extended version of our ACL 2024 paper" counts, "extended version of a 5-page ISIT submission" does not:
# a weak cue counts only when no refusal follows the name
WEAK_ACCEPT = r"version of"
REFUSE = (r"(?:re)?submi(?:tted|ssion|t|tting)|under review|in review|for review|under consideration|considered|"
          r"pre-?print|proposal|rejected|withdrawn")
CUE = re.compile(rf"\b(?:(?P<accept>{ACCEPT})|(?P<weak>{WEAK_ACCEPT})|(?P<refuse>{REFUSE}))\b", re.IGNORECASE | re.ASCII)

SENTENCE_END = re.compile(r"[.!?] (?=[A-Z(])|;", re.ASCII)
# "Int. Conf. on ...", "Proc. of": a period after these does not end a sentence
ABBREVIATIONS = {"int", "intl", "conf", "proc", "symp", "trans", "j", "vol", "no", "pp", "al", "e.g", "i.e", "vs"}
SEGMENT_MARKS = ",:"
FILLERS = {"in", "the", "annual", "ieee", "ieee/cvf", "ieee/acm", "acm", "acm/ieee", "acm/sigapp"}
ORDINAL = re.compile(r"\d{1,3}(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|"
                     r"eleventh|twelfth|thirteenth|fourteenth|fifteenth", re.IGNORECASE | re.ASCII)
YEAR = re.compile(r"(?:19|20)\d\d", re.ASCII)
YEAR_AFTER = re.compile(r"[ '’()-]{0,3}((?:19|20)\d\d)(?!\d)", re.ASCII)
# 2010-2039 only: "ICRA 40 Year Anniversary" and "Artificial Intelligence 40" (a volume) are no years
# after a space only where no lower-case word follows: "ACM MM 25", not "ICML 20 pages"
SHORT_YEAR_AFTER = re.compile(r"['’-]?([123]\d)(?![\d'’])| ['’]?([123]\d)(?![\d'’]| ?[a-z])", re.ASCII)
LOOSE_YEAR = re.compile(r"(?<![\d/.\-_])((?:19|20)\d\d)(?![\w/-])", re.ASCII)

TRACK_WORDS_FIRST_WINS: dict[Track, str] = {
    "workshop": r"workshops?",
    "findings": r"findings",
    "demo": r"demos?|demonstrations?",
    "tutorial": r"tutorials?",
    "other": r"challenge|competition|industry|late[- ]breaking|student abstract|doctoral consortium",
}
TRACK_WORDS = {track: re.compile(rf"\b(?:{words})\b", re.IGNORECASE | re.ASCII)
               for track, words in TRACK_WORDS_FIRST_WINS.items()}


def parse_venue(comment: str | None) -> Venue | None:
    """The venue an arXiv comment says the paper was accepted at, or None (see the module's rules)."""
    if not comment:
        return None
    text = " ".join(comment[:MAX_COMMENT_CHARS].split())
    sentences = _sentence_starts(text)
    cues = [(m.start(), m.lastgroup or "") for m in CUE.finditer(text)]
    for count, mention in enumerate(VENUE_NAME.finditer(text)):
        if count == MAX_MENTIONS:
            break
        start = sentences[bisect.bisect_right(sentences, mention.start()) - 1]
        end = _sentence_end(sentences, start, len(text))
        name, kind = _known(mention.group())
        if name and not _inside_longer_name(text, mention) and _counts(text, mention, start, end, cues):
            venue = _venue(text, mention, (start, end), name, kind)
            return venue if venue.year else _dated_by_later_mention(venue, text, mention.end(), end)
    return None


def _inside_longer_name(text: str, mention: re.Match[str]) -> bool:
    """A journal named by a common phrase, inside a longer name: "Workshop on Graph Neural Networks",
    "Workshop on Cognitive Modeling and Computational Linguistics"."""
    if mention.group() not in PHRASE_NAMES:
        return False
    words = text[max(0, mention.start() - 20):mention.start()].split()
    if not words:
        return False
    last = words[-1]
    return last in JOINING_WORDS or (last.istitle() and last.isalpha() and last not in ("In", "At", "By", "To", "The"))


def _dated_by_later_mention(venue: Venue, text: str, after: int, end: int) -> Venue:
    """"Proceedings of the AAAI Conference on Artificial Intelligence 40 (AAAI-26)": the year is the acronym's."""
    for later in VENUE_NAME.finditer(text, after, end):
        if _known(later.group())[0] == venue.name:
            year = _year(text, later, after, end)
            if year:
                return Venue(venue.name, year, venue.track)
    return venue


def _known(alias: str) -> tuple[str, str]:
    return ALIASES.get(alias) or ALIASES[_ALIAS_KEYS[alias.lower()]]


def _sentence_starts(text: str) -> list[int]:
    starts = [0]
    for end in SENTENCE_END.finditer(text):
        if text[end.start()] == "." and _abbreviation_before(text, end.start()):
            continue
        starts.append(end.end())
    return starts


def _abbreviation_before(text: str, period: int) -> bool:
    words = text[max(0, period - 6):period].split()
    return bool(words) and words[-1].lower() in ABBREVIATIONS


def _sentence_end(starts: list[int], start: int, length: int) -> int:
    following = bisect.bisect_right(starts, start)
    return starts[following] if following < len(starts) else length


def _counts(text: str, mention: re.Match[str], start: int, end: int, cues: list[tuple[int, str]]) -> bool:
    """The nearest cue before the mention in its sentence decides; with none (or a weak one), a mention
    counts unless a refusal follows it, and with none only where it opens its sentence or segment."""
    before = [kind for position, kind in cues if start <= position < mention.start()]
    refused_after = any(kind == "refuse" for position, kind in cues if mention.end() <= position < end)
    if before and before[-1] != "weak":
        return before[-1] == "accept"
    if before:
        return not refused_after
    return _opens_segment(text[start:mention.start()]) and not refused_after


def _opens_segment(prefix: str) -> bool:
    """Whether only fillers ("the", "39th", "IEEE", a year) stand between the last , or : and the name."""
    cut = max(prefix.rfind(mark) for mark in SEGMENT_MARKS)
    return all(_filler(word) for word in prefix[cut + 1:].split())


def _filler(word: str) -> bool:
    word = word.strip("()").lower()
    return word in FILLERS or bool(ORDINAL.fullmatch(word)) or bool(YEAR.fullmatch(word))


def _venue(text: str, mention: re.Match[str], sentence: tuple[int, int], name: str, kind: str) -> Venue:
    start, end = sentence
    track = _track(text[start:end], kind)
    year = _year(text, mention, start, end)
    if year is None and track == "workshop":
        # "the NLLP Workshop 2025, co-located with EMNLP": the workshop carries the host's year
        year = _only_year(text[start:end])
    return Venue(name, year, track)


def _year(text: str, mention: re.Match[str], start: int, end: int) -> int | None:
    after = YEAR_AFTER.match(text, mention.end(), end)
    if after:
        return int(after.group(1))
    short = SHORT_YEAR_AFTER.match(text, mention.end(), end)
    if short:
        return 2000 + int(short.group(1) or short.group(2))
    year_before = _year_just_before(text[max(start, mention.start() - 40):mention.start()])
    if year_before:
        return year_before
    loose = LOOSE_YEAR.search(text, mention.end(), min(end, mention.end() + YEAR_WINDOW))
    return int(loose.group(1)) if loose else None


def _only_year(sentence: str) -> int | None:
    years = {int(found) for found in LOOSE_YEAR.findall(sentence)}
    return years.pop() if len(years) == 1 else None


def _year_just_before(prefix: str) -> int | None:
    """The year of "the 2025 IEEE/CVF Conference on ...": the last word before the name that is not a filler."""
    for word in reversed(prefix.split()):
        if YEAR.fullmatch(word):
            return int(word)
        if not _filler(word):
            return None
    return None


def _track(sentence: str, kind: str) -> Track:
    if kind in ("workshop", "host-workshop"):
        return "workshop"
    for track, words in TRACK_WORDS.items():
        if words.search(sentence):
            return track
    return "journal" if kind == "journal" else "main"
