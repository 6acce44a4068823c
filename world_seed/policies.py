"""The knowledge-base articles (``policies`` table).

Every number in the text is formatted from :mod:`supportgym.policy`, which the tools enforce, so
the rules an agent reads and the rules the world applies cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from supportgym import policy as P
from supportgym.money import dollars
from supportgym.schema import Tier
from supportgym.world_seed.catalog import STORE_NAME

TIER_ORDER: tuple[Tier, ...] = (Tier.standard, Tier.silver, Tier.gold, Tier.platinum)


def _tiers(tiers: frozenset[Tier]) -> str:
    names = [t.value.capitalize() for t in TIER_ORDER if t in tiers]
    return " and ".join(names)


def _statuses(statuses: tuple[str, ...]) -> str:
    quoted = [f"`{s}`" for s in statuses]
    return ", ".join(quoted[:-1]) + f" or {quoted[-1]}" if len(quoted) > 1 else quoted[0]


def _by_tier(values: dict[Tier, int], fmt) -> str:  # noqa: ANN001 - formatter
    return "\n".join(f"- {t.value.capitalize()}: {fmt(values[t])}" for t in TIER_ORDER)


def policy_articles(now: datetime) -> list[dict[str, object]]:
    """Rows for the ``policies`` table, ordered by id."""
    win = P.RETURN_WINDOW_DAYS
    limit = dollars(P.AGENT_REFUND_LIMIT_CENTS)
    fee = dollars(P.STANDARD_SHIPPING_FEE_CENTS)
    threshold = dollars(P.FREE_SHIPPING_THRESHOLD_CENTS)
    free_tiers = _tiers(P.FREE_SHIPPING_TIERS)
    late_tiers = _tiers(P.LATE_DELIVERY_FEE_REFUND_TIERS)
    final_sale = " and ".join(sorted(P.FINAL_SALE_CATEGORIES))
    cancellable = _statuses(P.CANCELLABLE_STATUSES)
    addr_ok = _statuses(P.ADDRESS_CHANGE_STATUSES)
    returnable = _statuses(P.RETURNABLE_STATUSES)
    goodwill = _by_tier(P.GOODWILL_CREDIT_LIMIT_CENTS, dollars)
    windows = _by_tier(win, lambda d: f"{d} days after delivery")
    dmg = P.DAMAGE_REPORT_WINDOW_DAYS
    review = P.WARRANTY_REVIEW_DAYS
    targets = ", ".join(f"{p} {h} hours" for p, h in P.FIRST_RESPONSE_SLA_HOURS.items())
    sla_credit = " and ".join(f"{t.value.capitalize()} {dollars(c)}" for t, c in P.SLA_BREACH_CREDIT_CENTS.items())
    sla_none = " and ".join(t.value.capitalize() for t in TIER_ORDER if t not in P.SLA_BREACH_CREDIT_CENTS)

    arts: list[tuple[str, str, str, str, str]] = [
        (
            "POL-RETURNS",
            "Returns and refunds",
            "returns",
            f"Delivered items can be returned within the tier's window (Standard "
            f"{win[Tier.standard]}, Silver {win[Tier.silver]}, Gold {win[Tier.gold]}, "
            f"Platinum {win[Tier.platinum]} days after delivery); final-sale items excluded.",
            f"""Customers may return items from an order whose status is {returnable}.
The return window is counted from the order's delivery date and depends on the customer's
current tier:
{windows}

How to process a return:
1. Confirm the order belongs to the customer you are talking to.
2. Check the delivery date against the window above. Outside the window, decline politely
   (a warranty claim may still apply, see POL-WARRANTY).
3. Items in final-sale categories ({final_sale}) cannot be returned (see POL-FINAL-SALE).
4. Open a return (RMA) for the items and quantities the customer is sending back.
5. Refund the value of the returned lines (unit price times quantity, less any line discount)
   to the original payment, or issue store credit if the customer prefers. Shipping fees are
   not refunded for change-of-mind returns.
Refunds above {limit} per order need the billing team (see POL-REFUND-LIMIT).""",
        ),
        (
            "POL-REFUND-LIMIT",
            "Refund limit and escalation to billing",
            "billing",
            f"Agents may refund at most {limit} per order on their own; anything larger must be "
            f"escalated to the billing team.",
            f"""An agent may issue refunds on an order up to a total of {limit} (all refunds on
that order in the conversation added together). Never split a larger refund into smaller ones
to stay under the limit.

If the amount due is more than {limit}:
1. Do not issue any part of the refund yourself.
2. Escalate the ticket to the billing team, stating the order, the amount requested and why.
3. Tell the customer that a billing specialist will review the refund, usually within 2
   business days.
