"""A realistic, deterministic product dataset, as posthog-js would have sent it.

Visitors arrive over the period (more later: the product grows), browse in sessions of `$pageview`s
with autocapture clicks, and some come back (biased to recent arrivals, so retention decays). A share
of first sessions sign up (`signed_up` + `$identify` with person properties); some of those activate
(`project_created`) and some of those buy (`purchase` with `plan` and `revenue`). Browser, OS, device,
country and referrer are fixed per visitor. The same seed and end date give the same events, uuids
included, so loading a dataset twice stores it once.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from app.elements_chain import Element, elements_to_chain

BROWSERS = [("Chrome", 0.62), ("Safari", 0.19), ("Firefox", 0.09), ("Edge", 0.07), ("Opera", 0.03)]
DEVICES = [("Desktop", 0.64), ("Mobile", 0.31), ("Tablet", 0.05)]
OS_BY_DEVICE = {
    "Desktop": [("Windows", 0.55), ("Mac OS X", 0.35), ("Linux", 0.10)],
    "Mobile": [("iOS", 0.55), ("Android", 0.45)],
    "Tablet": [("iOS", 0.7), ("Android", 0.3)],
}
COUNTRIES = [
    ("US", 0.34), ("GB", 0.09), ("DE", 0.08), ("IN", 0.08), ("FR", 0.06), ("BR", 0.05), ("CA", 0.05),
    ("NL", 0.04), ("AU", 0.04), ("JP", 0.04), ("ES", 0.03), ("PL", 0.03), ("SE", 0.03), ("MX", 0.04),
]  # fmt: skip
REFERRERS = [
    ("$direct", 0.35), ("www.google.com", 0.3), ("news.ycombinator.com", 0.08), ("twitter.com", 0.07),
    ("github.com", 0.07), ("www.linkedin.com", 0.05), ("www.reddit.com", 0.05), ("duckduckgo.com", 0.03),
]  # fmt: skip
MARKETING_PAGES = ["/", "/pricing", "/features", "/blog", "/blog/launch-week", "/blog/sql-insights", "/docs",
                   "/docs/getting-started", "/docs/api", "/about", "/customers"]  # fmt: skip
APP_PAGES = ["/app", "/app/insights", "/app/dashboards", "/app/events", "/app/settings", "/app/insights/new"]
BUTTONS = {
    "/": ("Get started", "btn-primary"), "/pricing": ("Choose plan", "btn-primary"),
    "/features": ("Try it free", "btn-secondary"), "/docs": ("Copy", "copy-button"),
    "/app/insights": ("New insight", "btn-primary"), "/app/dashboards": ("Add tile", "btn-tertiary"),
}  # fmt: skip
USER_AGENTS = {
    "Desktop": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36",
    "Mobile": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Tablet": "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
}
TIMEZONES = {"US": "America/New_York", "GB": "Europe/London", "DE": "Europe/Berlin", "IN": "Asia/Kolkata",
             "FR": "Europe/Paris", "BR": "America/Sao_Paulo", "JP": "Asia/Tokyo"}  # fmt: skip
PLANS = [("starter", 29.0, 0.6), ("growth", 99.0, 0.3), ("enterprise", 450.0, 0.1)]
HOST = "https://hogbox.example"
SIGNUP_RATE = 0.22
ACTIVATION_RATE = 0.55
PURCHASE_RATE = 0.32
RETURNING_SHARE = 0.45
AVERAGE_SESSION_EVENTS = 7
SESSION_GAP = timedelta(minutes=30)


def _pick(rng: random.Random, weighted: list[tuple[str, float]]) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


@dataclass
class Visitor:
    anon_id: str
    browser: str
    device: str
    os: str
    country: str
    referrer: str
    user_id: str | None = None
    stage: int = 0  # 0 visitor, 1 signed up, 2 activated, 3 paying
    sessions: int = 0
    last_seen: datetime | None = None

    @property
    def distinct_id(self) -> str:
        return self.user_id or self.anon_id


@dataclass
class DemoDataset:
    events: int
    days: int
    seed: int = 1
    end: datetime = field(
        default_factory=lambda: datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    )

    def batches(self) -> Iterator[list[dict[str, Any]]]:
        """One list per day, in time order; exactly `events` events in all."""
        rng = random.Random(self.seed)
        visitors: list[Visitor] = []
        start = self.end - timedelta(days=self.days)
        # The product grows through the period; weekends are quieter.
        weights = [
            (1 + 0.6 * d / max(self.days, 1)) * (0.7 if (start + timedelta(days=d)).weekday() >= 5 else 1.0)
            for d in range(self.days)
        ]
        total = sum(weights)
        budgets = [int(self.events * w / total) for w in weights]
        budgets[-1] += self.events - sum(budgets)
        for day, budget in enumerate(budgets):
            day_start = start + timedelta(days=day)
            events: list[dict[str, Any]] = []
            while len(events) < budget:
                if visitors and rng.random() < RETURNING_SHARE:
                    visitor = visitors[int(len(visitors) * (1 - rng.random() ** 2.5))]
                else:
                    visitor = self._new_visitor(rng)
                    visitors.append(visitor)
                events.extend(self._session(rng, visitor, day_start))
            events.sort(key=lambda e: e["timestamp"])
            yield events[:budget]

    def _new_visitor(self, rng: random.Random) -> Visitor:
        device = _pick(rng, DEVICES)
        return Visitor(
            anon_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            browser=_pick(rng, BROWSERS),
            device=device,
            os=_pick(rng, OS_BY_DEVICE[device]),
            country=_pick(rng, COUNTRIES),
            referrer=_pick(rng, REFERRERS),
        )

    def _session(self, rng: random.Random, visitor: Visitor, day_start: datetime) -> list[dict[str, Any]]:
        visitor.sessions += 1
        session_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        # Most traffic in the (UTC) afternoon and evening; a visitor's sessions never overlap.
        at = day_start + timedelta(seconds=min(86_399, abs(rng.gauss(15.5, 4.5)) * 3600))
        if visitor.last_seen and at < visitor.last_seen + SESSION_GAP:
            at = visitor.last_seen + SESSION_GAP
        session = _Session(self, rng, visitor, session_id, at)
        pages = MARKETING_PAGES if visitor.stage == 0 else APP_PAGES
        for _ in range(max(1, int(rng.expovariate(1 / AVERAGE_SESSION_EVENTS * 1.4)))):
            path = rng.choice(pages)
            session.pageview(path)
            if path in BUTTONS and rng.random() < 0.45:
                session.click(path)
        if visitor.stage == 0 and visitor.sessions <= 3 and rng.random() < SIGNUP_RATE:
            session.sign_up()
        elif visitor.stage == 1 and rng.random() < ACTIVATION_RATE:
            session.capture("project_created", {"template": rng.choice(["blank", "web", "product"])})
            visitor.stage = 2
        elif visitor.stage == 2 and rng.random() < PURCHASE_RATE:
            plan, price, _ = rng.choices(PLANS, weights=[w for *_, w in PLANS])[0]
            session.capture("purchase", {"plan": plan, "revenue": price, "currency": "USD"}, {"plan": plan})
            visitor.stage = 3
        elif visitor.stage >= 2 and rng.random() < 0.5:
            session.capture(
                "insight_created", {"kind": rng.choice(["trends", "funnels", "retention", "paths"])}
            )
        visitor.last_seen = session.at
        return session.events


@dataclass
class _Session:
    dataset: DemoDataset
    rng: random.Random
    visitor: Visitor
    session_id: str
    at: datetime
    events: list[dict[str, Any]] = field(default_factory=list)

    def capture(
        self, event: str, properties: dict[str, Any], person: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        self.at += timedelta(seconds=self.rng.uniform(2, 90))
        visitor = self.visitor
        base: dict[str, Any] = {
            "$os": visitor.os,
            "$browser": visitor.browser,
            "$browser_version": {"Chrome": 131, "Safari": 18, "Firefox": 133, "Edge": 131}.get(
                visitor.browser, 115
            ),
            "$device_type": visitor.device,
            "$screen_width": 1440 if visitor.device == "Desktop" else 390,
            "$screen_height": 900 if visitor.device == "Desktop" else 844,
            "$referring_domain": visitor.referrer,
            "$referrer": "$direct" if visitor.referrer == "$direct" else f"https://{visitor.referrer}/",
            "$geoip_country_code": visitor.country,
            "$session_id": self.session_id,
            "$device_id": visitor.anon_id,
            "$raw_user_agent": USER_AGENTS[visitor.device],
            "$timezone": TIMEZONES.get(visitor.country, "UTC"),
            "$browser_language": "en-US",
            "$window_id": self.session_id[:24] + "w",
            "$insert_id": uuid.UUID(int=self.rng.getrandbits(128), version=4).hex[:16],
            "$time": round(self.at.timestamp(), 3),
            "$lib": "web",
            "$lib_version": "1.200.0",
            "$host": HOST.removeprefix("https://"),
            **properties,
        }
        if person:
            base["$set"] = person
        event_dict = {
            "event": event,
            "distinct_id": visitor.distinct_id,
            "timestamp": self.at.isoformat(),
            "uuid": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "properties": base,
        }
        self.events.append(event_dict)
        return event_dict

    def pageview(self, path: str) -> None:
        self.capture(
            "$pageview", {"$current_url": HOST + path, "$pathname": path, "title": path.strip("/") or "home"}
        )

    def click(self, path: str) -> None:
        text, css_class = BUTTONS[path]
        chain = elements_to_chain(
            [
                Element(tag_name="button", text=text, attr_class=["btn", css_class], nth_child=1,
                        nth_of_type=1, attributes={"attr__data-attr": css_class}),
                Element(tag_name="div", attr_class=["actions"], nth_child=2, nth_of_type=1),
                Element(tag_name="body", nth_child=1, nth_of_type=1),
            ]
        )  # fmt: skip
        event = "$rageclick" if self.rng.random() < 0.03 else "$autocapture"
        self.capture(event, {"$event_type": "click", "$current_url": HOST + path, "$pathname": path,
                             "$elements_chain": chain})  # fmt: skip

    def sign_up(self) -> None:
        """As posthog-js does it: `identify()` first (linking the anonymous id), then the signup event."""
        visitor = self.visitor
        self.pageview("/signup")
        visitor.user_id = f"user-{visitor.anon_id[:8]}@example.com"
        self.capture(
            "$identify",
            {"$anon_distinct_id": visitor.anon_id,
             "$set_once": {"$initial_referring_domain": visitor.referrer, "signup_country": visitor.country}},
            {"email": visitor.user_id, "name": f"User {visitor.anon_id[:4]}",
             "company_size": self.rng.choice(["1-10", "11-50", "51-200", "201+"]), "plan": "free"},
        )  # fmt: skip
        self.capture("signed_up", {"$current_url": HOST + "/signup", "$pathname": "/signup"})
        visitor.stage = 1
