"""Seeded data files for the evaluation, written at run time (never committed as data).

Each generator returns the *truth*: the frame(s) as generated, before any file format makes
them messy. `write_all` writes the files the analyst gets, messy on purpose:

| file | format | what makes it awkward |
| --- | --- | --- |
| shoes.csv | CSV | missing ratings, a column name with spaces and a unit |
| sales.xlsx | XLSX, sheets Q1 Q2 Q3 | three sheets to combine |
| orders.json | JSON array of records | dates as ISO text; some customer ids unknown to customers.csv |
| customers.csv | CSV | duplicate keys: some customers are listed twice (identical rows) |
| sensor.csv | CSV | timestamps as text (`01-Mar-2024 14:00`), gaps, missing values as `` and `NA` |
| report.xlsx | XLSX | a title and a blank row above the header |
| events.jsonl | JSON Lines | UTC timestamps as text; `value` only on purchases |
| inventory.csv | CSV with `;` | decimal commas (`12,50`) |
| survey.csv | CSV | free text with commas and quotes; ages missing as ``, `N/A`, `-`, `prefer not to say` |

Expected answers (questions.py) are computed from these frames, so they never depend on how
a file is parsed; the fast test proves the files read back to the same answers.
"""

from __future__ import annotations

import functools
import json
import random
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

BRANDS = ["Nike", "Adidas", "Asics", "Puma", "New Balance"]
CATEGORIES = ["running", "walking", "trail", "casual"]
REGIONS = ["North", "South", "East", "West"]
PRODUCTS = ["Widget", "Gadget", "Gizmo", "Doohickey", "Sprocket"]
COUNTRIES = ["Germany", "France", "Spain", "Italy", "Netherlands"]
SEGMENTS = ["Consumer", "SMB", "Enterprise"]
FIRST = ["Ada", "Ben", "Cleo", "Dan", "Eva", "Finn", "Gia", "Hugo", "Ines", "Jon", "Kai", "Lena"]
LAST = ["Meyer", "Dupont", "Garcia", "Rossi", "Visser", "Smith", "Novak", "Berg"]
DEPARTMENTS = ["Sales", "Engineering", "Support", "Marketing", "Finance", "Legal", "Operations", "HR"]
WAREHOUSES = ["Lyon", "Porto", "Gdansk", "Ghent"]
MISSING_AGE = ["", "N/A", "-", "prefer not to say"]
COMMENTS = [
    "Great team, but the coffee machine is broken",
    'Manager said "we will see" again',
    "Too many meetings; not enough focus time",
    "Fine",
    "Onboarding was slow, documentation, tooling and access all late",
    "Would recommend",
    "",
]


def _cached(function):
    """Generate once per process; hand out copies so no caller can change the truth."""
    cached = functools.lru_cache(maxsize=None)(function)

    @functools.wraps(function)
    def copy():
        value = cached()
        if isinstance(value, dict):
            return {k: v.copy() for k, v in value.items()}
        return value.copy()

    return copy


@_cached
def shoes() -> pd.DataFrame:
    rng, rows = random.Random(7), 400
    return pd.DataFrame(
        {
            "Product ID": [f"P{i:04d}" for i in range(rows)],
            "Brand": [rng.choice(BRANDS) for _ in range(rows)],
            "Gender": [rng.choice(["Men", "Women", "Unisex"]) for _ in range(rows)],
            "Category": [rng.choice(CATEGORIES) for _ in range(rows)],
            "Price (USD)": [round(rng.uniform(40, 220), 2) for _ in range(rows)],
            "Rating": [rng.choice([None, 3.5, 4.0, 4.5, 5.0]) for _ in range(rows)],
        }
    )


@_cached
def sales() -> dict[str, pd.DataFrame]:
    rng, rows = random.Random(11), 250

    def quarter() -> pd.DataFrame:
        return pd.DataFrame(
            {
                "Region": [rng.choice(REGIONS) for _ in range(rows)],
                "Product": [rng.choice(PRODUCTS) for _ in range(rows)],
                "Units": [rng.randint(1, 40) for _ in range(rows)],
                "Unit Price": [round(rng.uniform(5, 80), 2) for _ in range(rows)],
            }
        )

    return {"Q1": quarter(), "Q2": quarter(), "Q3": quarter()}


@_cached
def customers() -> pd.DataFrame:
    """135 customers (a few never order); 9 of them listed twice (identical rows), shuffled."""
    rng = random.Random(13)
    rows = [
        {
            "customer_id": 1000 + i,
            "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "country": rng.choice(COUNTRIES),
            "segment": rng.choice(SEGMENTS),
        }
        for i in range(135)
    ]
    rows += [dict(r) for r in rng.sample(rows, 9)]
    rng.shuffle(rows)
    return pd.DataFrame(rows)


@_cached
def orders() -> pd.DataFrame:
    """600 orders in 2024; a few from customer ids customers.csv does not know."""
    rng = random.Random(17)
    start = datetime(2024, 1, 1)
    rows = []
    for i in range(600):
        known = rng.random() > 0.03
        rows.append(
            {
                "order_id": f"O{5000 + i}",
                "customer_id": rng.randint(1000, 1119) if known else rng.randint(2000, 2100),
                "order_date": (start + timedelta(days=rng.randint(0, 365))).strftime("%Y-%m-%d"),
                "amount": round(rng.uniform(10, 900), 2),
                "status": rng.choice(["shipped", "shipped", "shipped", "returned", "pending"]),
            }
        )
    return pd.DataFrame(rows)