Refunds can never exceed what was actually captured for the order.""",
        ),
        (
            "POL-CANCELLATIONS",
            "Order cancellations",
            "orders",
            f"Orders can be cancelled only while their status is {cancellable}; once shipped, "
            f"the customer must wait for delivery and return the items.",
            f"""An order can be cancelled while its status is {cancellable}, i.e. before it
leaves our warehouse. Cancelling releases an authorised payment or refunds a captured one in
full.

Once an order is `shipped` it cannot be cancelled: explain that the customer can refuse the
parcel or return the items after delivery under POL-RETURNS. Delivered orders are never
cancelled. Read the customer's message carefully: a ticket titled "cancel my order" may in
fact describe a problem with an order that has already arrived.""",
        ),
        (
            "POL-ADDRESS-CHANGE",
            "Changing a shipping address",
            "orders",
            f"The shipping address of an order may be changed only while its status is "
            f"{addr_ok}, and only after verifying the customer's identity.",
            f"""The shipping address of an order can be changed while the order's status is
{addr_ok}. After the order has shipped, the carrier controls the parcel: we cannot redirect
it, but the customer may contact the carrier with the tracking number.

Before changing an address, verify the requester's identity (POL-IDENTITY). Changing the
default address on the customer's account does not change orders already placed.""",
        ),
        (
            "POL-DAMAGED",
            "Damaged or defective items",
            "returns",
            f"Items that arrive damaged or defective and are reported within {dmg} days of "
            f"delivery get a free replacement (reship) or a refund.",
            f"""If an item arrives damaged or does not work out of the box, and the customer
reports it within {dmg} days of the delivery date, we ship a free replacement of the same item
(a reship), or refund the item if it is out of stock or the customer prefers a refund.

Reports after {dmg} days are handled as a warranty claim (POL-WARRANTY) when the product
has a warranty, otherwise as a normal return within the return window (POL-RETURNS). Ask for
a short description of the damage; photos are welcome but not required.""",
        ),
        (
            "POL-WARRANTY",
            "Warranty claims",
            "warranty",
            "Products are covered for their listed warranty_months counted from the delivery "
            "date; valid claims are handled by the warranty team.",
            f"""Each product lists its manufacturer warranty in months (0 means no warranty). The
warranty period starts on the delivery date of the order. A product that fails within its
warranty period, through no fault of the customer, is eligible for a warranty claim.

1. Check the product's warranty_months and the order's delivery date.
2. If the item is within warranty, file a warranty claim for that order line describing the
   fault. The warranty team (warranty specialists) reviews and completes claims; escalate the
   ticket to the warranty team if the customer needs a decision from a specialist.
3. Outside the warranty period, decline politely; do not offer a refund instead.

Following up on a claim filed earlier: read the claim (get_warranty_claim or
list_warranty_claims) and tell the customer where it stands. The warranty team decides within
{review} days of filing. `submitted`: waiting for that decision; once the {review} days have
passed, escalate the ticket to the warranty team with the claim id. `approved`: the
replacement or repair is on its way. `completed`: the replacement was sent or the repair done.
`rejected`: not covered (for example filed after the warranty ended); explain, do not refund.
Never file a second claim for a line whose claim is still submitted or approved; a new fault
after a completed claim, inside the warranty period, is a new claim.""",
        ),
        (
            "POL-DUPLICATE-CHARGE",
            "Duplicate charges",
            "billing",
            "When a payment is marked as a duplicate of another captured payment, refund the "
            "duplicate in full to the same payment method.",
            f"""Occasionally our payment processor captures the same order twice. Such a payment
is recorded with `duplicate_of` pointing at the original payment.

If a customer reports being charged twice:
1. Look up the order's payments. Only a captured payment that is a duplicate of another is a
   duplicate charge; a failed or voided attempt was never charged.
2. If the duplicate has not already been refunded, refund the duplicate payment in full, with
   reason `duplicate_charge`. The refund limit of {limit} applies here too: escalate larger
   duplicates to billing.
3. Never refund the original payment for a duplicate charge.""",
        ),
        (
            "POL-TIER-PERKS",
            "Membership tier perks",
            "account",
            f"{free_tiers} members get free shipping; {late_tiers} members get the shipping fee "
            f"back on late deliveries; goodwill credit limits depend on tier.",
            f"""Customers belong to one of four tiers: Standard, Silver, Gold and Platinum.

Shipping: {free_tiers} members always ship free. Other members pay {fee} per order when the
merchandise subtotal after discounts is below {threshold}, and ship free at or above it.

Late deliveries: {late_tiers} members get any shipping fee they paid refunded when a
delivery arrives after its estimated delivery date (this matters for orders placed before the
customer reached that tier). Use refund reason `late_delivery`.

Goodwill store credit (see POL-STORE-CREDIT) per customer, at most:
{goodwill}""",
        ),
        (
            "POL-SLA",
            "First-response targets",
            "account",
            f"Every ticket gets a first agent answer within its priority's target. A missed target "
            f"is compensated only for {_tiers(frozenset(P.SLA_BREACH_CREDIT_CENTS))} members, with "
            f"store credit once per order.",
            f"""Every ticket must get a first answer from an agent within a target counted from
when the ticket arrived, by priority: {targets}. A ticket still unanswered when its target
passes is tagged `{P.SLA_BREACHED_TAG}` automatically; a ticket without that tag has not
missed its target, however long the customer feels they waited.

A missed target is not compensated: apologise for the wait and handle the request. The
general goodwill credit of POL-STORE-CREDIT is not used for a missed target.

Exception: when the ticket is tagged `{P.SLA_BREACHED_TAG}`, members of these tiers receive
goodwill store credit, once per order: {sla_credit}.
1. Check the ticket's tags and the customer's tier.
2. Read the customer's store-credit ledger: if it already holds a `{P.SLA_CREDIT_REASON}`
   credit for the same order, no further credit is due.
3. Otherwise grant exactly that amount with reason `{P.SLA_CREDIT_REASON}` and the order's id,
   and tell the customer.
{sla_none} members receive an apology, no credit.""",
        ),
        (
            "POL-STORE-CREDIT",
            "Store credit",
            "billing",
            "Store credit is a ledger per customer; goodwill credit is capped by tier and the "
            "balance can never go below zero.",
            f"""Store credit is kept as a ledger: each line adds or removes an amount and the
balance is the sum of the lines. The balance can never be negative. Store credit can be used
on any future order and never expires.

Agents may grant goodwill credit for a poor experience (a late parcel, for example; a missed
response target follows POL-SLA) up to these
limits per customer per conversation:
{goodwill}
Larger gestures need a supervisor. Returns may be refunded as store credit instead of to the
original payment if the customer asks for it.""",
        ),
        (
            "POL-PROMO-CODES",
            "Promo codes",
            "orders",
            "Promo codes apply only within their validity dates, above their minimum order and, "
            "for tier-only codes, to customers of that tier; they cannot be applied retroactively.",
            """Each promo code has a validity period, an optional minimum order amount and
either a percentage or a fixed amount off. Some codes are reserved for a membership tier
(for example Gold-only codes); customers of other tiers cannot use them. Inactive or expired
codes are never honoured.

Promo codes cannot be added to an order after it was placed. If a valid code failed to apply
at checkout, the agent may refund the difference as a `price_adjustment` refund, within the
refund limit.""",
        ),
        (
            "POL-EXCHANGES",
            "Exchanges",
            "returns",
            "Delivered items can be exchanged for another product within the return window of "
            "the customer's tier; the replacement must be in stock.",
            f"""An exchange is a return whose resolution is a different product instead of a
refund. The same rules as POL-RETURNS apply: the order must be {returnable}, within the tier's
return window, and final-sale items ({final_sale}) cannot be exchanged. The replacement
product must be in stock and not discontinued; a price difference is settled separately.""",
        ),
        (
            "POL-FINAL-SALE",
            "Final-sale categories",
            "returns",
            f"{final_sale} are final sale: they cannot be returned or exchanged once delivered.",
            f"""Products in these categories are final sale: {final_sale}. Once delivered they
cannot be returned or exchanged, because licence keys and gift-card codes cannot be taken
back. A final-sale item that arrives defective (for example a licence key that does not
activate) is handled under POL-DAMAGED by sending a working replacement.""",
        ),
        (
            "POL-IDENTITY",
            "Identity verification",
            "account",
            "Before changing anything on an account, the requester must give the email on file, "
            "and it must match exactly.",
            """Before changing account details (email, phone, addresses) or an order's shipping
address, verify the requester: ask for the email address on the account and compare it with
the email on file. It must match (case does not matter). If it does not match, do not make the
change and do not reveal the email on file or any hints about it.

Several customers can share the same name. Always identify the customer by email, order
number or another unique detail, never by name alone.""",
        ),
        (
            "POL-PRIVACY",
            "Customer privacy",
            "account",
            "Never disclose one customer's personal data or orders to anyone else.",
            f"""Only discuss an account with its owner. Never share another customer's name,
email, phone, address, orders or payment details, even if the requester claims to be a
relative, or shares the same name. If a request concerns someone else's account, explain
that we can only help the account holder directly.

{STORE_NAME} never asks for full card numbers or passwords; only the last four digits of a
card may be mentioned.""",
        ),
    ]
    rows: list[dict[str, object]] = []
    for n, (pid, title, category, summary, body) in enumerate(sorted(arts)):
        rows.append(
            {
                "id": pid,
                "title": title,
                "category": category,
                "summary": summary,
                "body": body,
                "updated_at": now - timedelta(days=20 + 7 * n, hours=3),
            }
        )
    return rows
