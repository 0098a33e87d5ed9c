"""Questions with their true answers, computed here by pandas from the same files.

`expected` is a list of values that a correct answer states (numbers compared with a
tolerance, strings case-insensitively).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from . import datasets


@dataclass
class Question:
    id: str
    text: str
    attachments: list[str]
    expected: Callable[[], list[Any]]
    #: Code a correct analyst would run (used to script the Claude stand-in).
    reference_code: str


def _by_gender() -> list[Any]:
    counts = datasets.shoes()["Gender"].value_counts()
    return [int(counts["Men"]), int(counts["Women"])]


def _mean_women_price() -> list[Any]:
    frame = datasets.shoes()
    return [round(float(frame.loc[frame["Gender"] == "Women", "Price (USD)"].mean()), 2)]


def _top_brand() -> list[Any]:
    return [str(datasets.shoes()["Brand"].value_counts().idxmax())]


def _q2_revenue() -> list[Any]:
    q2 = datasets.sales()["Q2"]
    return [round(float((q2["Units"] * q2["Unit Price"]).sum()), 2)]


def _missing_ratings() -> list[Any]:
    return [int(datasets.shoes()["Rating"].isna().sum())]


QUESTIONS: list[Question] = [
    Question(
        "gender-counts",
        "How many shoes are for men and how many for women?",
        ["shoes.csv"],
        _by_gender,
        "import pandas as pd\nshoes = pd.read_csv('shoes.csv')\nprint(shoes['Gender'].value_counts())",
    ),
    Question(
        "women-mean-price",
        "What is the average price of women's shoes, in dollars?",
        ["shoes.csv"],
        _mean_women_price,
        "import pandas as pd\nshoes = pd.read_csv('shoes.csv')\n"
        "print(round(shoes.loc[shoes['Gender'] == 'Women', 'Price (USD)'].mean(), 2))",
    ),
    Question(
        "top-brand",
        "Which brand has the most products?",
        ["shoes.csv"],
        _top_brand,
        "import pandas as pd\nshoes = pd.read_csv('shoes.csv')\nprint(shoes['Brand'].value_counts().idxmax())",
    ),
    Question(
        "q2-revenue",
        "What was the total revenue (units times unit price) in Q2?",
        ["sales.xlsx"],
        _q2_revenue,
        "import pandas as pd\nq2 = pd.read_excel('sales.xlsx', sheet_name='Q2')\n"
        "print(round((q2['Units'] * q2['Unit Price']).sum(), 2))",
    ),
    Question(
        "missing-ratings",
        "How many shoes have no rating?",
        ["shoes.csv"],
        _missing_ratings,
        "import pandas as pd\nshoes = pd.read_csv('shoes.csv')\nprint(shoes['Rating'].isna().sum())",
    ),
]


def states(answer: str, value: Any) -> bool:
    """Does the answer text state `value`? Numbers may be formatted with separators."""
    text = answer.replace(",", "")
    if isinstance(value, str):
        return value.lower() in text.lower()
    import re

    for token in re.findall(r"-?\d+(?:\.\d+)?", text):
        if abs(float(token) - float(value)) <= 0.011:  # the expected values are rounded to cents
            return True
    return False