@_cached
def sensor() -> pd.DataFrame:
    """Hourly readings of two sensors over March 2024, some hours lost, some values missing."""
    rng = random.Random(19)
    rows = []
    for sensor_id in ("S1", "S2"):
        for hour in range(31 * 24):
            if rng.random() < 0.04:  # a lost reading: a gap in the series
                continue
            ts = datetime(2024, 3, 1) + timedelta(hours=hour)
            day_curve = 6 * (1 - abs((ts.hour - 14) / 12))
            temp = round(12 + ts.day * 0.35 + day_curve + rng.gauss(0, 1.5), 1)
            rows.append(
                {
                    "timestamp": ts,
                    "sensor": sensor_id,
                    "temperature": None if rng.random() < 0.05 else temp,
                    "humidity": None if rng.random() < 0.03 else round(rng.uniform(30, 90), 1),
                }
            )
    frame = pd.DataFrame(rows).sort_values(["timestamp", "sensor"], kind="stable").reset_index(drop=True)
    return frame


@_cached
def report() -> pd.DataFrame:
    rng = random.Random(23)
    return pd.DataFrame(
        {
            "Department": DEPARTMENTS,
            "Employees": [rng.randint(8, 140) for _ in DEPARTMENTS],
            "Budget": [rng.randint(200, 5000) * 1000 for _ in DEPARTMENTS],
            "Location": [rng.choice(["Berlin", "Paris", "Remote"]) for _ in DEPARTMENTS],
        }
    )


@_cached
def events() -> pd.DataFrame:
    rng = random.Random(29)
    start = datetime(2024, 3, 1)
    rows = []
    for _ in range(1500):
        kind = rng.choices(["view", "click", "purchase"], weights=[6, 3, 1])[0]
        ts = start + timedelta(seconds=rng.randint(0, 14 * 86400 - 1))
        rows.append(
            {
                "user_id": rng.randint(1000, 1119),
                "event": kind,
                "ts": ts,
                "value": round(rng.uniform(5, 300), 2) if kind == "purchase" else None,
            }
        )
    return pd.DataFrame(rows).sort_values("ts", kind="stable").reset_index(drop=True)


@_cached
def inventory() -> pd.DataFrame:
    rng = random.Random(31)
    rows = [
        {
            "sku": f"SKU-{i:03d}",
            "warehouse": rng.choice(WAREHOUSES),
            "qty": rng.randint(0, 120),
            "unit_cost": round(rng.uniform(0.5, 60), 2),
        }
        for i in range(300)
    ]
    return pd.DataFrame(rows)


@_cached
def survey() -> pd.DataFrame:
    """`age` None where the respondent gave none (the file says so in several ways)."""
    rng = random.Random(37)
    rows = [
        {
            "respondent": i + 1,
            "department": rng.choice(DEPARTMENTS[:5]),
            "age": None if rng.random() < 0.12 else rng.randint(21, 64),
            "satisfaction": None if rng.random() < 0.08 else rng.randint(1, 5),
            "comment": rng.choice(COMMENTS),
        }
        for i in range(350)
    ]
    return pd.DataFrame(rows)


#: file name -> dataset name, in the order the files are written.
FILES = {
    "shoes.csv": "shoes",
    "sales.xlsx": "sales",
    "orders.json": "orders",
    "customers.csv": "customers",
    "sensor.csv": "sensor",
    "report.xlsx": "report",
    "events.jsonl": "events",
    "inventory.csv": "inventory",
    "survey.csv": "survey",
}


def write_all(folder: Path) -> dict[str, str]:
    """Write every file into `folder`; returns {dataset name: file name}."""
    folder.mkdir(parents=True, exist_ok=True)
    shoes().to_csv(folder / "shoes.csv", index=False)
    with pd.ExcelWriter(folder / "sales.xlsx") as writer:
        for sheet, frame in sales().items():
            frame.to_excel(writer, sheet_name=sheet, index=False)
    (folder / "orders.json").write_text(json.dumps(orders().to_dict(orient="records"), indent=1))
    customers().to_csv(folder / "customers.csv", index=False)

    readings = sensor()
    readings["timestamp"] = readings["timestamp"].dt.strftime("%d-%b-%Y %H:%M")
    rng = random.Random(41)  # which missing temperature is written "" and which "NA"
    readings["temperature"] = [
        (rng.choice(["", "NA"]) if pd.isna(t) else f"{t:.1f}") for t in readings["temperature"]
    ]
    readings.to_csv(folder / "sensor.csv", index=False, na_rep="")

    with pd.ExcelWriter(folder / "report.xlsx") as writer:
        report().to_excel(writer, sheet_name="Headcount", index=False, startrow=2)
        writer.sheets["Headcount"]["A1"] = "Headcount and budget by department, 2024 (EUR)"

    with (folder / "events.jsonl").open("w") as out:
        for row in events().to_dict(orient="records"):
            record = {"user_id": row["user_id"], "event": row["event"], "ts": row["ts"].strftime("%Y-%m-%dT%H:%M:%SZ")}
            if row["event"] == "purchase":
                record["value"] = row["value"]
            out.write(json.dumps(record) + "\n")

    stock = inventory()
    stock["unit_cost"] = [f"{c:.2f}".replace(".", ",") for c in stock["unit_cost"]]
    stock.to_csv(folder / "inventory.csv", index=False, sep=";")

    answers = survey()
    rng = random.Random(43)
    answers["age"] = [rng.choice(MISSING_AGE) if pd.isna(a) else str(int(a)) for a in answers["age"]]
    answers["satisfaction"] = ["NA" if pd.isna(s) else str(int(s)) for s in answers["satisfaction"]]
    answers.to_csv(folder / "survey.csv", index=False)
    return {name: file for file, name in FILES.items()}
