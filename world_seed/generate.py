"""Deterministic world generator: ``build_world(seed, scale) -> WorldSnapshot``.

The world is a fictional online retailer of computer hardware, "Northwind Circuit". One
``random.Random(seed)`` and one ``Faker("en_US")`` seeded with ``seed_instance(seed)`` drive
everything; all dates are relative to :data:`supportgym.clock.WORLD_NOW`. Rows are built as
plain dicts in a fixed order and bulk-inserted with SQLAlchemy Core, so the same seed and scale
give the same world hash and the same SQLite image bytes.

Traps for task authors (deliberate features that trip careless agents; ``traps.trap_examples``
finds concrete ids of each in a built world):

* **Brand spelling.** Brands are stored as ``VortexLabs``, ``PixelForge``, ``Q-Sonic`` and
  ``Kestrel&Finch`` while customers write "Vortex Labs", "Pixel Forge", "QSonic" and "Kestrel
  and Finch" (pre-sales tickets use the spoken form). Each has more than
  ``policy.DEFAULT_PAGE_SIZE`` products at default scale (VortexLabs > 25), so results span
  pages.
* **Same-name customers.** ``Scale.duplicate_name_groups`` groups of 2-3 customers share an
  exact first + last name but have different emails, phones and cities. A few "privacy"
  tickets ask about the other account.
* **Long order histories.** ``Scale.power_buyers`` customers have 26-40 orders (paginate).
* **Every order status** exists, with consistent timestamps. ``shipped`` orders older than
  their estimated delivery are *late*; some shipments are ``lost``. Some delivered orders were
  delivered after their ``estimated_delivery`` (late-delivery perks).
* **Duplicate charges.** ``Scale.duplicate_payments`` orders carry a second captured payment
  whose ``duplicate_of`` points at the original; about half were already refunded (reason
  ``duplicate_charge``), the rest are still owed. Some orders also have a *failed* attempt
  before the captured payment (not a duplicate charge).
* **Refund limit.** Many orders exceed ``policy.AGENT_REFUND_LIMIT_CENTS`` (laptops, GPUs,
  monitors): refunds on them must be escalated to billing.
* **Recently upgraded Platinum customers.** Their ``notes`` say "Upgraded from Silver to
  Platinum on <date>"; orders placed before that paid the standard shipping fee, so the
  Platinum late-delivery fee refund can apply to them.
* **Final-sale lines.** Software and gift cards appear on delivered orders; they cannot be
  returned. Orders whose status is ``returned`` contain no final-sale line.
* **Open RMAs.** Some delivered orders have a return in ``requested``/``approved``/``received``
  state; some ``returned`` orders have an RMA ``received`` but no processed refund yet.
* **Mismatched tickets.** Tickets whose subject implies one request while the body asks for
  another (``templates.MISMATCHES``), e.g. subject "Cancel my order", body "the package
  arrived this morning and the ... is broken".
* **Tickets without a linked order** although the body is about one; tickets assigned to
  inactive staff; expired, inactive and tier-only promo codes.
* **Discontinued / out-of-stock products** (~5% discontinued, some stock 0).
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from faker import Faker
from sqlalchemy import insert

from supportgym import policy as P
from supportgym.clock import WORLD_NOW
from supportgym.db import WorldDB, table_counts
from supportgym.ids import KIND
from supportgym.schema import Base, Tier
from supportgym.world_seed import catalog as C
from supportgym.world_seed import templates as T
from supportgym.world_seed.internal_messages import internal_messages
from supportgym.world_seed.policies import dollars, policy_articles
from supportgym.world_seed.scales import Scale, get_scale
from supportgym.world_seed.snapshot import WorldSnapshot, empty_world, fast_world_hash

GENERATOR_VERSION = "2"  # 2: internal channels (internal_messages)

Row = dict[str, Any]


def _pick(rng: random.Random, weighted: Sequence[tuple[Any, float]]) -> Any:
    values = [v for v, _ in weighted]
    weights = [w for _, w in weighted]
    return rng.choices(values, weights=weights, k=1)[0]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass
class _Order:
    """Working state of one generated order (the row plus facts other sections need)."""

    row: Row
    cust: Row
    items: list[Row] = field(default_factory=list)
    captured: Row | None = None
    shipment: Row | None = None
    late: bool = False
    refunded_cents: int = 0


class _Generator:
    def __init__(self, seed: int, scale: Scale) -> None:
        self.seed = seed
        self.scale = scale
        self.rng = random.Random(seed)
        self.fake = Faker("en_US")
        self.fake.seed_instance(seed)
        self.now = WORLD_NOW
        self.rows: dict[str, list[Row]] = {t.name: [] for t in Base.metadata.sorted_tables}
        self.seq: dict[str, int] = {}
        self.tracking: set[str] = set()

    # ---------------------------------------------------------------- helpers
    def next_id(self, prefix: str) -> str:
        kind = KIND[prefix]
        n = self.seq.get(prefix, kind.first)
        self.seq[prefix] = n + 1
        return kind.format(n)

    def next_int(self, key: str) -> int:
        n = self.seq.get(key, 1)
        self.seq[key] = n + 1
        return n

    def between(self, a: datetime, b: datetime) -> datetime:
        """A random second in [a, b] (``a`` if the range is empty)."""
        span = int((b - a).total_seconds())
        if span <= 0:
            return a
        return a + timedelta(seconds=self.rng.randint(0, span))

    def after(self, t: datetime, lo: timedelta, hi: timedelta) -> datetime:
        """A random second in [t + lo, t + hi], never after now (squeezed into [t, now])."""
        if t + lo > self.now:
            return self.between(t, self.now)
        return self.between(t + lo, min(t + hi, self.now))

    def ago(self, days_lo: float, days_hi: float) -> datetime:
        lo, hi = int(days_lo * 86400), int(days_hi * 86400)
        return self.now - timedelta(seconds=self.rng.randint(lo, hi))

    # ---------------------------------------------------------------- build
    def build(self) -> WorldDB:
        self.gen_meta()
        self.gen_policies()
        self.gen_staff()
        self.gen_products()
        self.gen_promos()
        self.gen_customers()
        self.gen_orders()
        self.gen_duplicates()
        self.gen_goodwill_credit()
        self.gen_warranty_claims()
        self.gen_tickets()
        self.finish_store_credit()
        self.gen_internal_messages()
        db = empty_world()
        with db.engine.begin() as conn:
            for table in Base.metadata.sorted_tables:
                rows = self.rows[table.name]
                if rows:
                    conn.execute(insert(table), rows)
        return db

    def gen_internal_messages(self) -> None:
        # Last, from its own random stream: no other table changes with the channels.
        self.rows["internal_messages"] = internal_messages(
            self.seed,
            self.now,
            max(40, self.scale.tickets * 2 // 5),
            self.rows["staff"],
            self.rows["customers"],
            self.rows["orders"],
            self.sellable,
            [c for c, _ in C.CARRIERS],
            sorted({b.name for b in C.ALL_BRANDS}),
            [c.name for c in C.CATEGORIES],
        )

    def gen_meta(self) -> None:
        meta = {
            "seed": str(self.seed),
            "scale": self.scale.name,
            "now": self.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "generator_version": GENERATOR_VERSION,
            "store_name": C.STORE_NAME,
        }
        self.rows["world_meta"] = [{"key": k, "value": v} for k, v in sorted(meta.items())]

    def gen_policies(self) -> None:
        self.rows["policies"] = policy_articles(self.now)

    # ---------------------------------------------------------------- staff
    def gen_staff(self) -> None:
        n = self.scale.staff
        plan: list[tuple[str, str, float]] = [
            ("agent", "general", 0.40),
            ("senior_agent", "general", 0.10),
            ("billing_specialist", "billing", 0.15),
            ("agent", "logistics", 0.10),
            ("warranty_specialist", "warranty", 0.10),
            ("supervisor", "escalations", 0.08),
            ("senior_agent", "escalations", 0.07),
        ]
        roles: list[tuple[str, str]] = []
        for role, team, share in plan[1:]:
            roles += [(role, team)] * max(1, round(n * share))
        roles = [("agent", "general")] * max(1, n - len(roles)) + roles
        roles = roles[:n] if len(roles) > n else roles
        seen: set[tuple[str, str]] = set()
        emails: set[str] = set()
        self.staff_by_team: dict[str, list[Row]] = {}
        for role, team in roles:
            first, last = self.fake.first_name(), self.fake.last_name()
            email = f"{_slug(first)}.{_slug(last)}@{C.STORE_DOMAIN}"
            k = 2
            while email in emails:
                email = f"{_slug(first)}.{_slug(last)}{k}@{C.STORE_DOMAIN}"
                k += 1
            emails.add(email)
            active = (role, team) in seen and self.rng.random() < 0.1
            seen.add((role, team))
            row = {
                "id": self.next_id("STF"),
                "name": f"{first} {last}",
                "email": email,
                "role": role,
                "team": team,
                "active": not active,
            }
            self.rows["staff"].append(row)
            self.staff_by_team.setdefault(team, []).append(row)
        self.active_by_team = {t: [s for s in rows if s["active"]] for t, rows in self.staff_by_team.items()}

    def staff_of(self, team: str, allow_inactive: bool = False) -> Row:
        pool = self.staff_by_team[team] if allow_inactive else self.active_by_team[team]
        return self.rng.choice(pool)

    # ---------------------------------------------------------------- products
    def gen_products(self) -> None:
        rng, n = self.rng, self.scale.products
        slots: list[tuple[C.BrandSpec, str]] = []
        quotas = [max(12, round(n * 0.09))] + [max(6, round(n * 0.04))] * 3
        for brand, quota in zip(C.TRAP_BRANDS, quotas, strict=True):
            cats = brand.categories
            slots += [(brand, cats[i % len(cats)]) for i in range(quota)]
        n_gift = len(C.GIFT_CARD_VALUES)
        rest = n - len(slots) - n_gift
        others = rng.choices(C.OTHER_BRANDS, weights=[b.weight for b in C.OTHER_BRANDS], k=rest)
        slots += [(b, rng.choice(b.categories)) for b in others]
        rng.shuffle(slots)
        products: list[Row] = []
        names: set[str] = set()
        for brand, cat_name in slots:
            cat = C.CATEGORY_BY_NAME[cat_name]
            noun = rng.choice(cat.nouns)
            series = rng.choice(cat.series)
            for _ in range(20):
                if cat.name == "Software":
                    name = f"{brand.name} {series} {noun}"
                    if name in names:
                        name = f"{brand.name} {series} {noun} {rng.choice(('2025', '2026', 'Plus', 'Pro'))}"
                else:
                    model = f"{rng.choice('KMXSPRVZ')}{rng.randint(1, 9)}{rng.choice('05')}"
                    suffix = rng.choice(("", "", "", " Pro", " Max", " SE", " Lite", " II"))
                    name = f"{brand.name} {series} {model}{suffix} {noun}"
                if name not in names:
                    break
                series = rng.choice(cat.series)
            names.add(name)
            lo, hi = cat.price_range
            price = rng.randint(lo // 100, hi // 100 - 1) * 100 + 99
            discontinued = rng.random() < 0.05
            if discontinued:
                stock = 0 if rng.random() < 0.6 else rng.randint(1, 5)
            elif rng.random() < 0.08:
                stock = 0
            else:
                stock = min(500, int(rng.expovariate(1 / 60)) + 1)
            warranty = rng.choice(cat.warranty_months)
            feats = rng.sample(cat.features, 2)
            wtext = f"{warranty}-month warranty" if warranty else "No manufacturer warranty"
            products.append(
                {
                    "brand": brand.name,
                    "category": cat.name,
                    "name": name,
                    "code": brand.code,
                    "cat_code": cat.code,
                    "price_cents": price,
                    "stock": stock,
                    "warranty_months": warranty,
                    "discontinued": discontinued,
                    "description": f"{noun} by {brand.name} with {feats[0]} and {feats[1]}. {wtext}.",
                }
            )
        for value in C.GIFT_CARD_VALUES:
            products.append(
                {
                    "brand": C.STORE_BRAND,
                    "category": C.GIFT_CARDS,
                    "name": f"{C.STORE_NAME} Gift Card {dollars(value)}",
                    "code": "NWC",
                    "cat_code": "GC",
                    "price_cents": value,
                    "stock": 9999,
                    "warranty_months": 0,
                    "discontinued": False,
                    "description": f"Digital gift card worth {dollars(value)}, delivered by email. Final sale.",
                }
            )
        for p in products:
            pid = self.next_id("PRD")
            num = pid.split("-")[1]
            row = {
                "id": pid,
                "sku": f"{p.pop('code')}-{p.pop('cat_code')}-{num}",
                **p,
            }
            self.rows["products"].append(row)
        self.products = self.rows["products"]
        self.sellable = [p for p in self.products if p["category"] != C.GIFT_CARDS]
        self.gift_cards = [p for p in self.products if p["category"] == C.GIFT_CARDS]
        # Popularity: cheaper items sell more.
        self.product_weights = [1.0 / (1 + p["price_cents"] / 20000) for p in self.sellable]
        self.product_cum = list(itertools.accumulate(self.product_weights))

    # ---------------------------------------------------------------- promos
    def gen_promos(self) -> None:
        now = self.now
        specs = [
            ("BIGSPEND50", "$50 off orders over $800", 0, 50_00, 800_00, None, -180, 30, True),
            ("BUNDLE15", "$15 off orders over $120", 0, 15_00, 120_00, None, -60, 120, True),
            ("CYBER30", "30% off Cyber Week orders over $100", 30, 0, 100_00, None, -115, -108, True),
            ("FLASH40", "40% flash sale (withdrawn)", 40, 0, 0, None, -20, 10, False),
            ("GOLD15", "15% off for Gold members", 15, 0, 0, Tier.gold, -300, 60, True),
            ("HOLIDAY25", "$25 off holiday orders over $200", 0, 25_00, 200_00, None, -100, -75, True),
            (
                "PLATINUM25",
                "$25 off orders over $100 for Platinum members",
                0,
                25_00,
                100_00,
                Tier.platinum,
                -365,
                90,
                True,
            ),
            ("SAVE20", "$20 off orders over $150", 0, 20_00, 150_00, None, -200, 30, True),
            ("SILVER10", "10% off orders over $30 for Silver members", 10, 0, 30_00, Tier.silver, -250, 100, True),
            ("SPRING5", "5% off everything this spring", 5, 0, 0, None, -30, 45, True),
            ("STUDENT10", "10% off for students", 10, 0, 0, None, -400, 200, True),
            ("WELCOME10", "10% off your first order over $50", 10, 0, 50_00, None, -420, 365, True),
        ]
        for code, desc, pct, amt, minimum, tier, start, end, active in specs:
            self.rows["promo_codes"].append(
                {
                    "code": code,
                    "description": desc,
                    "percent_off": pct,
                    "amount_off_cents": amt,
                    "min_order_cents": minimum,
                    "tier_required": tier.value if tier else None,
                    "valid_from": now + timedelta(days=start),
                    "valid_until": now + timedelta(days=end, hours=-9) if end > 0 else now + timedelta(days=end),
                    "active": active,
                }
            )
        self.promos = self.rows["promo_codes"]

    # ---------------------------------------------------------------- customers
    def gen_customers(self) -> None:
        rng, fake, n = self.rng, self.fake, self.scale.customers
        names = [(fake.first_name(), fake.last_name()) for _ in range(n)]
        # Same-name groups: copy a source customer's name onto 1-2 others.
        picks = rng.sample(range(n), self.scale.duplicate_name_groups * 3)
        self.dup_groups: list[list[int]] = []
        for g in range(self.scale.duplicate_name_groups):
            src, a, b = picks[3 * g : 3 * g + 3]
            members = [src, a] + ([b] if g % 2 == 1 else [])
            for m in members[1:]:
                names[m] = names[src]
            self.dup_groups.append(sorted(members))
        emails: set[str] = set()
        self.customers: list[Row] = []
        self.cust_extra: list[dict[str, Any]] = []
        tiers = [(Tier.standard, 55), (Tier.silver, 25), (Tier.gold, 14), (Tier.platinum, 6)]
        for first, last in names:
            f, l_ = _slug(first), _slug(last)
            pattern = rng.randrange(4)
            local = (f"{f}.{l_}", f"{f[0]}{l_}", f"{f}{l_}{rng.randint(1, 99)}", f"{l_}.{f}")[pattern]
            email = f"{local}@{rng.choice(C.EMAIL_DOMAINS)}"
            k = 2
            while email in emails:
                email = f"{local}{k}@{rng.choice(C.EMAIL_DOMAINS)}"
                k += 1
            emails.add(email)
            tier = _pick(rng, tiers)
            joined = self.ago(5, 4 * 365)
            notes, upgraded = "", None
            if tier == Tier.platinum and rng.random() < 0.35:
                upgraded = self.ago(20, 300)
                joined = min(joined, upgraded - timedelta(days=200))
                notes = f"Upgraded from Silver to Platinum on {upgraded:%Y-%m-%d}."
            elif rng.random() < 0.04:
                notes = rng.choice(
                    (
                        "Prefers email contact.",
                        "Prefers phone contact in the afternoon.",
                        "Small business account - invoices requested.",
                        "Has asked not to receive marketing email.",
                    )
                )
            row = {
                "id": self.next_id("CUS"),
                "first_name": first,
                "last_name": last,
                "email": email,
                "phone": fake.numerify("(###) 555-0###"),
                "tier": tier.value,
                "joined_at": joined,
                "notes": notes,
            }
            self.rows["customers"].append(row)
            self.customers.append(row)
            method = _pick(rng, [("card", 72), ("paypal", 20), ("gift_card", 8)])
            n_addr = _pick(rng, [(1, 60), (2, 30), (3, 10)])
            default_idx = rng.randrange(n_addr)
            labels = rng.sample(C.ADDRESS_LABELS, n_addr)
            default_addr = None
            for i in range(n_addr):
                addr = {
                    "id": self.next_id("ADR"),
                    "customer_id": row["id"],
                    "label": labels[i],
                    "line1": fake.street_address(),
                    "line2": fake.secondary_address() if rng.random() < 0.2 else "",
                    "city": fake.city(),
                    "region": fake.state_abbr(include_territories=False),
                    "postal_code": fake.postcode(),
                    "country": "US",
                    "is_default": i == default_idx,
                }
                self.rows["addresses"].append(addr)
                if i == default_idx:
                    default_addr = addr
            self.cust_extra.append(
                {
                    "tier": tier,
                    "upgraded": upgraded,
                    "method": method,
                    "last4": f"{rng.randint(0, 9999):04d}",
                    "addr": default_addr,
                    "orders": [],
                }
            )

    # ---------------------------------------------------------------- orders
    _STATUS_BY_AGE: tuple[tuple[float, tuple[tuple[str, float], ...]], ...] = (
        (1.0, (("pending", 35), ("paid", 30), ("fulfilled", 20), ("cancelled", 15))),
        (3.0, (("pending", 3), ("paid", 12), ("fulfilled", 20), ("shipped", 55), ("cancelled", 10))),
        (
            10.0,
            (("fulfilled", 3), ("shipped", 45), ("delivered", 42), ("cancelled", 6), ("returned", 2), ("refunded", 2)),
        ),
        (20.0, (("shipped", 6), ("delivered", 78), ("cancelled", 5), ("returned", 6), ("refunded", 5))),
        (1e9, (("delivered", 82), ("cancelled", 5), ("returned", 8), ("refunded", 5))),
    )
    _STATUS_AGE_RANGE: dict[str, tuple[float, float]] = {
        "pending": (0.1, 0.9),
        "paid": (0.1, 0.9),
        "fulfilled": (0.3, 2.5),
        "shipped": (1.5, 6),
        "delivered": (15, 300),
        "cancelled": (2, 300),
        "returned": (40, 300),
        "refunded": (25, 300),
    }

    def _placed_time(self, joined: datetime) -> datetime:
        r = self.rng.random()
        if r < 0.03:
            t = self.ago(2 / 24, 1)
        elif r < 0.08:
            t = self.ago(1, 3)
        elif r < 0.18:
            t = self.ago(3, 10)
        elif r < 0.27:
            t = self.ago(10, 20)
        else:
            t = self.ago(20, 400)
        earliest = joined + timedelta(hours=1)
        if t < earliest:
            t = self.between(earliest, self.now - timedelta(hours=2))
        return t

    def gen_orders(self) -> None:
        rng, sc = self.rng, self.scale
        n_cust = len(self.customers)
        idx = list(range(n_cust))
        power = rng.sample(idx, sc.power_buyers)
        counts = [0] * n_cust
        for i in power:
            counts[i] = rng.randint(26, 40)
            # Long-standing customers: joined well before the order window.
            self.customers[i]["joined_at"] = min(self.customers[i]["joined_at"], self.ago(430, 1400))
        regular = [i for i in idx if counts[i] == 0]
        weights = [0.0 if rng.random() < 0.1 else rng.expovariate(1.0) for _ in regular]
        for i in rng.choices(regular, weights=weights, k=max(0, sc.orders - sum(counts))):
            counts[i] += 1
        self.power_buyers = sorted(self.customers[i]["id"] for i in power)
        plan: list[tuple[datetime, int]] = []
        for i in idx:
            for _ in range(counts[i]):
                plan.append((self._placed_time(self.customers[i]["joined_at"]), i))
        plan.sort()
        statuses = []
        for placed, _ in plan:
            age = (self.now - placed).total_seconds() / 86400
            for bound, choices in self._STATUS_BY_AGE:
                if age < bound:
                    statuses.append(_pick(rng, choices))
                    break
        # Every status must exist, at any scale.
        for status, (lo, hi) in self._STATUS_AGE_RANGE.items():
            if status in statuses:
                continue
            candidates = [
                k
                for k, (t, _) in enumerate(plan)
                if lo <= (self.now - t).total_seconds() / 86400 < hi and statuses.count(statuses[k]) > 1
            ]
            k = rng.choice(candidates) if candidates else rng.randrange(len(plan))
            if not candidates:
                t = self.ago(lo, hi)
                plan[k] = (max(t, self.customers[plan[k][1]]["joined_at"] + timedelta(hours=1)), plan[k][1])
            statuses[k] = status
        self.orders: list[_Order] = []
        for (placed, ci), status in zip(plan, statuses, strict=True):
            self._build_order(placed, ci, status)
        self.rows["orders"].sort(key=lambda r: r["id"])

    def _order_lines(self, o: _Order) -> None:
        rng = self.rng
        n_lines = _pick(rng, [(1, 55), (2, 28), (3, 12), (4, 5)])
        chosen: list[Row] = []
        while len(chosen) < n_lines:
            if rng.random() < 0.03:
                p = rng.choice(self.gift_cards)
            else:
                p = rng.choices(self.sellable, cum_weights=self.product_cum, k=1)[0]
            if p not in chosen:
                chosen.append(p)
        for p in chosen:
            cat = C.CATEGORY_BY_NAME.get(p["category"])
            max_qty = cat.max_qty if cat else 2
            qty = 1 if rng.random() < 0.8 else rng.randint(1, max_qty)
            unit = p["price_cents"]
            if p["category"] != C.GIFT_CARDS and rng.random() < 0.1:
                unit = max(99, (unit * rng.randint(85, 110) // 100) // 100 * 100 + 99)
            disc = 0
            if p["category"] != C.GIFT_CARDS and rng.random() < 0.07:
                disc = unit * qty * rng.choice((5, 10, 15, 20)) // 100
            o.items.append(
                {
                    "id": "",
                    "order_id": o.row["id"],
                    "product_id": p["id"],
                    "sku": p["sku"],
                    "product_name": p["name"],
                    "quantity": qty,
                    "unit_price_cents": unit,
                    "discount_cents": disc,
                    "_product": p,
                }
            )

    def _build_order(self, placed: datetime, ci: int, status: str) -> None:
        rng, now = self.rng, self.now
        cust, extra = self.customers[ci], self.cust_extra[ci]
        addr = extra["addr"]
        row: Row = {
            "id": self.next_id("ORD"),
            "customer_id": cust["id"],
            "status": status,
            "placed_at": placed,
            "paid_at": None,
            "shipped_at": None,
            "delivered_at": None,
            "cancelled_at": None,
            "promo_code": None,
            "replaces_order_id": None,
            "ship_name": f"{cust['first_name']} {cust['last_name']}",
            "ship_line1": addr["line1"],
            "ship_line2": addr["line2"],
            "ship_city": addr["city"],
            "ship_region": addr["region"],
            "ship_postal_code": addr["postal_code"],
            "ship_country": addr["country"],
        }
        o = _Order(row=row, cust=cust)
        self._order_lines(o)
        if status == "returned":
            # A fully returned order holds no final-sale line.
            o.items = [i for i in o.items if i["_product"]["category"] not in P.FINAL_SALE_CATEGORIES]
            if not o.items:
                p = rng.choices(self.sellable, cum_weights=self.product_cum, k=1)[0]
                while p["category"] in P.FINAL_SALE_CATEGORIES:
                    p = rng.choice(self.sellable)
                o.items.append(
                    {
                        "id": "",
                        "order_id": row["id"],
                        "product_id": p["id"],
                        "sku": p["sku"],
                        "product_name": p["name"],
                        "quantity": 1,
                        "unit_price_cents": p["price_cents"],
                        "discount_cents": 0,
                        "_product": p,
                    }
                )
        for item in o.items:
            item["id"] = self.next_id("ITM")
        subtotal = sum(i["unit_price_cents"] * i["quantity"] - i["discount_cents"] for i in o.items)
        tier = extra["tier"]
        if extra["upgraded"] is not None and placed < extra["upgraded"]:
            tier = Tier.silver
        discount = 0
        if rng.random() < 0.15:
            usable = [
                p
                for p in self.promos
                if p["active"]
                and p["valid_from"] <= placed <= p["valid_until"]
                and (p["tier_required"] is None or p["tier_required"] == tier.value)
                and subtotal >= p["min_order_cents"]
            ]
            if usable:
                promo = rng.choice(usable)
                row["promo_code"] = promo["code"]
                discount = min(subtotal, promo["amount_off_cents"] or subtotal * promo["percent_off"] // 100)
        fee = 0
        if tier not in P.FREE_SHIPPING_TIERS and subtotal - discount < P.FREE_SHIPPING_THRESHOLD_CENTS:
            fee = P.STANDARD_SHIPPING_FEE_CENTS
        total = subtotal - discount + fee
        method = extra["method"] if rng.random() > 0.06 else rng.choice(("card", "paypal"))
        row.update(
            subtotal_cents=subtotal,
            discount_cents=discount,
            shipping_fee_cents=fee,
            total_cents=total,
            payment_method=method,
        )
        self.rows["orders"].append(row)
        for item in o.items:
            self.rows["order_items"].append({k: v for k, v in item.items() if k != "_product"})
        extra["orders"].append(o)
        self.orders.append(o)

        last4 = extra["last4"] if method == "card" else ""

        def pay(status_: str, at: datetime) -> Row:
            p = {
                "id": self.next_id("PAY"),
                "order_id": row["id"],
                "method": method,
                "amount_cents": total,
                "status": status_,
                "created_at": at,
                "card_last4": last4,
                "duplicate_of": None,
            }
            self.rows["payments"].append(p)
            return p

        if rng.random() < 0.04 and status != "pending":
            pay("failed", placed)
        if status == "pending":
            pay("authorized", placed)
            return
        paid_at = self.between(placed + timedelta(seconds=20), placed + timedelta(minutes=45))
        paid_at = min(paid_at, now)
        if status == "cancelled":
            cancel_from = placed + timedelta(minutes=30)
            if rng.random() < 0.5:
                pay("voided", placed)
                row["cancelled_at"] = self.between(cancel_from, min(placed + timedelta(days=1), now))
            else:
                row["paid_at"] = paid_at
                o.captured = pay("captured", paid_at)
                row["cancelled_at"] = self.between(max(cancel_from, paid_at), min(paid_at + timedelta(days=2), now))
                self.refund(
                    o,
                    total,
                    "cancelled_order",
                    "processed",
                    self.between(row["cancelled_at"], min(row["cancelled_at"] + timedelta(hours=6), now)),
                    "Order cancelled before shipping.",
                )
            return
        row["paid_at"] = paid_at
        o.captured = pay("captured", paid_at)
        if status in ("paid", "fulfilled"):
            return
        self._ship(o)
        if status in ("returned", "refunded"):
            self._return_or_refund(o)
        elif status == "delivered":
            self._maybe_open_return(o)
            self._maybe_partial_refund(o)

    def refund(
        self, o: _Order, amount: int, reason: str, status: str, at: datetime, note: str, payment: Row | None = None
    ) -> Row | None:
        payment = payment or o.captured
        assert payment is not None
        if status == "processed":
            amount = min(amount, payment["amount_cents"] - o.refunded_cents)
            if amount <= 0:
                return None
            o.refunded_cents += amount
        by = (
            "system"
            if reason == "cancelled_order"
            else (
                self.staff_of("billing")["id"]
                if amount > P.AGENT_REFUND_LIMIT_CENTS
                else self.staff_of("general")["id"]
            )
        )
        r = {
            "id": self.next_id("RFD"),
            "order_id": o.row["id"],
            "payment_id": payment["id"],
            "amount_cents": amount,
            "reason": reason,
            "status": status,
            "created_at": at,
            "created_by": by,
            "note": note,
        }
        self.rows["refunds"].append(r)
        return r

    # ---------------------------------------------------------------- shipping
    def _ship(self, o: _Order) -> None:
        rng, now, row = self.rng, self.now, o.row
        paid = row["paid_at"]
        status = row["status"]
        hi = min(paid + timedelta(days=3), now - timedelta(hours=1))
        if status == "shipped":
            shipped = self.between(paid + timedelta(hours=2), hi)
        else:
            shipped = self.between(paid + timedelta(hours=2), min(paid + timedelta(days=2), now - timedelta(days=1)))
        shipped = max(shipped, paid)
        row["shipped_at"] = shipped
        est_days = rng.randint(3, 6)
        est = (shipped + timedelta(days=est_days)).replace(hour=20, minute=0, second=0)
        carrier, prefix = rng.choice(C.CARRIERS)
        tracking = f"{prefix}{rng.randrange(10**11, 10**12)}"
        while tracking in self.tracking:
            tracking = f"{prefix}{rng.randrange(10**11, 10**12)}"
        self.tracking.add(tracking)
        delivered: datetime | None = None
        lost_at: datetime | None = None
        if status == "shipped":
            if now - shipped < timedelta(hours=12):
                sstatus = "label_created"
            elif now > est + timedelta(days=3) and rng.random() < 0.5:
                sstatus = "lost"
                lost_at = self.between(est + timedelta(days=1), now)
            elif now > est - timedelta(days=1) and rng.random() < 0.3:
                sstatus = "out_for_delivery"
            else:
                sstatus = "in_transit"
            o.late = now > est
        else:
            sstatus = "delivered"
            if rng.random() < 0.12:
                transit = timedelta(days=est_days + rng.randint(1, 5), hours=rng.randint(0, 8))
            else:
                transit = timedelta(days=rng.randint(1, est_days), hours=rng.randint(-6, 0))
            delivered = shipped + max(transit, timedelta(hours=20))
            if delivered > now:
                delivered = self.after(shipped, timedelta(hours=20), timedelta(days=1))
            row["delivered_at"] = delivered
            o.late = delivered > est
        shp = {
            "id": self.next_id("SHP"),
            "order_id": row["id"],
            "carrier": carrier,
            "tracking_number": tracking,
            "status": sstatus,
            "shipped_at": shipped,
            "estimated_delivery": est,
            "delivered_at": delivered,
            "is_replacement": False,
            "delivery_fails": False,
        }
        self.rows["shipments"].append(shp)
        o.shipment = shp
        self._events(shp, row, sstatus, shipped, delivered, lost_at)
        if (
            status == "delivered"
            and rng.random() < 0.01
            and delivered is not None  # set when delivered
            and delivered + timedelta(days=8) < now
        ):
            # A free replacement shipment (damaged on arrival, reshipped).
            s2 = self.between(delivered + timedelta(days=1), delivered + timedelta(days=3))
            d2 = s2 + timedelta(days=rng.randint(2, 4))
            tracking2 = f"{prefix}{rng.randrange(10**11, 10**12)}"
            while tracking2 in self.tracking:
                tracking2 = f"{prefix}{rng.randrange(10**11, 10**12)}"
            self.tracking.add(tracking2)
            rep = {
                "id": self.next_id("SHP"),
                "order_id": row["id"],
                "carrier": carrier,
                "tracking_number": tracking2,
                "status": "delivered",
                "shipped_at": s2,
                "estimated_delivery": s2 + timedelta(days=4),
                "delivered_at": d2,
                "is_replacement": True,
                "delivery_fails": False,
            }
            self.rows["shipments"].append(rep)
            self._events(rep, row, "delivered", s2, d2, None)

    def _events(
        self, shp: Row, order: Row, status: str, shipped: datetime, delivered: datetime | None, lost_at: datetime | None
    ) -> None:
        rng, now = self.rng, self.now
        dest = f"{order['ship_city']}, {order['ship_region']}"
        carrier = shp["carrier"]
        ev: list[tuple[datetime, str, str, str]] = [(shipped, "label_created", C.WAREHOUSE, "Shipping label created")]
        if status != "label_created":
            end = delivered or lost_at or now
            pick = min(shipped + timedelta(hours=rng.randint(2, 8)), end)
            ev.append((pick, "in_transit", C.WAREHOUSE, f"Picked up by {carrier}"))
            hubs = rng.sample(C.HUBS, rng.randint(1, 3))
            lo, hi = pick, end - timedelta(hours=6)
            times = sorted(self.between(lo, hi) for _ in hubs) if hi > lo else []
            for t, hub in zip(times, hubs, strict=False):
                ev.append((t, "in_transit", hub, "Arrived at carrier facility"))
            if delivered is not None:
                ofd = max(ev[-1][0], delivered - timedelta(hours=rng.randint(2, 6)))
                ev.append((ofd, "out_for_delivery", dest, "Out for delivery"))
                ev.append(
                    (
                        delivered,
                        "delivered",
                        dest,
                        rng.choice(
                            (
                                "Delivered, left at front door",
                                "Delivered to mailroom",
                                "Delivered, signed for by resident",
                            )
                        ),
                    )
                )
            elif status == "lost":
                assert lost_at is not None  # a lost parcel has the time it was lost
                ev.append(
                    (
                        max(ev[-1][0], lost_at),
                        "lost",
                        ev[-1][2],
                        "Package could not be located; carrier investigation opened",
                    )
                )
            elif status == "out_for_delivery":
                ev.append(
                    (
                        self.between(max(ev[-1][0], now - timedelta(hours=8)), now),
                        "out_for_delivery",
                        dest,
                        "Out for delivery",
                    )
                )
        for t, st, loc, desc in ev:
            self.rows["shipment_events"].append(
                {
                    "id": self.next_int("shipment_events"),
                    "shipment_id": shp["id"],
                    "occurred_at": t,
                    "status": st,
                    "location": loc,
                    "description": desc,
                }
            )

    # ---------------------------------------------------------------- returns / refunds
    _RETURN_REASONS = (
        "Changed my mind",
        "Not compatible with my setup",
        "Found a better price elsewhere",
        "Arrived too late to be useful",
        "Ordered the wrong model",
        "Does not meet expectations",
        "Defective on arrival",
    )

    @staticmethod
    def _line_value(item: Row, qty: int) -> int:
        line = item["unit_price_cents"] * item["quantity"] - item["discount_cents"]
        return line * qty // item["quantity"]

    def _rma(self, o: _Order, status: str, resolution: str, created: datetime, lines: list[tuple[Row, int]]) -> Row:
        rma = {
            "id": self.next_id("RMA"),
            "order_id": o.row["id"],
            "status": status,
            "reason": self.rng.choice(self._RETURN_REASONS),
            "resolution": resolution,
            "created_at": created,
            "exchange_product_id": None,
        }
        if resolution == "exchange":
            item = lines[0][0]
            cat = item["_product"]["category"] if "_product" in item else None
            pool = [
                p
                for p in self.sellable
                if p["category"] == cat and p["stock"] > 0 and not p["discontinued"] and p["id"] != item["product_id"]
            ]
            if pool:
                rma["exchange_product_id"] = self.rng.choice(pool)["id"]
            else:
                rma["resolution"] = "refund"
        self.rows["returns"].append(rma)
        for item, qty in lines:
            self.rows["return_items"].append(
                {
                    "id": self.next_int("return_items"),
                    "return_id": rma["id"],
                    "order_item_id": item["id"],
                    "quantity": qty,
                }
            )
        return rma

    def _return_or_refund(self, o: _Order) -> None:
        rng, row = self.rng, o.row
        delivered = row["delivered_at"]
        window = P.RETURN_WINDOW_DAYS[Tier(o.cust["tier"])]
        if row["status"] == "refunded":
            at = self.after(delivered, timedelta(hours=6), timedelta(days=20))
            reason = _pick(rng, [("damaged_item", 45), ("late_delivery", 15), ("other", 25), ("goodwill", 15)])
            self.refund(o, row["total_cents"], reason, "processed", at, "Full refund approved.")
            return
        created = self.after(delivered, timedelta(days=1), timedelta(days=window - 1))
        status = "completed" if rng.random() < 0.8 else "received"
        resolution = _pick(rng, [("refund", 75), ("store_credit", 15), ("exchange", 10)])
        lines = [(i, i["quantity"]) for i in o.items]
        rma = self._rma(o, status, resolution, created, lines)
        value = sum(self._line_value(i, q) for i, q in lines)
        done = self.after(created, timedelta(days=3), timedelta(days=10))
        if rma["resolution"] == "refund":
            if status == "completed":
                self.refund(o, value, "returned_item", "processed", done, f"Refund for {rma['id']}.")
            elif rng.random() < 0.5:
                self.refund(o, value, "returned_item", "pending", done, f"Awaiting inspection of {rma['id']}.")
        elif rma["resolution"] == "store_credit" and status == "completed":
            self.credit(o.cust["id"], value, f"Return {rma['id']} refunded as store credit", done, row["id"])

    def _maybe_open_return(self, o: _Order) -> None:
        rng, now, row = self.rng, self.now, o.row
        delivered = row["delivered_at"]
        window = P.RETURN_WINDOW_DAYS[Tier(o.cust["tier"])]
        returnable = [i for i in o.items if i["_product"]["category"] not in P.FINAL_SALE_CATEGORIES]
        if not returnable or rng.random() >= 0.05:
            return
        in_window = now - delivered < timedelta(days=window - 2)
        if in_window:
            status = _pick(rng, [("requested", 35), ("approved", 40), ("received", 15), ("rejected", 10)])
            created = self.after(delivered, timedelta(hours=12), timedelta(days=window))
        else:
            status = "rejected"
            created = self.after(delivered, timedelta(days=window + 1), timedelta(days=window + 30))
        item = rng.choice(returnable)
        resolution = _pick(rng, [("refund", 80), ("store_credit", 10), ("exchange", 10)])
        self._rma(o, status, resolution, created, [(item, 1)])

    def _maybe_partial_refund(self, o: _Order) -> None:
        rng, now, row = self.rng, self.now, o.row
        r = rng.random()
        if o.late and row["shipping_fee_cents"] and rng.random() < 0.4:
            at = self.between(row["delivered_at"], min(row["delivered_at"] + timedelta(days=5), now))
            self.refund(
                o,
                row["shipping_fee_cents"],
                "late_delivery",
                "processed",
                at,
                "Shipping fee refunded for late delivery.",
            )
        elif r < 0.025:
            amount = max(100, row["total_cents"] * rng.choice((5, 10, 15)) // 100)
            at = self.between(row["delivered_at"], min(row["delivered_at"] + timedelta(days=14), now))
            reason = rng.choice(("price_adjustment", "goodwill", "damaged_item"))
            status = "rejected" if rng.random() < 0.1 else "processed"
            self.refund(o, amount, reason, status, at, "Partial refund.")

    # ---------------------------------------------------------------- duplicates
    def gen_duplicates(self) -> None:
        rng, now = self.rng, self.now
        pool = [
            o
            for o in self.orders
            if o.row["status"] in ("paid", "fulfilled", "shipped", "delivered")
            and o.row["payment_method"] == "card"
            and o.refunded_cents == 0
        ]
        chosen = sorted(rng.sample(pool, min(self.scale.duplicate_payments, len(pool))), key=lambda o: o.row["id"])
        self.duplicate_orders = []
        for n, o in enumerate(chosen):
            orig = o.captured
            assert orig is not None
            at = min(orig["created_at"] + timedelta(seconds=rng.randint(5, 900)), now)
            dup = {**orig, "id": self.next_id("PAY"), "created_at": at, "duplicate_of": orig["id"]}
            self.rows["payments"].append(dup)
            self.duplicate_orders.append((o, dup))
            if n % 2 == 0 and now - at > timedelta(days=2):
                self.refund(
                    o,
                    dup["amount_cents"],
                    "duplicate_charge",
                    "processed",
                    self.between(at + timedelta(days=1), now),
                    "Duplicate capture refunded.",
                    payment=dup,
                )

    # ---------------------------------------------------------------- store credit
    def credit(self, cust_id: str, amount: int, reason: str, at: datetime, order_id: str | None = None) -> None:
        self.rows["store_credit"].append(
            {
                "id": 0,
                "customer_id": cust_id,
                "amount_cents": amount,
                "reason": reason,
                "created_at": at,
                "order_id": order_id,
            }
        )

    def gen_goodwill_credit(self) -> None:
        rng = self.rng
        for cust, extra in zip(self.customers, self.cust_extra, strict=True):
            if rng.random() >= 0.05:
                continue
            limit = P.GOODWILL_CREDIT_LIMIT_CENTS[extra["tier"]]
            amount = rng.choice([a for a in (5_00, 10_00, 15_00, 20_00, 25_00, 50_00) if a <= limit])
            at = self.between(max(cust["joined_at"], self.now - timedelta(days=300)), self.now)
            order_id = extra["orders"][0].row["id"] if extra["orders"] else None
            if order_id and extra["orders"][0].row["placed_at"] > at:
                order_id = None
            self.credit(
                cust["id"],
                amount,
                rng.choice(
                    (
                        "Goodwill: apology for late delivery",
                        "Goodwill: long wait on support",
                        "Goodwill: packaging damaged",
                    )
                ),
                at,
                order_id,
            )
            if rng.random() < 0.3:
                spent = rng.randint(1, amount // 100) * 100
                self.credit(cust["id"], -spent, "Store credit applied at checkout", self.between(at, self.now))

    def finish_store_credit(self) -> None:
        rows = sorted(
            self.rows["store_credit"], key=lambda r: (r["created_at"], r["customer_id"], r["amount_cents"] < 0)
        )
        for n, r in enumerate(rows, start=1):
            r["id"] = n
        self.rows["store_credit"] = rows

    # ---------------------------------------------------------------- warranty
    def gen_warranty_claims(self) -> None:
        rng, now = self.rng, self.now
        pool = [
            (o, i)
            for o in self.orders
            if o.row["status"] == "delivered"
            for i in o.items
            if i["_product"]["warranty_months"] > 0 and now - o.row["delivered_at"] > timedelta(days=30)
        ]
        n = min(len(pool), max(2, self.scale.tickets // 20))
        issues = (
            "Stopped powering on after a few weeks.",
            "Intermittent disconnects.",
            "Dead pixels appeared in the centre of the screen.",
            "Left earcup stopped producing sound.",
            "Keys double-register when pressed.",
            "Fan makes a grinding noise under load.",
            "Drive no longer detected by BIOS.",
            "Scroll wheel skips.",
            "Wi-Fi drops every few minutes.",
        )
        for o, item in sorted(rng.sample(pool, n), key=lambda x: x[1]["id"]):
            delivered = o.row["delivered_at"]
            end = min(now, delivered + timedelta(days=30 * item["_product"]["warranty_months"]))
            self.rows["warranty_claims"].append(
                {
                    "id": self.next_id("WAR"),
                    "order_item_id": item["id"],
                    "customer_id": o.cust["id"],
                    "product_id": item["product_id"],
                    "issue": rng.choice(issues),
                    "status": _pick(rng, [("submitted", 35), ("approved", 25), ("rejected", 15), ("completed", 25)]),
                    "created_at": self.between(delivered + timedelta(days=30), end),
                }
            )

    # ---------------------------------------------------------------- tickets
    def _order_pool(self, statuses: tuple[str, ...], needs: str) -> list[_Order]:
        key = (statuses, needs)
        cache = self.__dict__.setdefault("_pool_cache", {})
        if key in cache:
            return cache[key]
        now = self.now
        if needs == "duplicate":
            pool = [o for o, _ in self.duplicate_orders if o.row["status"] in statuses]
        else:
            pool = [o for o in self.orders if o.row["status"] in statuses]
            if needs == "late":
                pool = [o for o in pool if o.late]
            elif needs == "recent_delivery":
                pool = [o for o in pool if now - o.row["delivered_at"] < timedelta(days=P.DAMAGE_REPORT_WINDOW_DAYS)]
            elif needs == "warranty":
                pool = [
                    o
                    for o in pool
                    if now - o.row["delivered_at"] > timedelta(days=60)
                    and any(i["_product"]["warranty_months"] > 0 for i in o.items)
                ]
        cache[key] = pool
        return pool

    def gen_tickets(self) -> None:
        rng = self.rng
        kinds = list(T.KINDS)
        kind_weights = [k.weight for k in kinds]
        dup_by_order = {o.row["id"]: dup for o, dup in self.duplicate_orders}
        cust_index = {c["id"]: n for n, c in enumerate(self.customers)}
        # Privacy tickets come from customers who share their name with someone.
        dup_name_members = [m for g in self.dup_groups for m in g]
        n_mismatch = 0
        for t in range(self.scale.tickets):
            mismatch: T.Mismatch | None = None
            # A few mismatched tickets at every scale, then about 4%.
            if t % 25 == 3 or (t > 100 and rng.random() < 0.02):
                mismatch = T.MISMATCHES[n_mismatch % len(T.MISMATCHES)]
                n_mismatch += 1
                kind = next(k for k in kinds if k.name == mismatch.real_kind)
                statuses, needs = mismatch.order_statuses, mismatch.needs
            else:
                kind = rng.choices(kinds, weights=kind_weights, k=1)[0]
                statuses, needs = kind.order_statuses, kind.needs
            order: _Order | None = None
            if statuses:
                pool = self._order_pool(statuses, needs)
                if not pool:
                    mismatch = None
                    kind = next(k for k in kinds if k.name == "product_question")
                else:
                    order = rng.choice(pool)
            if order is not None:
                ci = cust_index[order.cust["id"]]
            elif kind.name == "privacy" and dup_name_members:
                ci = rng.choice(dup_name_members)
            else:
                ci = rng.randrange(len(self.customers))
            self._ticket(kind, mismatch, order, ci, dup_by_order)

    def _ticket(
        self,
        kind: T.TicketKind,
        mismatch: T.Mismatch | None,
        order: _Order | None,
        ci: int,
        dup_by_order: dict[str, Row],
    ) -> None:
        rng, now = self.rng, self.now
        cust, extra = self.customers[ci], self.cust_extra[ci]
        # Anchor: the event the ticket reacts to.
        if order is None:
            anchor = max(cust["joined_at"], now - timedelta(days=200))
            latest = now - timedelta(minutes=30)
        else:
            r = order.row
            if kind.name == "warranty":
                anchor = r["delivered_at"] + timedelta(days=45)
                latest = now - timedelta(minutes=30)
            else:
                anchor = r["delivered_at"] or r["cancelled_at"] or r["shipped_at"] or r["paid_at"] or r["placed_at"]
                if kind.name in ("cancel", "address_change") or (
                    mismatch and mismatch.real_kind in ("cancel", "address_change")
                ):
                    anchor = r["placed_at"]
                latest = min(anchor + timedelta(days=7), now - timedelta(minutes=30))
                if kind.name == "damaged" or (mismatch and mismatch.needs == "recent_delivery"):
                    latest = min(anchor + timedelta(days=P.DAMAGE_REPORT_WINDOW_DAYS - 2), latest)
        if anchor + timedelta(minutes=10) > latest:
            created = self.between(min(anchor, now), now)
        else:
            created = self.between(anchor + timedelta(minutes=10), latest)
        age_days = (now - created).total_seconds() / 86400
        if age_days < 3:
            status = _pick(
                rng, [("open", 35), ("pending", 25), ("on_hold", 10), ("escalated", 10), ("solved", 15), ("closed", 5)]
            )
        else:
            status = _pick(
                rng, [("open", 6), ("pending", 6), ("on_hold", 4), ("escalated", 6), ("solved", 30), ("closed", 48)]
            )
        # Facts for the templates.
        product = rng.choice(order.items)["_product"] if order is not None else rng.choice(self.sellable)
        brand = next((b for b in C.ALL_BRANDS if b.name == product["brand"]), None)
        shp = order.shipment if order is not None else None
        dup = dup_by_order.get(order.row["id"]) if order is not None else None
        facts = {
            "first": cust["first_name"],
            "last": cust["last_name"],
            "order": order.row["id"] if order else "",
            "product": product["name"],
            "brand": (brand.spoken or brand.name) if brand else product["brand"],
            "tracking": shp["tracking_number"] if shp else "",
            "carrier": shp["carrier"] if shp else "the carrier",
            "date": f"{order.row['placed_at']:%B %d}" if order else "",
            "delivered": f"{order.row['delivered_at']:%B %d}" if order and order.row["delivered_at"] else "",
            "amount": dollars(order.row["total_cents"]) if order else "",
            "dup_amount": dollars(dup["amount_cents"]) if dup else "",
            "city": extra["addr"]["city"],
            "store": C.STORE_NAME,
            "relative": rng.choice(T.RELATIVES),
            "tier": cust["tier"],
            "ref": order.row["id"] if order else "your account",
        }
        if mismatch is not None:
            subject, body, tags = mismatch.subject, mismatch.body, mismatch.tags
        else:
            subject, body, tags = rng.choice(kind.subjects), rng.choice(kind.bodies), kind.tags
        subject, body = subject.format(**facts), body.format(**facts)
        # Messages: customer first, then replies.
        n_msgs = {
            "open": rng.randint(1, 2),
            "pending": rng.randint(2, 3),
            "on_hold": rng.randint(2, 4),
            "escalated": rng.randint(3, 5),
            "solved": rng.randint(2, 6),
            "closed": rng.randint(2, 6),
        }[status]
        team = kind.escalate_to if kind.escalate_to != "general" else "escalations"
        assignee: Row | None
        if status == "open" and rng.random() < 0.6:
            assignee = None
        elif status == "escalated":
            assignee = self.staff_of(team)
        else:
            assignee = self.staff_of("general", allow_inactive=status == "closed")
        author = assignee or self.staff_of("general")
        gaps = [rng.randint(600, 36 * 3600) for _ in range(n_msgs - 1)]
        room = int((now - created).total_seconds()) - 60
        if sum(gaps) > room:
            gaps = [max(1, g * room // sum(gaps)) for g in gaps]
        tid = self.next_id("TKT")
        t_at = created
        messages = []
        for m in range(n_msgs):
            if m > 0:
                t_at = min(t_at + timedelta(seconds=gaps[m - 1]), now)
            if m == 0:
                a_type, a_id, text, internal = "customer", cust["id"], body, False
            elif status == "escalated" and m == n_msgs - 1:
                a_type, a_id, internal = "agent", author["id"], True
                text = f"Escalated to {team}: " + (
                    f"amount due exceeds the {dollars(P.AGENT_REFUND_LIMIT_CENTS)} agent limit."
                    if team == "billing"
                    else "needs a specialist decision."
                )
            elif m % 2 == 1:
                if rng.random() < 0.2:
                    a_type, a_id, internal = "agent", author["id"], True
                    text = rng.choice(T.INTERNAL_NOTES).format(**facts)
                else:
                    a_type, a_id, internal = "agent", author["id"], False
                    last_reply = m >= n_msgs - 2 and status in ("solved", "closed")
                    text = (T.RESOLUTION_REPLY if last_reply else rng.choice(T.AGENT_REPLIES)).format(**facts)
            else:
                a_type, a_id, internal = "customer", cust["id"], False
                text = rng.choice(T.FOLLOWUPS).format(**facts) if order else "Thanks!"
            messages.append(
                {
                    "id": self.next_int("ticket_messages"),
                    "ticket_id": tid,
                    "author_type": a_type,
                    "author_id": a_id,
                    "body": text,
                    "internal": internal,
                    "created_at": t_at,
                }
            )
        escalated_team = team if status == "escalated" else None
        self.rows["tickets"].append(
            {
                "id": tid,
                "customer_id": cust["id"],
                "order_id": order.row["id"] if order is not None and rng.random() < 0.85 else None,
                "subject": subject,
                "status": status,
                "priority": _pick(rng, [("low", 20), ("normal", 55), ("high", 18), ("urgent", 7)]),
                "channel": _pick(rng, [("email", 45), ("chat", 25), ("web", 20), ("phone", 10)]),
                "created_at": created,
                "updated_at": messages[-1]["created_at"],
                "assignee_id": assignee["id"] if assignee else None,
                "escalated_team": escalated_team,
            }
        )
        self.rows["ticket_messages"].extend(messages)
        tag_list = list(tags)
        if cust["tier"] == "platinum":
            tag_list.append("vip")
        for tag in dict.fromkeys(tag_list):
            self.rows["ticket_tags"].append({"ticket_id": tid, "tag": tag})
        if escalated_team is not None:
            amount = 0
            if team == "billing" and order is not None:
                amount = order.row["total_cents"]
            self.rows["escalations"].append(
                {
                    "id": self.next_id("ESC"),
                    "ticket_id": tid,
                    "team": team,
                    "reason": messages[-1]["body"],
                    "created_at": messages[-1]["created_at"],
                    "requested_amount_cents": amount,
                }
            )


def build_world(seed: int = 7, scale: str = "default") -> WorldSnapshot:
    """Generate the world for ``(seed, scale)`` from scratch (no cache; see cache.load_world)."""
    sc = get_scale(scale)
    db = _Generator(seed, sc).build()
    try:
        digest = fast_world_hash(db)
        with db.session() as s:
            counts = table_counts(s)
        image = db.image()
    finally:
        db.close()
    return WorldSnapshot(seed=seed, scale=sc.name, image=image, world_hash=digest, counts=counts)
