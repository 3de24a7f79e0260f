"""A realistic, deterministic sample CRM for trying smallcrm (and for screenshots and tests)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

from sqlmodel import Session, select

from smallcrm import settings, users
from smallcrm.store import Db, open_db, search_index
from smallcrm.store.tables import (
    Activity,
    Company,
    Contact,
    ContactTag,
    FollowUp,
    Lead,
    Stage,
    StageChange,
    Tag,
    User,
    now_utc,
)
from smallcrm.values import LIFECYCLE_STAGES, RELATIONSHIP_TYPES, local_zone

TEAM = [
    ("Alex Morgan", "alex.morgan@smallcrm.example"),
    ("Priya Shah", "priya.shah@smallcrm.example"),
    ("Tom Becker", "tom.becker@smallcrm.example"),
    ("Lena Kovacs", "lena.kovacs@smallcrm.example"),
    ("Sam Ortiz", "sam.ortiz@smallcrm.example"),
]
FIRST = (
    "Ada Alan Grace Linus Margaret Ken Barbara Dennis Frances Edsger Radia John Hedy Tim "
    "Katherine Guido Sophie Donald Jean Niklaus Anita Bjarne Lucia Yukihiro Mary Rasmus Carla "
    "James Ingrid Omar Fatima Mateo Chloe Noah Aisha Lukas Elena Hiro Zoe Ravi Nadia Pablo Emma"
).split()
LAST = (
    "Lovelace Turing Hopper Torvalds Hamilton Thompson Liskov Ritchie Allen Dijkstra Perlman "
    "McCarthy Lamarr Berners-Lee Johnson Rossum Wilson Knuth Sammet Wirth Borg Stroustrup "
    "Fernández Matsumoto Keller Lerdorf Müller Gosling Nilsson Haddad Okafor García Dubois "
    "Fitzgerald Khan Schmidt Petrova Tanaka Novak Iyer Haddad Ruiz Brennan O'Neill"
).split()
COMPANY_FIRST = (
    "Northwind Bluebird Granite Harbor Summit Cedar Lumen Vertex Orchid Pioneer Atlas Beacon "
    "Copper Driftwood Evergreen Falcon Golden Ironwood Juniper Keystone"
).split()
COMPANY_SECOND = (
    "Logistics Analytics Foods Robotics Health Energy Studios Labs Outfitters Freight Systems "
    "Dental Bakery Architects Software"
).split()
INDUSTRIES = (
    "Logistics Software Retail Manufacturing Healthcare Energy Media Education Hospitality "
    "Construction"
).split()
CITIES = [
    ("Berlin", "DE"), ("London", "GB"), ("Austin", "US"), ("Toronto", "CA"), ("Lyon", "FR"),
    ("Madrid", "ES"), ("Osaka", "JP"), ("Sydney", "AU"), ("Chicago", "US"), ("Dublin", "IE"),
]  # fmt: skip
TITLES = (
    "CEO", "CTO", "Head of Operations", "Purchasing Manager", "Office Manager",
    "VP Sales", "IT Director", "Founder", "Finance Lead", "Project Manager",
)  # fmt: skip
LEAD_TOPICS = (
    "Annual licence", "Pilot project", "Support renewal", "Fleet rollout", "Team upgrade",
    "Data migration", "Training package", "Expansion", "Integration", "Hardware refresh",
)  # fmt: skip
ACTIVITY_TEMPLATES = {
    "call": ("Intro call", "Discussed pricing", "Checked in on the pilot", "Left a voicemail",
             "Walked through the proposal"),
    "email": ("Sent the proposal", "Shared case study", "Answered questions about SSO",
              "Sent meeting notes", "Followed up on the quote"),
    "meeting": ("Demo with the team", "Quarterly review", "Kick-off meeting",
                "Contract negotiation", "Lunch meeting"),
    "note": ("Budget approved for Q1", "Decision maker is the CFO", "Prefers email over calls",
             "Competitor is also bidding", "Needs a security review"),
    "visit": ("On-site visit", "Visited their warehouse", "Trade show booth chat"),
    "sms": ("Confirmed tomorrow's meeting", "Sent directions"),
}  # fmt: skip
KIND_WEIGHTS = {"call": 30, "email": 30, "meeting": 15, "note": 15, "visit": 5, "sms": 5}
FOLLOWUP_TITLES = (
    "Call back about pricing", "Send the revised proposal", "Book a demo", "Check contract status",
    "Ask for a referral", "Confirm delivery date", "Share onboarding plan", "Renewal reminder",
)  # fmt: skip
TAGS = ("vip", "newsletter", "partner", "churn-risk", "event-2026")
LOST_REASONS = ("Price too high", "Went with a competitor", "No budget", "Timing", "No response")


def build_demo(target: str | None = None) -> Db:
    """Open the demo database (--db/SMALLCRM_DB, else demo.db) and fill it when it is empty."""
    db = open_db(settings.demo_target(target))
    with db.read() as session:
        empty = session.exec(select(Contact.id).limit(1)).first() is None
    if empty:
        populate(db)
    return db


def populate(db: Db, *, seed: int = 7, now: datetime | None = None) -> None:
    """Fill an empty database with a sample team CRM; the same seed and `now` give the same data."""
    rng = random.Random(seed)
    now = (now or now_utc()).astimezone(UTC)
    with db.write() as session:
        team = _users(session)
        companies = _companies(session, rng, team, now)
        contacts = _contacts(session, rng, team, companies, now)
        leads = _leads(session, rng, team, contacts, now)
        _activities(session, rng, team, contacts, leads, now)
        _followups(session, rng, team, contacts, leads, now)
        search_index.rebuild(session)


def _users(session: Session) -> list[User]:
    team = []
    for name, email in TEAM:
        row = session.exec(select(User).where(User.login == name.lower())).first()
        if row is None:
            row = User(login=name.lower(), name=name, email=email, created_at=now_utc())
            session.add(row)
        team.append(row)
    session.flush()
    me = users.me(session)
    return team if me in team else [*team, me]


def _companies(
    session: Session, rng: random.Random, team: list[User], now: datetime
) -> list[Company]:
    names = [f"{a} {b}" for a in COMPANY_FIRST for b in COMPANY_SECOND]
    rng.shuffle(names)
    rows = []
    for name in names[:60]:
        city, country = rng.choice(CITIES)
        created = now - timedelta(days=rng.randint(200, 900))
        rows.append(
            Company(
                name=name,
                domain=name.lower().replace(" ", "") + ".example",
                industry=rng.choice(INDUSTRIES),
                city=city,
                country=country,
                territory=rng.choice(("North", "South", "East", "West")),
                relationship=rng.choice(RELATIONSHIP_TYPES),
                owner_id=rng.choice(team).id,
                created_at=created,
                updated_at=created,
            )
        )
    session.add_all(rows)
    session.flush()
    return rows


def _contacts(
    session: Session, rng: random.Random, team: list[User], companies: list[Company], now: datetime
) -> list[Contact]:
    rows, seen = [], set()
    while len(rows) < 300:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company = rng.choice(companies)
        email = f"{first}.{last}".lower().replace("'", "") + f"@{company.domain}"
        if email in seen:
            continue
        seen.add(email)
        created = now - timedelta(days=rng.randint(10, 700))
        rows.append(
            Contact(
                name=f"{first} {last}",
                email=email,
                phone=f"+1415555{rng.randint(0, 9999):04d}",
                title=rng.choice(TITLES),
                company_id=company.id,
                stage=rng.choices(LIFECYCLE_STAGES, weights=(8, 10, 5, 4, 4, 2, 2, 1))[0],
                owner_id=rng.choice(team).id,
                consent=rng.random() < 0.6,
                created_at=created,
                updated_at=created,
            )
        )
    session.add_all(rows)
    session.flush()
    tags = [Tag(name=name) for name in TAGS]
    session.add_all(tags)
    session.flush()
    for contact in rows:
        for tag in rng.sample(tags, k=rng.choice((0, 0, 1, 1, 2))):
            session.add(ContactTag(contact_id=contact.id, tag_id=tag.id))
    return rows


def _leads(
    session: Session, rng: random.Random, team: list[User], contacts: list[Contact], now: datetime
) -> list[Lead]:
    stages = list(session.exec(select(Stage).order_by(Stage.position)))
    today = now.astimezone(local_zone()).date()
    rows = []
    for index in range(120):
        contact = rng.choice(contacts)
        status = "won" if index % 8 == 0 else "lost" if index % 8 == 1 else "open"
        stage_index = rng.randrange(len(stages)) if status == "open" else len(stages) - 1
        created = now - timedelta(days=rng.randint(5, 160), hours=rng.randint(0, 23))
        entered = max(created, now - timedelta(days=rng.randint(0, 30), hours=rng.randint(0, 23)))
        lead = Lead(
            title=f"{rng.choice(LEAD_TOPICS)} – {contact.name.split()[-1]}",
            contact_id=contact.id,
            company_id=contact.company_id,
            pipeline_id=stages[0].pipeline_id,
            stage_id=stages[stage_index].id,
            status=status,
            value_minor=rng.randrange(1_000, 80_000, 250) * 100,
            currency="USD",
            expected_close=today + timedelta(days=rng.randint(-10, 60)),
            owner_id=contact.owner_id,
            lost_reason=rng.choice(LOST_REASONS) if status == "lost" else None,
            stage_entered_at=entered,
            created_at=created,
            updated_at=entered,
            closed_at=entered if status != "open" else None,
        )
        session.add(lead)
        rows.append((lead, stage_index, created, entered))
    session.flush()
    for lead, stage_index, created, entered in rows:
        _history(session, lead, stages, stage_index, created, entered)
    return [lead for lead, *_ in rows]


def _history(
    session: Session,
    lead: Lead,
    stages: list[Stage],
    stage_index: int,
    created: datetime,
    entered: datetime,
) -> None:
    events = [StageChange(lead_id=lead.id, to_stage_id=stages[0].id, event="created",
                          changed_at=created, user_id=lead.owner_id)]  # fmt: skip
    step = (entered - created) / (stage_index + 1)
    for i in range(1, stage_index + 1):
        events.append(
            StageChange(
                lead_id=lead.id,
                from_stage_id=stages[i - 1].id,
                to_stage_id=stages[i].id,
                event="moved",
                changed_at=entered if i == stage_index else created + step * i,
                user_id=lead.owner_id,
            )
        )
    if lead.status != "open":
        events.append(
            StageChange(
                lead_id=lead.id,
                from_stage_id=lead.stage_id,
                event=lead.status,
                changed_at=entered,
                user_id=lead.owner_id,
            )  # fmt: skip
        )
    session.add_all(events)


def _activities(
    session: Session,
    rng: random.Random,
    team: list[User],
    contacts: list[Contact],
    leads: list[Lead],
    now: datetime,
) -> None:
    leads_by_contact: dict[int, list[Lead]] = {}
    for lead in leads:
        leads_by_contact.setdefault(lead.contact_id, []).append(lead)
    kinds, weights = zip(*KIND_WEIGHTS.items(), strict=True)
    rows = []
    for _ in range(1_000):
        contact = rng.choice(contacts)
        kind = rng.choices(kinds, weights)[0]
        spoken = kind in ("call", "email")
        timed = kind in ("call", "meeting")
        when = now - timedelta(days=rng.randint(0, 180), hours=rng.randint(0, 10))
        lead = rng.choice(leads_by_contact.get(contact.id, [None]))
        rows.append(
            Activity(
                kind=kind,
                direction=rng.choice(("inbound", "outbound")) if spoken else None,
                summary=rng.choice(ACTIVITY_TEMPLATES[kind]),
                body=_maybe_note(rng),
                occurred_at=when,
                duration_min=rng.choice((5, 15, 30, 45, 60)) if timed else None,
                contact_id=contact.id,
                lead_id=lead.id if lead else None,
                user_id=contact.owner_id or rng.choice(team).id,
                created_at=when,
            )
        )
    session.add_all(rows)


def _maybe_note(rng: random.Random) -> str | None:
    return "Notes: " + rng.choice(ACTIVITY_TEMPLATES["note"]) if rng.random() < 0.3 else None


def _followups(
    session: Session,
    rng: random.Random,
    team: list[User],
    contacts: list[Contact],
    leads: list[Lead],
    now: datetime,
) -> None:
    zone = local_zone()
    today = now.astimezone(zone).date()
    rows = []
    for index in range(150):
        contact = rng.choice(contacts)
        if index < 25:  # overdue
            day, status = today - timedelta(days=rng.randint(1, 10)), "open"
        elif index < 45:  # due today
            day, status = today, "open"
        elif index < 70:  # done in the past
            day, status = today - timedelta(days=rng.randint(1, 60)), "done"
        else:
            day, status = today + timedelta(days=rng.randint(1, 30)), "open"
        due = datetime.combine(day, time(rng.choice((9, 10, 11, 14, 15, 16))), zone)
        open_leads = [lead for lead in leads if lead.contact_id == contact.id]
        rows.append(
            FollowUp(
                title=rng.choice(FOLLOWUP_TITLES),
                due_at=due,
                contact_id=contact.id,
                lead_id=open_leads[0].id if open_leads else None,
                owner_id=contact.owner_id or rng.choice(team).id,
                status=status,
                done_at=due + timedelta(hours=2) if status == "done" else None,
                reminded_at=due if status == "done" else None,
                created_at=due - timedelta(days=3),
                updated_at=due - timedelta(days=3),
            )
        )
    session.add_all(rows)
