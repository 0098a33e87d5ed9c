"""Seeded data files for the evaluation: a CSV of shoes and a two-sheet sales workbook."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd

BRANDS = ["Nike", "Adidas", "Asics", "Puma", "New Balance"]
CATEGORIES = ["running", "walking", "trail", "casual"]
REGIONS = ["North", "South", "East", "West"]


def shoes(seed: int = 7, rows: int = 400) -> pd.DataFrame:
    rng = random.Random(seed)
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


def sales(seed: int = 11, rows: int = 250) -> dict[str, pd.DataFrame]:
    rng = random.Random(seed)

    def quarter() -> pd.DataFrame:
        return pd.DataFrame(
            {
                "Region": [rng.choice(REGIONS) for _ in range(rows)],
                "Units": [rng.randint(1, 40) for _ in range(rows)],
                "Unit Price": [round(rng.uniform(5, 80), 2) for _ in range(rows)],
            }
        )

    return {"Q1": quarter(), "Q2": quarter()}


def write_all(folder: Path) -> dict[str, str]:
    """Write the files into `folder`; returns {name: relative path}."""
    folder.mkdir(parents=True, exist_ok=True)
    shoes().to_csv(folder / "shoes.csv", index=False)
    with pd.ExcelWriter(folder / "sales.xlsx") as writer:
        for sheet, frame in sales().items():
            frame.to_excel(writer, sheet_name=sheet, index=False)
    return {"shoes": "shoes.csv", "sales": "sales.xlsx"}
