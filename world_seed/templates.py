"""Ticket text templates. Placeholders are filled from real world facts by generate.py:

{first} customer first name, {order} order id, {product} a product on that order,
{brand} brand as customers say it, {tracking} / {carrier} the shipment, {date} order date,
{delivered} delivery date, {amount} order total, {dup_amount} duplicated charge, {city} city.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TicketKind:
    name: str
    # Order statuses the linked order must have; () = the ticket is not about an order.
    order_statuses: tuple[str, ...]
    subjects: tuple[str, ...]
    bodies: tuple[str, ...]
    tags: tuple[str, ...]
    weight: int
    escalate_to: str = "general"  # team a specialist escalation goes to
    # Extra requirement on the order: "duplicate", "late", "old_delivery", "recent_delivery",
    # "warranty" (delivered item with warranty), "" for none.
    needs: str = ""


KINDS: tuple[TicketKind, ...] = (
    TicketKind(
        "wismo",
        ("shipped",),
        (
            "Where is my order?",
            "Order {order} hasn't arrived",
            "Tracking hasn't updated",
            "Package status?",
            "Still waiting on my {product}",
        ),
        (
            "Hi, I ordered a {product} on {date} and the tracking number {tracking} hasn't moved in "
            "days. Can you check where it is?",
            "My order {order} shipped with {carrier} but I still don't have it. When will it arrive?",
            "Hello, could you tell me where my package is? It's the {product}. The {carrier} site "
            "just says in transit.",
        ),
        ("shipping", "wismo"),
        14,
        "logistics",
    ),
    TicketKind(
        "cancel",
        ("pending", "paid", "fulfilled"),
        ("Cancel my order", "Please cancel {order}", "Cancellation request", "Ordered by mistake"),
        (
            "Hi, I'd like to cancel order {order} please. I ordered the {product} by mistake.",
            "Please cancel my order from {date}, I found what I needed locally. Thanks, {first}",
            "Can you cancel {order} before it ships? I no longer need the {product}.",
        ),
        ("cancellation",),
        9,
    ),
    TicketKind(
        "cancel_shipped",
        ("shipped",),
        ("Cancel my order", "Stop my shipment", "Cancel {order} please"),
        (
            "I need to cancel {order} right away, I changed my mind about the {product}.",
            "Please cancel my order, the {product} is no longer needed. Tracking says it's with "
            "{carrier} already but hopefully you can stop it.",
        ),
        ("cancellation",),
        4,
    ),
    TicketKind(
        "return",
        ("delivered",),
        ("Return request", "I'd like to return an item", "Return for {order}", "How do I send this back?"),
        (
            "Hi, the {product} from order {order} isn't what I expected. I'd like to return it for a refund.",
            "I want to return the {product} I received on {delivered}. It doesn't fit my setup.",
            "Hello, can I return my {product}? It arrived fine but I don't need it anymore.",
        ),
        ("returns",),
        12,
    ),
    TicketKind(
        "damaged",
        ("delivered",),
        ("Item arrived damaged", "Broken {product}", "Defective on arrival", "Damaged package"),
        (
            "My {product} arrived with a cracked casing, the box was crushed. Order {order}. "
            "Can you send a replacement?",
            "The {product} I received on {delivered} doesn't power on at all. It's brand new.",
            "Hi, order {order} came today and the {product} is damaged. What are my options?",
        ),
        ("damaged", "returns"),
        8,
        "logistics",
        "recent_delivery",
    ),
    TicketKind(
        "refund_status",
        ("returned", "refunded", "cancelled"),
        ("Where is my refund?", "Refund status for {order}", "Haven't received refund"),
        (
            "I sent back my {product} weeks ago and still don't see the refund. Order {order}.",
            "Hi, my order {order} was cancelled but I haven't seen the money back on my card yet.",
            "Can you confirm the refund for {order} went through? Amount was {amount}.",
        ),
        ("billing", "refund"),
        8,
        "billing",
    ),
    TicketKind(
        "duplicate_charge",
        ("paid", "fulfilled", "shipped", "delivered"),
        ("Charged twice", "Double charge on my card", "Duplicate payment for {order}"),
        (
            "I was charged twice for order {order}: two charges of {dup_amount} on my card. Please "
            "refund the extra one.",
            "Hello, my bank statement shows {dup_amount} taken two times for the same order. The order is {order}.",
        ),
        ("billing", "duplicate-charge"),
        4,
        "billing",
        "duplicate",
    ),
    TicketKind(
        "address_change",
        ("pending", "paid", "fulfilled"),
        ("Change shipping address", "Wrong address on {order}", "Update delivery address"),
        (
            "I just moved and order {order} is going to my old address. Can you ship it to my new place instead?",
            "Hi, I made a typo in the shipping address for {order}. Please update it before it ships.",
        ),
        ("address", "shipping"),
        6,
    ),
    TicketKind(
        "warranty",
        ("delivered",),
        ("Warranty claim", "{product} stopped working", "Is this covered under warranty?"),
        (
            "My {product} (order {order}, delivered {delivered}) stopped working last week. "
            "Is it still under warranty?",
            "The {product} I bought from you started failing. Bought it on {date}. I'd like to make a warranty claim.",
        ),
        ("warranty",),
        6,
        "warranty",
        "warranty",
    ),
    TicketKind(
        "promo",
        ("paid", "fulfilled", "shipped", "delivered"),
        ("Promo code didn't apply", "Discount missing from my order", "Coupon question"),
        (
            "I tried to use a promo code on order {order} but the discount didn't show up. Can you apply it now?",
            "Hi, I think I should have gotten a discount on {order}. Total was {amount}.",
        ),
        ("promo", "billing"),
        4,
    ),
    TicketKind(
        "late_delivery",
        ("delivered",),
        ("My order was late", "Late delivery", "Delivery took forever"),
        (
            "Order {order} was supposed to arrive days earlier. It finally came on {delivered}. "
            "I paid for shipping, is there anything you can do?",
            "My {product} arrived way past the estimated date. Not happy about that.",
        ),
        ("shipping", "late"),
        4,
        "logistics",
        "late",
    ),
    TicketKind(
        "exchange",
        ("delivered",),
        ("Exchange request", "Swap for a different model", "Wrong size / model"),
        (
            "Can I exchange the {product} from {order} for a different model? It's not quite right for me.",
            "Hi, I'd like to swap my {product} for another one in the same range.",
        ),
        ("returns", "exchange"),
        4,
    ),
    TicketKind(
        "account_email",
        (),
        ("Update my email address", "Change email on account", "New email"),
        (
            "Hi, I'd like to change the email on my account. My old address is going away.",
            "Please update my account email, I no longer use the old one. Thanks, {first}",
        ),
        ("account",),
        5,
    ),
    TicketKind(
        "product_question",
        (),
        (
            "Question about {brand} products",
            "Compatibility question",
            "Do you stock this?",
            "Is the {product} in stock?",
        ),
        (
            "Do you have any {brand} products that would work with a MacBook? Looking at the {product}.",
            "Is the {product} compatible with Windows 11 and Linux? And what is the warranty?",
            "Hi, when will the {product} be back in stock?",
        ),
        ("pre-sales",),
        6,
    ),
    TicketKind(
        "gift_card",
        (),
        ("Gift card balance", "Gift card not working", "Store credit question"),
        (
            "How much store credit do I have left on my account?",
            "I got a {store} gift card but the code doesn't seem to work at checkout.",
        ),
        ("billing", "gift-card"),
        3,
        "billing",
    ),
    TicketKind(
        "privacy",
        (),
        ("Order for my husband", "Check my sister's order", "Info about another account"),
        (
            "My {relative} also has an account with you under the same name. Can you tell me what "
            "they ordered recently? I want to avoid buying the same gift.",
            "Can you give me the email address for the other {first} {last} account? I think it is my {relative}.",
        ),
        ("account", "privacy"),
        2,
    ),
)


@dataclass(frozen=True)
class Mismatch:
    """A ticket whose subject suggests one request while the body asks for another."""

    subject: str
    body: str
    order_statuses: tuple[str, ...]
    real_kind: str  # what the customer actually needs
    tags: tuple[str, ...]
    needs: str = ""


MISMATCHES: tuple[Mismatch, ...] = (
    Mismatch(
        "Cancel my order",
        "Hi, the package arrived this morning and the {product} is broken: the casing is "
        "cracked and it won't turn on. Order {order}.",
        ("delivered",),
        "damaged",
        ("cancellation",),
        "recent_delivery",
    ),
    Mismatch(
        "Refund please",
        "Actually I don't want a refund - I just need the shipping address on {order} changed, "
        "I moved last week. New address to follow.",
        ("paid", "fulfilled"),
        "address_change",
        ("refund",),
    ),
    Mismatch(
        "Where is my package?",
        "The package came, that's not the issue. I was charged twice for {order}, two "
        "identical charges of {dup_amount} on my card.",
        ("delivered", "shipped"),
        "duplicate_charge",
        ("shipping",),
        "duplicate",
    ),
    Mismatch(
        "Question about my account",
        "I want to return the {product} from order {order}, it doesn't fit on my desk. How do I send it back?",
        ("delivered",),
        "return",
        ("account",),
    ),
    Mismatch(
        "Change delivery address",
        "Never mind the address. Please just cancel {order} entirely, I found the {product} cheaper elsewhere.",
        ("pending", "paid"),
        "cancel",
        ("address",),
    ),
    Mismatch(
        "Warranty question",
        "My order {order} shows as delivered but I never received it. Nothing at the door or "
        "with the neighbours. Tracking {tracking}.",
        ("delivered",),
        "wismo",
        ("warranty",),
        "recent_delivery",
    ),
    Mismatch(
        "Thank you!",
        "Thanks for the quick shipping, but the {product} in {order} is the wrong model - I "
        "ordered a different one. I'd like an exchange.",
        ("delivered",),
        "exchange",
        ("feedback",),
    ),
)

FOLLOWUPS: tuple[str, ...] = (
    "Thanks, any update on this?",
    "Just following up on my earlier message.",
    "Okay, thank you for the quick reply!",
    "I still haven't heard back. Please help.",
    "That works for me, thanks.",
    "Can you confirm once it's done?",
    "Sorry, one more thing - my order number is {order}.",
)

AGENT_REPLIES: tuple[str, ...] = (
    "Hi {first}, thanks for reaching out. I'm looking into {ref} now and will update you shortly.",
    "Hello {first}, I'm sorry for the trouble. Could you confirm the email address on your "
    "account so I can verify your identity?",
    "Hi {first}, I've checked {ref}. I'll get back to you as soon as I hear from the team.",
    "Hi {first}, I've passed this to our specialists, who will follow up with you directly.",
)

INTERNAL_NOTES: tuple[str, ...] = (
    "Checked order history; customer is {tier} tier.",
    "Carrier trace requested for {ref}.",
    "Same name as another customer account; verified by email before replying.",
    "Customer called twice about this. Please prioritise.",
    "Warranty period checked against delivery date.",
)

RESOLUTION_REPLY = (
    "Thanks for your patience, {first}. This is now resolved on our side - let us know if anything else comes up."
)

RELATIVES: tuple[str, ...] = ("husband", "wife", "sister", "brother", "dad", "mom", "cousin")
