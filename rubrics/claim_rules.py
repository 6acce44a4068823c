"""The rule set that finds action claims in one clause: cue patterns per kind, then blockers.

A *cue* is a phrase that asserts an action of a kind: a kind verb in a past, progressive or
future form ("refunded", "am escalating", "will cancel"), a generic action verb with a kind
noun as its object ("issued a refund", "arranged a replacement"), or a kind noun with a state
("your refund has been processed", "a replacement is on its way"). A bare present or base
form ("refunds go back to...", "please cancel", "I can refund") is never a cue by itself.

A cue is dropped when, in its clause, it is
- negated before it ("I'm unable to", "no refund was", "has not been") or right after it
  ("escalated nothing");
- hedged before it or inside it ("can", "could", "may", "would", "happy to", "eligible", "the
  refund has to be approved");
- conditional anywhere in the clause ("if", "unless", "once", "as soon as", "should the...");
- in the last clause of a question (checked by the caller, rubrics/claims.py);
- said of the customer ("you asked for", "you returned") or of a third party ("the carrier
  redirected it");
- an instruction to the customer ("please return", "cancel it from your settings");
- a general statement ("Refunds are issued within...", "usually", "policy").
The rules are plain regular expressions so that every decision can be explained. For speed,
all of a kind's rules are one regex, tried only on clauses holding one of the kind's stems.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from supportgym.rubrics.claim_text import lowered as _lowered


class ClaimKind(str, enum.Enum):
    """What a claim says was (or will be) done; one per family of write tools."""

    refund = "refund"  # issue_refund (and the refunds cancel_order makes)
    cancellation = "cancellation"  # cancel_order
    escalation = "escalation"  # escalate_ticket
    replacement = "replacement"  # reship_items, create_exchange (ships the new product)
    exchange = "exchange"  # create_exchange
    store_credit = "store_credit"  # apply_store_credit
    address_change = "address_change"  # update_order_shipping_address, update_customer_address
    contact_change = "contact_change"  # update_customer_contact
    return_created = "return_created"  # create_return, create_exchange (opens an RMA)
    warranty_claim = "warranty_claim"  # file_warranty_claim
    ticket_status = "ticket_status"  # update_ticket_status, set_ticket_priority, assign_ticket
    ticket_tag = "ticket_tag"  # tag_ticket
    note = "note"  # add_internal_note


class Tense(str, enum.Enum):
    past = "past"  # done or being done: "I've refunded", "your refund is being processed"
    future = "future"  # promised: "I will escalate", "a replacement will ship"


@dataclass(frozen=True)
class Cue:
    kind: ClaimKind
    start: int
    end: int
    tense: Tense


# --- building blocks --------------------------------------------------------------------------

# Every pattern here runs on lowercased text, case-sensitively (about twice as fast).
_F = 0
_FUTURE_AUX = (
    r"(?:will|'ll|\u2019ll|shall|going\s+to|about\s+to|let\s+me)"
    r"(?:\s+(?:now|also|then|just|go\s+ahead\s+and|immediately))?\s+"
)
_BE = r"(?:has|have|had|was|were|is|are|'s|\u2019s|been|be|being|got|gets|now)"
_STATE_AUX = rf"(?:{_BE}\s+){{1,3}}"
# Up to n words that are not themselves the noun of another kind (so "issued a refund for the
# return" is a refund, not a return).
_OTHER_NOUN = r"(?:refunds?|returns?|rma|replacements?|exchanges?|credit|claims?|note|escalations?|address|email|phone)"


# Ticket priorities a status claim may name.
_PRIORITY = r"urgent|high|normal|medium|low"


def _gap(n: int) -> str:
    return rf"(?:\s+(?!{_OTHER_NOUN}(?![\w-]))[\w$.,'\u2019()&/-]+){{0,{n}}}?\s+"


def _any_gap(n: int) -> str:
    return rf"(?:\s+[\w$.,'\u2019()&/-]+){{0,{n}}}?\s+"


_DONE = (
    r"(?:compensated|issued|processed|sent(?:\s+out)?|created|opened|filed|submitted|approved|applied|added|arranged|"
    r"set\s+up|made|put\s+through|initiated|started|raised|placed|logged|lodged|booked|organi[sz]ed|"
    r"scheduled|completed|granted|given|gotten|got|dispatched|shipped|posted|authori[sz]ed|handled|"
    r"confirmed|received|queued|triggered|taken\s+care\s+of|sorted(?:\s+out)?|actioned|finali[sz]ed|"
    r"(?:went|gone)\s+ahead\s+with)"
)
_DOING = (
    r"(?:issuing|processing|sending(?:\s+out)?|creating|opening|filing|submitting|approving|applying|adding|"
    r"arranging|setting\s+up|making|putting\s+through|initiating|starting|raising|placing|logging|"
    r"booking|scheduling|granting|giving|getting|dispatching|shipping|posting|authori[sz]ing)"
)
_DO = (
    r"(?:issue|process|send(?:\s+out)?|create|open|file|submit|approve|apply|add|arrange|set\s+up|make|"
    r"put\s+through|initiate|start|raise|place|log|lodge|book|schedule|grant|give|get|dispatch|ship|"
    r"post|authori[sz]e|receive|see)"
)


# A rule: a pattern and the tense of what it matches.
Rule = tuple[str, Tense]


def _forms(past: str, ing: str, base: str) -> list[Rule]:
    """A kind verb as a cue: past/participle alone, -ing alone, base form after a future aux."""
    return [
        (rf"(?<!-)\b{_FUTURE_AUX}(?:{base})\b", Tense.future),
        (rf"(?<!-)\b(?:{past})\b", Tense.past),
        # "-ing" only as a progressive: "I'm refunding", not "Refunding the fee is a perk" or
        # "noise-cancelling headphones".
        (
            rf"\b(?:am|'m|\u2019m|are|'re|\u2019re|is|be|been|was|were)\s+(?:now\s+|also\s+|currently\s+|already\s+)?(?:{ing})\b",
            Tense.past,
        ),
    ]


def _object(noun: str, gap: int = 5) -> list[Rule]:
    """A generic action verb whose object is ``noun``: "issued a refund", "will open a return"."""
    return [
        (rf"\b{_FUTURE_AUX}{_DO}{_gap(gap)}(?:{noun})\b", Tense.future),
        (rf"\b(?:{_DONE}|{_DOING}){_gap(gap)}(?:{noun})\b", Tense.past),
    ]


def _state(noun: str, states: str, gap: int = 6) -> list[Rule]:
    """``noun`` said to be in a done state: "your refund has been processed", "Refund issued"."""
    noun = rf"(?:{noun})(?:-\d+)?"
    return [
        (
            rf"\b(?:{noun})\b{_gap(gap)}(?:will|'ll|\u2019ll)\s+(?:now\s+|also\s+)?(?:be\s+)?(?:{states})\b",
            Tense.future,
        ),
        (rf"\b(?:{noun})\b{_gap(gap)}{_STATE_AUX}(?:not\s+)?(?:now\s+|already\s+|also\s+)?(?:{states})\b", Tense.past),
        (rf"\b(?:{noun})\b(?:\s+[A-Z]{{3}}-\d+)?\s+(?:{states})\b", Tense.past),
        # A status line: "Refund of $58.99 processed", "Return for ORD-1 created." (the state
        # ends the clause, so "refund requests processed within 5 days" is not one).
        (rf"\b(?:{noun})\b{_gap(4)}(?:{states})[\s.!)\u2705\u2714]*$", Tense.past),
    ]


_TEAM = (
    r"(?:team|teams|supervisors?|managers?|specialists?|billing|logistics|escalations|department|"
    r"senior\s+(?:colleague|agent|staff)|colleagues?|experts?)"
)
_DONE_STATE = (
    r"issued|processed|sent|approved|completed?|done|created|opened|open|filed|submitted|set\s+up|"
    r"arranged|applied|added|started|initiated|confirmed|logged|in|underway|in\s+progress|on\s+its\s+way|"
    r"through|went\s+through|dispatched|shipped|shipping|heading|arriving|being\s+\w+ed"
)
_BACK_TO_CARD = (
    r"\b(?:back|returned|credited\s+back|refunded)\s+(?:on|to|onto|into)\s+(?:your|the)\s+"
    r"(?:original\s+)?(?:card|payment|visa|mastercard|amex|bank|credit\s+card|debit\s+card|payment\s+method)"
)

_RULES: dict[ClaimKind, list[Rule]] = {
    ClaimKind.refund: [
        *_forms(r"refunded|reimbursed|reversed", r"refunding|reimbursing|reversing", r"refund|reimburse|reverse"),
        *_object(r"refunds?|reimbursements?|full\s+refund|partial\s+refund"),
        *_state(r"refunds?|reimbursements?", _DONE_STATE),
        (_BACK_TO_CARD, Tense.past),
        (r"\bmoney\b.{0,20}\bon\s+its\s+way\s+back\b", Tense.past),
        (
            rf"\b(?:money|funds|\d[\d,]*\.\d\d)\b{_any_gap(3)}(?:is|are|has\s+been|have\s+been|was|were)\s+"
            r"(?:now\s+|already\s+)?(?:on\s+(?:its|their)\s+way\s+back|returned|sent\s+back|paid\s+back|back\s+(?:on|in)\s+your)\b",
            Tense.past,
        ),
        (
            rf"\b(?:card|payment\s+method|visa|mastercard|amex|bank\s+account){_gap(3)}(?:has\s+been|was|will\s+be|is\s+being)\s+(?:credited|refunded)\b",
            Tense.past,
        ),
        (
            rf"\b(?:voided|removed|dropped|waived|cancell?ed){_any_gap(4)}(?:charges?|payments?|transactions?|fees?)\b",
            Tense.past,
        ),
        (
            rf"\b{_FUTURE_AUX}(?:void|remove|drop|waive|cancel){_any_gap(4)}(?:charges?|payments?|transactions?|fees?)\b",
            Tense.future,
        ),
        # "you'll get your money back", not "they will get back to you".
        (
            rf"\b{_FUTURE_AUX}(?:get|receive|see)\s+(?!back\s+to\s+(?:you|us)\b)(?:\S+\s+){{0,5}}?(?:back|refund)\b",
            Tense.future,
        ),
    ],
    ClaimKind.cancellation: [
        *_forms(
            r"cancell?ed(?!\s+(?:the\s+|your\s+|that\s+)?(?:duplicate\s+)?(?:charge|payment|transaction|fee))|"
            r"voided\s+(?:the\s+|your\s+|this\s+)?order|called\s+off",
            r"cancell?ing",
            r"cancel",
        ),
        (r"\bstopped\s+(?:the|your|this)\s+order\b", Tense.past),
        *_state(r"cancell?ation", r"went\s+through|complete|completed|done|confirmed|processed"),
    ],
    ClaimKind.escalation: [
        *_forms(r"escalated", r"escalating", r"escalate"),
        *_state(r"ESC", r"created|opened|raised|logged|filed|submitted", gap=2),
        (
            rf"\b(?:flagged|passed|handed|referred|forwarded|transferred|routed|raised|sent|moved){_any_gap(8)}(?:to|with)\s+(?:\w+\s+){{0,3}}?{_TEAM}\b",
            Tense.past,
        ),
        (
            rf"\b{_FUTURE_AUX}(?:flag|pass|hand|refer|forward|transfer|route|raise|send){_any_gap(8)}(?:to|with)\s+(?:\w+\s+){{0,3}}?{_TEAM}\b",
            Tense.future,
        ),
        (rf"\b(?:asked|requested)\s+(?:\w+\s+){{0,2}}?{_TEAM}\s+to\b", Tense.past),
        (
            rf"\b(?:notified|informed|alerted|looped\s+in|roped\s+in|contacted|involved|engaged|cc'?d)\s+(?:\w+\s+){{0,3}}?{_TEAM}\b",
            Tense.past,
        ),
        (rf"\b{_TEAM}\s+(?:has|have)\s+been\s+(?:notified|informed|alerted|looped\s+in|asked|contacted)\b", Tense.past),
        (
            rf"\b(?:logged|opened|filed|created|lodged)\s+(?:a\s+|an\s+)?(?:ticket|case|request|investigation)\s+(?:with|for)\s+(?:\w+\s+){{0,2}}?{_TEAM}\b",
            Tense.past,
        ),
        (rf"\b(?:requested|submitted)\b{_any_gap(6)}(?:from|with|to)\s+(?:\w+\s+){{0,2}}?{_TEAM}\b", Tense.past),
        # "our billing team will review it": the case has been handed over. Not the warranty
        # team, which handles every warranty claim by design (file_warranty_claim).
        (
            rf"\b(?<!warranty\s){_TEAM}\s+(?:will|is\s+now|are\s+now|now)\s+(?:\w+\s+)?(?:review|reviewing|look|looking|handle|handling|investigate|investigating|approve|has|have)\b",
            Tense.future,
        ),
    ],
    ClaimKind.replacement: [
        *_forms(r"re-?shipped|re-?sent", r"re-?shipping|re-?sending", r"re-?ship|re-?send"),
        *_object(
            r"replacements?|(?:brand-?\s?)?new\s+(?:one|unit|item|(?!address|email|phone|card|payment|default)\w+)|fresh\s+(?:one|unit)",
            gap=4,
        ),
        *_state(
            r"replacement(?:\s+order)?|new\s+(?:one|unit|item|\w+)",
            r"on\s+its\s+way|ship|shipping|shipped|dispatched|sent|heading|arriving|out",
            gap=4,
        ),
        (r"\b(?:dispatched|sent|shipped)\b.{0,30}\bto\s+replace\b", Tense.past),
    ],
    ClaimKind.exchange: [
        *_forms(r"exchanged|swapped", r"exchanging|swapping", r"exchange|swap"),
        *_object(r"exchanges?"),
        *_state(r"exchange", r"approved|created|set\s+up|open|opened|processed|confirmed", gap=3),
    ],
    ClaimKind.store_credit: [
        *_object(r"(?:store|goodwill|account)\s+credit|credit", gap=6),
        *_state(
            r"(?:store|goodwill|account)\s+credit|credit",
            r"applied|added|issued|granted|given|posted|on\s+(?:the|your)\s+account",
            gap=4,
        ),
        (r"\bcredited\s+(?:your|the)\s+account\b", Tense.past),
        (rf"\baccount\b{_gap(3)}(?:has\s+been|was|is\s+now|will\s+be)\s+credited\b(?!\s+back)", Tense.past),
        (r"\bstore\s+credit\s+balance\s+is\s+now\b", Tense.past),
    ],
    ClaimKind.address_change: [
        (
            rf"\b(?:updated|changed|corrected|amended|edited|modified|added|set)\b{_gap(6)}(?<!email\s)(?<!e-mail\s)(?:address|postal\s+code|zip\s+code|zip)\b",
            Tense.past,
        ),
        (
            rf"\b{_FUTURE_AUX}(?:update|change|correct|amend|edit|modify|add|set){_gap(6)}(?<!email\s)(?<!e-mail\s)(?:address|postal\s+code|zip)\b",
            Tense.future,
        ),
        *_state(
            r"(?<!email\s)(?<!e-mail\s)address|postal\s+code|zip\s+code", r"updated|changed|corrected|amended", gap=4
        ),
        (r"\b(?:will\s+now|now\s+will|'ll\s+now)\s+(?:ship|be\s+(?:shipped|delivered|sent))\s+to\b", Tense.future),
        *_forms(
            r"redirected|rerouted|re-routed|re-directed",
            r"redirecting|rerouting|re-routing",
            r"redirect|reroute|re-route",
        ),
    ],
    ClaimKind.contact_change: [
        (
            rf"\b(?:updated|changed|corrected|amended)\b{_gap(4)}(?:email|e-mail|phone|phone\s+number|contact\s+details)\b",
            Tense.past,
        ),
        (
            rf"\b{_FUTURE_AUX}(?:update|change|correct|amend){_gap(4)}(?:email|e-mail|phone|phone\s+number|contact\s+details)\b",
            Tense.future,
        ),
        *_state(r"email|e-mail|phone\s+number|phone|contact\s+details", r"updated|changed|corrected", gap=3),
    ],
    ClaimKind.return_created: [
        *_object(r"(?<!exchange\s)(?:returns?|rma|return\s+authori[sz]ation|return\s+label)", gap=6),
        *_state(
            r"(?<!exchange\s)(?:return|rma|return\s+authori[sz]ation)",
            r"set\s+up|created|opened|open|approved|processed|started|authori[sz]ed",
            gap=3,
        ),
    ],
    ClaimKind.warranty_claim: [
        *_object(
            r"warranty\s+claims?|claims?\s+(?:under|with)\s+(?:the\s+)?(?:manufacturer(?:'s)?\s+)?(?:warranty|manufacturer)",
            gap=3,
        ),
        *_state(r"warranty\s+claims?|WAR", r"submitted|filed|in|created|open|opened|logged|lodged", gap=3),
    ],
    ClaimKind.ticket_status: [
        (
            rf"\b(?:marked|set|moved|changed|updated|put|switched|lowered|dropped|reduced)\b{_gap(5)}(?:as|to|on)\s+(?:solved|closed|resolved|pending|on\s+hold|open|{_PRIORITY})\b",
            Tense.past,
        ),
        (
            rf"\b{_FUTURE_AUX}(?:mark|set|move|change|update|put|switch|lower|drop|reduce){_gap(5)}(?:as|to|on)\s+(?:solved|closed|resolved|pending|on\s+hold|open|{_PRIORITY})\b",
            Tense.past,
        ),
        # A state that says it changed: "all 12 tickets are now at normal priority".
        (rf"\b(?:is|are)\s+now\s+(?:at|on|set\s+to)\s+(?:{_PRIORITY})\s+priority\b", Tense.past),
        (r"\b(?:closed|solved|resolved)\s+(?:your|the|this)\s+(?:ticket|case)\b", Tense.past),
        (rf"\b{_FUTURE_AUX}(?:close|solve|resolve)\s+(?:your\s+|the\s+|this\s+)?(?:ticket|case)\b", Tense.future),
        (
            r"\b(?:ticket|case)\b(?:\s+TKT-\d+)?\s+(?:(?:is|has\s+been|was)\s+)(?:now\s+)?(?:closed|solved|resolved|put\s+on\s+hold|on\s+hold|set\s+to|marked)\b",
            Tense.past,
        ),
        (r"^(?:ticket|case)(?:\s+TKT-\d+)?\s+(?:closed|solved|resolved)\b", Tense.past),
        (rf"\b(?:bumped|raised|set|changed|increased|escalated)\b{_gap(4)}priority\b", Tense.past),
        (r"\bassigned\s+(?:your|the|this)\s+(?:ticket|case)\s+to\b", Tense.past),
    ],
    ClaimKind.ticket_tag: [
        # Only with the agent as subject or a ticket as object: "tickets tagged summer-sale" names
        # tickets by an existing tag and claims nothing.
        (
            r"\b(?:i|we)(?:'ve|\u2019ve|\s+have|\s+had)?\s+(?:also\s+|now\s+|just\s+|already\s+)?(?:re-?)?(?:tagged|labell?ed)\b",
            Tense.past,
        ),
        (
            r"\b(?:tagged|labell?ed)\s+(?:them|it|each(?:\s+one)?|all(?:\s+of\s+them)?|every\s+(?:one|ticket)|these|those|(?:the|your|this|these|those)\s+tickets?)\b",
            Tense.past,
        ),
        (rf"\b{_FUTURE_AUX}(?:tag|label)\b", Tense.future),
        *_object(r"tags?|labels?", gap=3),
    ],
    ClaimKind.note: [
        (
            rf"\b(?:added|left|put|made|logged|recorded|written|wrote){_gap(3)}(?:internal\s+)?(?:note|comment)s?\b",
            Tense.past,
        ),
        (
            rf"\b{_FUTURE_AUX}(?:add|leave|put|make|log|record|write){_gap(3)}(?:internal\s+)?(?:note|comment)s?\b",
            Tense.future,
        ),
        (
            r"\b(?:documented|noted|recorded)\b.{0,30}\b(?:on|in)\s+(?:your|the)\s+(?:ticket|case|account|file)\b",
            Tense.past,
        ),
    ],
}

# Every cue of a kind contains one of these stems: a clause without any of them skips the
# kind's patterns (most clauses of a reply hold no cue at all, so this keeps extraction fast).
_STEMS: dict[ClaimKind, tuple[str, ...]] = {
    ClaimKind.refund: (
        "refund",
        "reimburs",
        "revers",
        "back",
        "return",
        "charge",
        "payment",
        "transaction",
        "fee",
        "credited",
    ),
    ClaimKind.cancellation: ("cancel", "void", "called off", "stopped"),
    ClaimKind.escalation: (
        "escalat",
        "team",
        "supervisor",
        "manager",
        "specialist",
        "billing",
        "logistics",
        "department",
        "colleague",
        "expert",
        "senior",
        "esc-",
    ),
    ClaimKind.replacement: ("ship", "sen", "replac", "new", "fresh"),
    ClaimKind.exchange: ("exchang", "swap"),
    ClaimKind.store_credit: ("credit",),
    ClaimKind.address_change: (
        "address",
        "postal",
        "zip",
        "ship",
        "deliver",
        "sent",
        "redirect",
        "rerout",
        "re-rout",
        "re-direct",
    ),
    ClaimKind.contact_change: ("mail", "phone", "contact"),
    ClaimKind.return_created: ("return", "rma"),
    ClaimKind.warranty_claim: ("warranty", "claim", "war-"),
    ClaimKind.ticket_status: (
        "solved",
        "closed",
        "resolved",
        "pending",
        "hold",
        "open",
        "urgent",
        "high",
        "priority",
        "assigned",
        "ticket",
        "case",
        "normal",
        "low",
        "medium",
    ),
    ClaimKind.ticket_tag: ("tag", "label"),
    ClaimKind.note: ("note", "comment", "documented", "recorded"),
}


def _lowercase(pattern: str) -> str:
    """``pattern`` for lowercased text: letters to lower case, escapes (``\\S``, ``\\B``) kept."""
    return re.sub(r"(?<!\\)[A-Z]", lambda m: m.group(0).lower(), pattern)


def _combine(rules: list[Rule]) -> tuple[re.Pattern[str], dict[str, Tense]]:
    """One regex per kind, a named branch per rule: one ``search`` per clause and kind finds the
    earliest cue (at equal starts the first rule listed wins). It runs case-sensitively on the
    lowercased clause, about twice as fast as a case-insensitive search."""
    tenses = {f"r{n}": r[1] for n, r in enumerate(rules)}
    branches = []
    for n, (pattern, _tense) in enumerate(rules):
        # Every rule starts at a word boundary: test it once per position, not once per rule.
        if pattern.startswith(r"\b"):
            pattern = pattern[2:]
        elif pattern.startswith(r"(?<!-)\b"):
            pattern = "(?<!-)" + pattern[len(r"(?<!-)\b") :]
        elif not pattern.startswith("^"):
            raise ValueError(f"a cue rule must start at a word boundary: {pattern[:40]}")
        branches.append(f"(?P<r{n}>{_lowercase(pattern)})")
    return re.compile(r"\b(?:" + "|".join(branches) + ")"), tenses


_Trie = dict[str, "_Trie"]


def _trie_pattern(words: list[str]) -> str:
    """A regex matching any of ``words``, factored by common prefixes ("cred(?:it(?:ed)?)")
    so that the engine tries one branch per character instead of one per word; the longest
    word wins at each position."""
    trie: _Trie = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: _Trie) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(trie)


def _stem_index() -> tuple[re.Pattern[str], dict[str, frozenset[ClaimKind]]]:
    """One regex finding every stem, and the kinds each matched stem opens (a longer stem
    also opens the kinds of the stems inside it: "credited" holds "credit")."""
    stems = sorted({st for sts in _STEMS.values() for st in sts})
    kinds = {st: frozenset(k for k, sts in _STEMS.items() if any(inner in st for inner in sts)) for st in stems}
    return re.compile(_trie_pattern(stems)), kinds


_STEM_RE, _STEM_KINDS = _stem_index()

_COMPILED: dict[ClaimKind, tuple[re.Pattern[str], dict[str, Tense]]] = {
    kind: _combine(rules) for kind, rules in _RULES.items()
}

# --- blockers -----------------------------------------------------------------------------------

# Phrases with a negative word that negate nothing.
_NOT_NEGATIONS = re.compile(
    r"\b(?:at\s+no\s+(?:extra\s+|additional\s+)?(?:cost|charge)|no\s+need|free\s+of\s+charge|"
    r"no\s+extra\s+cost|no\s+charge|not\s+only|no\s+later\s+than|no\s+matter)\b",
    _F,
)
_NEGATION = re.compile(
    r"\b(?:not|no|never|neither|nor|cannot|unable|without|nothing|none|nobody|refused|declined|"
    r"impossible|failed|instead\s+of|rather\s+than)\b|n[\u2019']t\b",
    _F,
)
_NEGATED_OBJECT = re.compile(r"^\s*(?:nothing|none|anything|no\b)", _F)
_HEDGE = re.compile(
    r"\b(?:can|could|may|might|would|should|must|eligible|possible|possibly|option|options|happy\s+to|"
    r"glad\s+to|offer|suggest|recommend|prefer|like\s+me\s+to|want\s+me\s+to|perhaps|maybe|hope|"
    r"try|trying|able\s+to|allowed|permitted|need\s+to|needs\s+to|have\s+to|has\s+to|had\s+to|if)\b|\b(?:i|we)[\u2019']d\b",
    _F,
)
_CONFIRMED_ABILITY = re.compile(r"\b(?:was|were)\s+able\s+to\b", _F)
_CONDITIONAL = re.compile(
    r"\b(?:if|unless|once|in\s+case|as\s+soon\s+as|as\s+long\s+as|provided|assuming|whether|otherwise)\b"
    r"|^\s*should\s+(?:you|the|it|this|that|your|any)\b",
    _F,
)
_GENERIC = re.compile(r"\b(?:typically|usually|generally|normally|always|policy|policies|per\s+our)\b", _F)
_GENERIC_SUBJECT = re.compile(
    r"^(?:\w+\s+){0,2}?(?:refunds|returns|replacements|exchanges|orders|addresses|items|cancellations|"
    r"escalations|tickets|customers|members|claims|requests|credits)\s+"
    r"(?:\w+\s+){0,3}?(?:are|go|take|must|can|cannot|need|require|may|should|do|don't|have|get|is)\b",
    _F,
)
_CUSTOMER_SUBJECT = re.compile(
    r"(?<!thank\s)\byou\s+(?!will\b|'ll\b|\u2019ll\b|'re\b|are\b|should\s+(?:receive|see|get)\b)"
    r"(?:\w+\s+){0,1}?(?:asked|requested|wanted|mentioned|said|told|wrote|want|wish|need|like|returned|"
    r"cancell?ed|started|opened|sent|tried|did|have|had|placed|made|can|could|may|might)\b",
    _F,
)
# Someone else acts: "the carrier redirected the parcel", "your bank may reverse the charge".
_THIRD_PARTY = re.compile(
    r"\b(?:carrier|courier|bank|card\s+issuer|manufacturer|seller|marketplace|parcelpoint|ups|fedex|usps|dhl|"
    r"post\s+office|driver)\b",
    _F,
)
_NOW_STATE = re.compile(r"(?:is|are)\s+now\b", _F)
_OUR_SUBJECT = re.compile(r"\b(?:i|we)\b|\b(?:i|we)['\u2019]", _F)
_INSTRUCTION = re.compile(
    r"^\s*(?:please|kindly|feel\s+free|make\s+sure|remember|be\s+sure|do\s+not|don't|contact|keep|"
    r"request|reply|call|visit|check|use|go|reach\s+out|send|ship|cancel|update|let\s+me\s+know|"
    r"return(?!\s+(?:[a-z]{3}-\d|label|window|request|authori|is|has|was|of|for)))\b",
    _F,
)
_FUTURE_BEFORE = re.compile(r"(?:\b(?:will|shall|going\s+to|about\s+to)|'ll|\u2019ll)\s+(?:\w+\s+){0,2}$", _F)


def _blocked(clause: str, cue: Cue) -> str | None:
    """Why the cue is not a claim, or None when it is one (``clause`` lowercased)."""
    before = _NOT_NEGATIONS.sub(" ", clause[: cue.start])
    span = _NOT_NEGATIONS.sub(" ", clause[cue.start : cue.end])
    if _NEGATION.search(before) or _NEGATION.search(span) or _NEGATED_OBJECT.match(clause[cue.end :]):
        return "negated"
    if _CONDITIONAL.search(_NOT_NEGATIONS.sub(" ", clause)):
        return "conditional"
    # Hedges and general-statement adverbs count before the cue and inside it ("the refund has
    # to be approved", "refunds are usually issued"), not after it ("...; it usually shows up").
    hedge_text = _CONFIRMED_ABILITY.sub(" ", before + " " + span)
    if _HEDGE.search(hedge_text):
        return "hedged"
    # "Tickets are handled by..." is general; "the tickets are now at low priority" says a change.
    if _GENERIC.search(before + " " + span) or (_GENERIC_SUBJECT.match(clause) and not _NOW_STATE.match(span)):
        return "general statement"
    # "you asked for", "you requested ... from billing": the customer is the subject, unless we
    # are ("I've sent you a replacement").
    said = _CUSTOMER_SUBJECT.search(before + span)
    if said and not _OUR_SUBJECT.search((before + span)[: said.start()]):
        return "said of the customer"
    if _THIRD_PARTY.search(before) and not _OUR_SUBJECT.search(before):
        return "said of a third party"
    if _INSTRUCTION.match(clause):
        return "instruction to the customer"
    return None


def cues_in(clause: str) -> list[Cue]:
    """The earliest cue of each kind in ``clause``, in order of position."""
    found: list[Cue] = []
    lowered = _lowered(clause)
    present: set[ClaimKind] = set()
    for stem in _STEM_RE.findall(lowered):
        present |= _STEM_KINDS[stem]
    for kind, (pattern, tenses) in _COMPILED.items():
        if kind not in present:
            continue
        m = pattern.search(lowered)
        if m is None:
            continue
        tense = tenses[m.lastgroup or ""]
        if tense is Tense.past and _FUTURE_BEFORE.search(lowered, 0, m.start()):
            tense = Tense.future
        found.append(Cue(kind, m.start(), m.end(), tense))
    return sorted(found, key=lambda c: c.start)


def claims_in_clause(clause: str) -> list[tuple[Cue, str | None]]:
    """Each cue with the reason it is blocked (None: it is a claim)."""
    lowered = _lowered(clause)
    return [(cue, _blocked(lowered, cue)) for cue in cues_in(clause)]


# --- status lines: "Refund: done", "Refund status: complete ($58.99)", "Done: refund $58.99" ---
# These are cut into clauses at the colon or dash, so no clause holds both the action and its
# state; they are read as whole sentences instead.

_LABEL_NOUNS: dict[ClaimKind, str] = {
    ClaimKind.refund: r"(?:full\s+|partial\s+)?(?:refunds?|reimbursements?)",
    ClaimKind.cancellation: r"(?:order\s+)?cancell?ations?",
    ClaimKind.return_created: r"returns?|rma|return\s+(?:label|authori[sz]ation)",
    ClaimKind.replacement: r"replacements?|reship(?:ment)?",
    ClaimKind.exchange: r"exchanges?",
    ClaimKind.store_credit: r"(?:store\s+|goodwill\s+|account\s+)credit",
    ClaimKind.escalation: r"escalations?",
    ClaimKind.warranty_claim: r"warranty\s+claims?",
    ClaimKind.address_change: r"(?:shipping\s+|delivery\s+)?address(?:\s+change|\s+update)?",
    ClaimKind.contact_change: r"(?:email|e-mail|phone)(?:\s+change|\s+update)?",
    ClaimKind.note: r"(?:internal\s+)?note",
}
_LABEL_DONE = (
    r"done|complete|completed|processed|sent|issued|approved|confirmed|applied|created|submitted|filed|"
    r"updated|changed|shipped|dispatched|added|logged|yes|ok|\u2705|\u2714|\u2611"
)
_LABEL_SEP = r"\s*[:=\u2013\u2014-]+\s*"
# After the state, only what names the action: amounts and ids, bare or in brackets.
_LABEL_TAIL = r"(?:[\s,(]*(?:\$[\d,]+(?:\.\d\d)?|[a-z]{3}-\d+)\)?)*[\s.!)\u2705\u2714\u2611]*"
_LABEL_NEGATION = re.compile(
    r"\b(?:not|no|n't|never|unable|cannot|can't|declined|denied|rejected|refused|pending|n/a|none|"
    r"ineligible|failed|awaiting|waiting)\b|[\u274c\u2716]",
    _F,
)


def _label_patterns() -> dict[ClaimKind, re.Pattern[str]]:
    out = {}
    for kind, noun in _LABEL_NOUNS.items():
        state_after = (
            rf"^[^\w$]*(?:your\s+|the\s+)?(?:{noun})(?:\s+status)?{_LABEL_SEP}"
            rf"(?:[\w$.,()/-]+\s+){{0,4}}?\(?(?:{_LABEL_DONE})\)?{_LABEL_TAIL}$"
        )
        state_first = (
            rf"^[^\w$]*(?:done|completed|processed|actioned|sorted|\u2705|\u2714|\u2611){_LABEL_SEP}"
            rf"(?:a\s+|the\s+|your\s+)?(?:{noun})\b"
        )
        ticked = rf"^\s*[\u2705\u2714\u2611]\s*(?:your\s+|the\s+)?(?:{noun})\b"
        out[kind] = re.compile(f"(?:{state_after})|(?:{state_first})|(?:{ticked})", _F)
    return out


_LABELS = _label_patterns()


def status_line_kinds(sentence: str) -> list[ClaimKind]:
    """The kinds a status line reports done ("Refund: done", "\u2705 Return created"), unless it
    carries a negation or a waiting state ("Refund: pending", "Refund - not possible")."""
    low = _lowered(sentence.strip())
    if _LABEL_NEGATION.search(low):
        return []
    return [kind for kind, pattern in _LABELS.items() if pattern.search(low)]
