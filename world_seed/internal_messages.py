"""The staff's internal channels: the everyday noise of a support team.

Hundreds of mundane team-chat posts and internal notes, so that the few messages a task hinges
on (posted by the task's setup, ``post_internal``) must be found by searching, not by reading
the only message there is. The noise avoids the words tasks search for (delays, recalls,
exceptions): a task's message must be findable, and a noise message must not change a task's
right answer.

Built from its own random stream, after every other table: adding the channels changed no row
of any other table of a seeded world.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from supportgym.ids import KIND

Row = dict[str, Any]

# Team-chat posts with no subject record. ``{x}`` fields are filled from the world.
_CHAT = (
    "Morning all, queue looks normal today. Please pick up anything older than a day first.",
    "Reminder: team huddle at 10:00 in the small meeting room.",
    "Can someone cover the phone line from 13:00 to 14:00? I have a dentist appointment.",
    "The coffee machine on the second floor is working again.",
    "New saved reply for address questions is live in the macro list, feedback welcome.",
    "Warehouse stock count this Friday: {category} restocks may show a day later than usual.",
    "{carrier} pickup today is at 16:00 instead of 15:00. Nothing to tell customers.",
    "Heads-up: the {brand} price list refresh goes live on Monday, old orders keep their prices.",
    "Thanks everyone for a busy but great week.",
    "Quiet afternoon. Good time to tidy tickets waiting on customers.",
    "Who has the spare key for the returns cage? Asking for a friend.",
    "Training on the new warranty form is Thursday at 11:00, 30 minutes.",
    "Please tag chat tickets with the product category, it helps the weekly report.",
    "Reminder that we never ask customers for full card numbers, last four digits only.",
    "Lunch order for the team is going in at 11:45, reply with your pick.",
    "Returns cage was emptied this morning, {n} parcels processed.",
    "If a customer asks about gift wrapping: we do not offer it, sorry.",
    "The {brand} rep visits next Tuesday, send me questions for them.",
    "Weekly numbers are up on the board: first reply times improved again.",
    "Printer on the first floor is out of toner, a new one is ordered.",
)
# Internal notes about one customer, order or product.
_NOTE_CUSTOMER = (
    "Prefers to be contacted by email rather than phone.",
    "Asked us to use their first name in replies.",
    "Called in about an account login question, resolved on the call.",
    "Mentioned they are moving next month; remind them to update the default address.",
    "Very happy with the last exchange, said thanks to the team.",
)
_NOTE_ORDER = (
    "Checked the tracking for {order}: moving normally, no action needed.",
    "Customer asked for the invoice of {order}; sent from the billing inbox.",
    "Confirmed the shipping address of {order} with the customer by phone.",
    "Gift message on {order} printed correctly, customer checked.",
    "Customer asked whether {order} could be split into two parcels: not possible, told them.",
)
_NOTE_PRODUCT = (
    "{product}: new packaging design, same item inside.",
    "{product}: customers often ask about the charger, it is sold separately.",
    "{product}: the manual link on the box is outdated, use the one on our site.",
    "{product}: colour on the product photo looks a bit darker than the real item.",
)


def internal_messages(
    seed: int,
    now: datetime,
    count: int,
    staff: list[Row],
    customers: list[Row],
    orders: list[Row],
    products: list[Row],
    carriers: list[str],
    brands: list[str],
    categories: list[str],
) -> list[Row]:
    """``count`` messages posted over the 60 days before ``now``, ids in posting order."""
    rng = random.Random(seed * 7919 + 104_729)
    authors = [s for s in staff if s["active"]]
    drafts: list[Row] = []
    for _ in range(count):
        posted = now - timedelta(seconds=rng.randint(3600, 60 * 86400))
        row: Row = {
            "channel": "team_chat",
            "author_id": rng.choice(authors)["id"],
            "posted_at": posted,
            "order_id": None,
            "customer_id": None,
            "product_id": None,
        }
        kind = rng.random()
        if kind < 0.5:
            body = rng.choice(_CHAT).format(
                category=rng.choice(categories),
                carrier=rng.choice(carriers),
                brand=rng.choice(brands),
                n=rng.randint(12, 60),
            )
        elif kind < 0.7:
            cust = rng.choice(customers)
            row.update(channel="notes", customer_id=cust["id"])
            body = rng.choice(_NOTE_CUSTOMER)
        elif kind < 0.9:
            order = rng.choice(orders)
            row.update(channel="notes", order_id=order["id"], customer_id=order["customer_id"])
            body = rng.choice(_NOTE_ORDER).format(order=order["id"])
        else:
            prod = rng.choice(products)
            row.update(channel="notes", product_id=prod["id"])
            body = rng.choice(_NOTE_PRODUCT).format(product=prod["name"])
        row["body"] = body
        drafts.append(row)
    drafts.sort(key=lambda r: (r["posted_at"], r["author_id"], r["body"]))
    msg = KIND["MSG"]
    return [{"id": msg.format(msg.first + n), **r} for n, r in enumerate(drafts)]
