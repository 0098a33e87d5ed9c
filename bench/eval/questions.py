"""The questions, their categories, and their true answers computed by pandas.

Every `expected` is a function over the generated truth (datasets.py), never a literal: it
returns the values a correct answer states (ints, floats compared within `tolerance`,
strings matched as words, dates in any common spelling). `code` is the cell a careful analyst
would run; it scripts the Claude stand-in, and tests/test_eval_runner.py runs every one of
them on the written files to prove the files carry the answers. `chart` names the chart kind
a charts question asks for; `naive_code` is a plausible first cell that fails on the messy
file (the stand-in's "fix" plan runs it first).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

import pandas as pd

from . import datasets as d

CATEGORIES = ("counting", "grouping", "joins", "time_series", "charts")


@dataclass(frozen=True)
class Question:
    id: str
    category: str
    files: tuple[str, ...]
    text: str
    expected: Callable[[], list[Any]]
    code: str
    tolerance: float = 0.01
    chart: str | None = None
    naive_code: str | None = None


# -- helpers over the truth ----------------------------------------------------------------


def _cents(value: float) -> float:
    return round(float(value), 2)


def _revenue(frame: pd.DataFrame) -> pd.Series:
    return frame["Units"] * frame["Unit Price"]


def _all_sales() -> pd.DataFrame:
    return pd.concat(d.sales().values(), ignore_index=True)


def _orders_with_customers() -> pd.DataFrame:
    """Each order once: customers de-duplicated before the join (they are listed twice)."""
    return d.orders().merge(d.customers().drop_duplicates("customer_id"), on="customer_id", how="inner")


def _top(series: pd.Series) -> list[Any]:
    """The label of the largest value and the value; a tie would make the question ambiguous."""
    if (series == series.max()).sum() != 1:
        raise ValueError(f"a tie for the top: {series.nlargest(2).to_dict()}")
    return [series.idxmax(), series.max()]


def _best_month(orders: pd.DataFrame) -> list[Any]:
    month = pd.to_datetime(orders["order_date"]).dt.month
    number, total = _top(orders.groupby(month)["amount"].sum().round(2))
    return [calendar.month_name[number], total]


def _plain(value: Any) -> Any:
    """numpy scalars and Timestamps as plain Python values."""
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "item"):
        return value.item()
    return value


# -- the reading lines each analyst cell starts with ---------------------------------------

SHOES = "import pandas as pd\nshoes = pd.read_csv('shoes.csv')\n"
SALES = (
    "import pandas as pd\nsheets = pd.read_excel('sales.xlsx', sheet_name=None)\n"
    "sales = pd.concat(sheets.values(), ignore_index=True)\n"
)
ORDERS = (
    "import pandas as pd\norders = pd.read_json('orders.json')\n"
    "orders['order_date'] = pd.to_datetime(orders['order_date'])\n"
)
JOINED = ORDERS + (
    "customers = pd.read_csv('customers.csv').drop_duplicates('customer_id')\n"
    "joined = orders.merge(customers, on='customer_id')\n"
)
SENSOR = (
    "import pandas as pd\nsensor = pd.read_csv('sensor.csv')\n"
    "sensor['timestamp'] = pd.to_datetime(sensor['timestamp'], format='%d-%b-%Y %H:%M')\n"
)
EVENTS = (
    "import pandas as pd\nevents = pd.read_json('events.jsonl', lines=True)\n"
    "events['ts'] = pd.to_datetime(events['ts'], utc=True)\n"
)
INVENTORY = "import pandas as pd\ninventory = pd.read_csv('inventory.csv', sep=';', decimal=',')\n"
SURVEY = (
    "import pandas as pd\nsurvey = pd.read_csv('survey.csv')\n"
    "survey['age'] = pd.to_numeric(survey['age'], errors='coerce')\n"
)
REPORT = "import pandas as pd\nreport = pd.read_excel('report.xlsx', header=2)\n"
PLT = "import matplotlib.pyplot as plt\n"


QUESTIONS: list[Question] = [
    # -- counting ------------------------------------------------------------------------
    Question(
        "shoes-women", "counting", ("shoes.csv",),
        "How many shoes in shoes.csv are for women?",
        lambda: [(d.shoes()["Gender"] == "Women").sum()],
        SHOES + "print((shoes['Gender'] == 'Women').sum())",
    ),
    Question(
        "shoes-no-rating", "counting", ("shoes.csv",),
        "How many shoes have no rating?",
        lambda: [d.shoes()["Rating"].isna().sum()],
        SHOES + "print(shoes['Rating'].isna().sum())",
    ),
    Question(
        "customers-distinct", "counting", ("customers.csv",),
        "How many distinct customers does customers.csv hold?",
        lambda: [d.customers()["customer_id"].nunique()],
        "import pandas as pd\ncustomers = pd.read_csv('customers.csv')\nprint(customers['customer_id'].nunique())",
    ),
    Question(
        "customers-listed-twice", "counting", ("customers.csv",),
        "How many customer ids appear more than once in customers.csv?",
        lambda: [(d.customers()["customer_id"].value_counts() > 1).sum()],
        "import pandas as pd\ncustomers = pd.read_csv('customers.csv')\n"
        "print((customers['customer_id'].value_counts() > 1).sum())",
    ),
    Question(
        "sensor-missing-temperature", "counting", ("sensor.csv",),
        "How many sensor readings have no temperature value?",
        lambda: [d.sensor()["temperature"].isna().sum()],
        SENSOR + "print(sensor['temperature'].isna().sum())",
    ),
    Question(
        "survey-no-age", "counting", ("survey.csv",),
        "How many survey respondents did not give their age as a number?",
        lambda: [d.survey()["age"].isna().sum()],
        SURVEY + "print(survey['age'].isna().sum())",
    ),
    Question(
        "events-purchases", "counting", ("events.jsonl",),
        "How many purchase events are in events.jsonl?",
        lambda: [(d.events()["event"] == "purchase").sum()],
        EVENTS + "print((events['event'] == 'purchase').sum())",
    ),
    Question(
        "events-buyers", "counting", ("events.jsonl",),
        "How many distinct users made at least one purchase?",
        lambda: [d.events().query("event == 'purchase'")["user_id"].nunique()],
        EVENTS + "print(events.loc[events['event'] == 'purchase', 'user_id'].nunique())",
    ),
    Question(
        "inventory-low-stock", "counting", ("inventory.csv",),
        "How many inventory rows have a quantity below 10?",
        lambda: [(d.inventory()["qty"] < 10).sum()],
        INVENTORY + "print((inventory['qty'] < 10).sum())",
    ),
    Question(
        "report-big-departments", "counting", ("report.xlsx",),
        "In report.xlsx, how many departments have more than 50 employees?",
        lambda: [(d.report()["Employees"] > 50).sum()],
        REPORT + "print((report['Employees'] > 50).sum())",
    ),
    # -- grouping ------------------------------------------------------------------------
    Question(
        "shoes-women-mean-price", "grouping", ("shoes.csv",),
        "What is the average price of women's shoes, in dollars to the cent?",
        lambda: [_cents(d.shoes().query("Gender == 'Women'")["Price (USD)"].mean())],
        SHOES + "print(round(shoes.loc[shoes['Gender'] == 'Women', 'Price (USD)'].mean(), 2))",
    ),
    Question(
        "shoes-top-brand", "grouping", ("shoes.csv",),
        "Which brand has the most products in shoes.csv?",
        lambda: _top(d.shoes()["Brand"].value_counts())[:1],
        SHOES + "print(shoes['Brand'].value_counts().idxmax())",
    ),
    Question(
        "shoes-priciest-category", "grouping", ("shoes.csv",),
        "Which shoe category has the highest average price, and what is that average, to the cent?",
        lambda: _top(d.shoes().groupby("Category")["Price (USD)"].mean().round(2)),
        SHOES + "means = shoes.groupby('Category')['Price (USD)'].mean().round(2)\nprint(means.idxmax(), means.max())",
    ),
    Question(
        "sales-q2-revenue", "grouping", ("sales.xlsx",),
        "What was the total revenue (units times unit price) in Q2, to the cent?",
        lambda: [_cents(_revenue(d.sales()["Q2"]).sum())],
        "import pandas as pd\nq2 = pd.read_excel('sales.xlsx', sheet_name='Q2')\n"
        "print(round((q2['Units'] * q2['Unit Price']).sum(), 2))",
    ),
    Question(
        "sales-units-all-quarters", "grouping", ("sales.xlsx",),
        "How many units were sold in total across all the quarters in sales.xlsx?",
        lambda: [_all_sales()["Units"].sum()],
        SALES + "print(sales['Units'].sum())",
    ),
    Question(
        "sales-top-region", "grouping", ("sales.xlsx",),
        "Which region had the highest revenue (units times unit price) over all quarters, and how much was it, to the cent?",
        lambda: _top(_all_sales().assign(r=_revenue).groupby("Region")["r"].sum().round(2)),
        SALES + "by_region = (sales['Units'] * sales['Unit Price']).groupby(sales['Region']).sum().round(2)\n"
        "print(by_region.idxmax(), by_region.max())",
    ),
    Question(
        "inventory-value", "grouping", ("inventory.csv",),
        "What is the total value of the inventory (quantity times unit cost), to the cent?",
        lambda: [_cents((d.inventory()["qty"] * d.inventory()["unit_cost"]).sum())],
        INVENTORY + "print(round((inventory['qty'] * inventory['unit_cost']).sum(), 2))",
        naive_code="import pandas as pd\ninventory = pd.read_csv('inventory.csv')\n"
        "print((inventory['qty'] * inventory['unit_cost']).sum())",
    ),
    Question(
        "inventory-top-warehouse", "grouping", ("inventory.csv",),
        "Which warehouse holds the most units, and how many?",
        lambda: _top(d.inventory().groupby("warehouse")["qty"].sum()),
        INVENTORY + "units = inventory.groupby('warehouse')['qty'].sum()\nprint(units.idxmax(), units.max())",
    ),
    Question(
        "survey-sales-satisfaction", "grouping", ("survey.csv",),
        "What is the average satisfaction score of respondents in the Sales department, ignoring "
        "missing scores? Round to two decimals.",
        lambda: [_cents(d.survey().query("department == 'Sales'")["satisfaction"].mean())],
        SURVEY + "print(round(survey.loc[survey['department'] == 'Sales', 'satisfaction'].mean(), 2))",
    ),
    Question(
        "report-total-budget", "grouping", ("report.xlsx",),
        "What is the total budget of all departments in report.xlsx?",
        lambda: [d.report()["Budget"].sum()],
        REPORT + "print(report['Budget'].sum())",
        naive_code="import pandas as pd\nreport = pd.read_excel('report.xlsx')\nprint(report['Budget'].sum())",
    ),
    # -- joins ---------------------------------------------------------------------------
    Question(
        "orders-germany-total", "joins", ("orders.json", "customers.csv"),
        "What is the total amount of the orders placed by customers in Germany, counting each "
        "order once, to the cent?",
        lambda: [_cents(_orders_with_customers().query("country == 'Germany'")["amount"].sum())],
        JOINED + "print(round(joined.loc[joined['country'] == 'Germany', 'amount'].sum(), 2))",
    ),
    Question(
        "orders-top-country", "joins", ("orders.json", "customers.csv"),
        "Which customer country placed the most orders (each order counted once), and how many?",
        lambda: _top(_orders_with_customers()["country"].value_counts()),
        JOINED + "counts = joined['country'].value_counts()\nprint(counts.idxmax(), counts.max())",
    ),
    Question(
        "orders-enterprise-mean", "joins", ("orders.json", "customers.csv"),
        "What is the average order amount of customers in the Enterprise segment, to the cent?",
        lambda: [_cents(_orders_with_customers().query("segment == 'Enterprise'")["amount"].mean())],
        JOINED + "print(round(joined.loc[joined['segment'] == 'Enterprise', 'amount'].mean(), 2))",
    ),
    Question(
        "orders-unknown-customer", "joins", ("orders.json", "customers.csv"),
        "How many orders have a customer_id that does not appear in customers.csv?",
        lambda: [(~d.orders()["customer_id"].isin(d.customers()["customer_id"])).sum()],
        ORDERS + "customers = pd.read_csv('customers.csv')\n"
        "print((~orders['customer_id'].isin(customers['customer_id'])).sum())",
    ),
    Question(
        "customers-without-orders", "joins", ("orders.json", "customers.csv"),
        "How many customers in customers.csv have never placed an order?",
        lambda: [len(set(d.customers()["customer_id"]) - set(d.orders()["customer_id"]))],
        ORDERS + "customers = pd.read_csv('customers.csv')\n"
        "print(len(set(customers['customer_id']) - set(orders['customer_id'])))",
    ),
    Question(
        "orders-top-customer", "joins", ("orders.json", "customers.csv"),
        "Which customer has the highest total order amount? Give the customer_id and the total, to the cent.",
        lambda: _top(_orders_with_customers().groupby("customer_id")["amount"].sum().round(2)),
        JOINED + "totals = joined.groupby('customer_id')['amount'].sum().round(2)\nprint(totals.idxmax(), totals.max())",
    ),
    Question(
        "sales-product-growth", "joins", ("sales.xlsx",),
        "In sales.xlsx, which product's units grew the most from Q1 to Q2, and by how many units?",
        lambda: _top(
            d.sales()["Q2"].groupby("Product")["Units"].sum() - d.sales()["Q1"].groupby("Product")["Units"].sum()
        ),
        "import pandas as pd\nq1 = pd.read_excel('sales.xlsx', sheet_name='Q1')\nq2 = pd.read_excel('sales.xlsx', sheet_name='Q2')\n"
        "growth = q2.groupby('Product')['Units'].sum() - q1.groupby('Product')['Units'].sum()\n"
        "print(growth.idxmax(), growth.max())",
    ),
    Question(
        "events-france-purchases", "joins", ("events.jsonl", "customers.csv"),
        "How many purchase events came from customers in France? (user_id is the customer_id.)",
        lambda: [
            d.events()
            .query("event == 'purchase'")
            .merge(d.customers().drop_duplicates("customer_id"), left_on="user_id", right_on="customer_id")
            .query("country == 'France'")
            .shape[0]
        ],
        EVENTS + "customers = pd.read_csv('customers.csv').drop_duplicates('customer_id')\n"
        "bought = events[events['event'] == 'purchase'].merge(customers, left_on='user_id', right_on='customer_id')\n"
        "print((bought['country'] == 'France').sum())",
    ),
    # -- time series ---------------------------------------------------------------------
    Question(
        "sensor-warmest-day", "time_series", ("sensor.csv",),
        "Which day had the highest average temperature (both sensors together), and what was it, to one decimal?",
        lambda: _top(d.sensor().groupby(d.sensor()["timestamp"].dt.date)["temperature"].mean().round(1)),
        SENSOR + "daily = sensor.groupby(sensor['timestamp'].dt.date)['temperature'].mean().round(1)\n"
        "print(daily.idxmax(), daily.max())",
        tolerance=0.05,
    ),
    Question(
        "sensor-week-humidity", "time_series", ("sensor.csv",),
        "What was sensor S2's average humidity from 4 March to 10 March 2024, both days included, to two decimals?",
        lambda: [
            _cents(
                d.sensor()
                .query("sensor == 'S2' and '2024-03-04' <= timestamp < '2024-03-11'")["humidity"]
                .mean()
            )
        ],
        SENSOR + "week = sensor[(sensor['sensor'] == 'S2') & (sensor['timestamp'] >= '2024-03-04') "
        "& (sensor['timestamp'] < '2024-03-11')]\nprint(round(week['humidity'].mean(), 2))",
    ),
    Question(
        "sensor-longest-gap", "time_series", ("sensor.csv",),
        "What is the longest gap between two consecutive readings of sensor S1, in hours?",
        lambda: [
            d.sensor().query("sensor == 'S1'")["timestamp"].diff().max() / pd.Timedelta(hours=1)
        ],
        SENSOR + "s1 = sensor[sensor['sensor'] == 'S1'].sort_values('timestamp')\n"
        "print(s1['timestamp'].diff().max() / pd.Timedelta(hours=1))",
        naive_code="import pandas as pd\nsensor = pd.read_csv('sensor.csv')\n"
        "print(sensor.loc[sensor['sensor'] == 'S1', 'timestamp'].diff().max())",
    ),
    Question(
        "sensor-hot-days", "time_series", ("sensor.csv",),
        "On how many days did sensor S2 record a temperature above 25 degrees?",
        lambda: [d.sensor().query("sensor == 'S2' and temperature > 25")["timestamp"].dt.date.nunique()],
        SENSOR + "hot = sensor[(sensor['sensor'] == 'S2') & (sensor['temperature'] > 25)]\n"
        "print(hot['timestamp'].dt.date.nunique())",
    ),
    Question(
        "orders-best-month", "time_series", ("orders.json",),
        "Which month of 2024 had the highest total order amount, and what was that total, to the cent?",
        lambda: _best_month(d.orders()),
        ORDERS + "monthly = orders.groupby(orders['order_date'].dt.month_name())['amount'].sum().round(2)\n"
        "print(monthly.idxmax(), monthly.max())",
    ),
    Question(
        "orders-busiest-weekday", "time_series", ("orders.json",),
        "On which day of the week were the most orders placed?",
        lambda: _top(pd.to_datetime(d.orders()["order_date"]).dt.day_name().value_counts())[:1],
        ORDERS + "print(orders['order_date'].dt.day_name().value_counts().idxmax())",
    ),
    Question(
        "events-busiest-hour", "time_series", ("events.jsonl",),
        "At which hour of the day (UTC, 0 to 23) do the most events happen?",
        lambda: _top(d.events()["ts"].dt.hour.value_counts())[:1],
        EVENTS + "print(events['ts'].dt.hour.value_counts().idxmax())",
    ),
    Question(
        "events-peak-purchase-day", "time_series", ("events.jsonl",),
        "On which date was the total value of purchases highest, and what was that total, to the cent?",
        lambda: _top(d.events().groupby(d.events()["ts"].dt.date)["value"].sum().round(2)),
        EVENTS + "daily = events.groupby(events['ts'].dt.date)['value'].sum().round(2)\n"
        "print(daily.idxmax(), daily.max())",
    ),
    # -- charts (the chart must be drawn, and be of the kind asked for) ---------------------
    Question(
        "shoes-category-pie", "charts", ("shoes.csv",),
        "Draw a pie chart of the number of shoes per category. What share of the shoes does the "
        "largest category have, in percent to one decimal?",
        lambda: [round(d.shoes()["Category"].value_counts(normalize=True).max() * 100, 1)],
        SHOES + PLT + "counts = shoes['Category'].value_counts()\ncounts.plot.pie(autopct='%1.1f%%')\nplt.show()\n"
        "print(round(counts.max() / counts.sum() * 100, 1))",
        tolerance=0.05,
        chart="pie",
    ),
    Question(
        "shoes-brand-price-bar", "charts", ("shoes.csv",),
        "Draw a bar chart of the average price per brand. Which brand is the most expensive on average?",
        lambda: _top(d.shoes().groupby("Brand")["Price (USD)"].mean())[:1],
        SHOES + PLT + "means = shoes.groupby('Brand')['Price (USD)'].mean()\nmeans.plot.bar()\nplt.show()\nprint(means.idxmax())",
        chart="bar",
    ),
    Question(
        "sensor-daily-line", "charts", ("sensor.csv",),
        "Plot the daily average temperature of sensor S1 as a line chart. What was the lowest daily "
        "average, to one decimal?",
        lambda: [
            round(d.sensor().query("sensor == 'S1'").groupby(d.sensor()["timestamp"].dt.date)["temperature"].mean().min(), 1)
        ],
        SENSOR + PLT + "s1 = sensor[sensor['sensor'] == 'S1']\ndaily = s1.groupby(s1['timestamp'].dt.date)['temperature'].mean()\n"
        "daily.plot()\nplt.show()\nprint(round(daily.min(), 1))",
        tolerance=0.05,
        chart="line",
    ),
    Question(
        "shoes-price-hist", "charts", ("shoes.csv",),
        "Draw a histogram of the shoe prices. What is the median price, to the cent?",
        lambda: [_cents(d.shoes()["Price (USD)"].median())],
        SHOES + PLT + "shoes['Price (USD)'].plot.hist(bins=20)\nplt.show()\nprint(round(shoes['Price (USD)'].median(), 2))",
        chart="hist",
    ),
    Question(
        "shoes-price-rating-scatter", "charts", ("shoes.csv",),
        "Draw a scatter plot of price against rating. How many shoes have a rating to plot?",
        lambda: [d.shoes()["Rating"].notna().sum()],
        SHOES + PLT + "shoes.plot.scatter(x='Price (USD)', y='Rating')\nplt.show()\nprint(shoes['Rating'].notna().sum())",
        chart="scatter",
    ),
    Question(
        "sales-region-bar", "charts", ("sales.xlsx",),
        "Draw a bar chart of the total revenue (units times unit price) per region over all quarters.",
        lambda: [],
        SALES + PLT + "(sales['Units'] * sales['Unit Price']).groupby(sales['Region']).sum().plot.bar()\nplt.show()",
        chart="bar",
    ),
    Question(
        "orders-monthly-line", "charts", ("orders.json",),
        "Draw a line chart of the total order amount per month.",
        lambda: [],
        ORDERS + PLT + "orders.groupby(orders['order_date'].dt.to_period('M'))['amount'].sum().plot()\nplt.show()",
        chart="line",
    ),
]


def expected_values(question: Question) -> list[Any]:
    return [_plain(v) for v in question.expected()]


# -- does an answer state a value? ---------------------------------------------------------

#: 1306, 1,306, 1 306 (no-break or thin space), 1306.5, -3.25; a grouped number is one number.
_NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:[,\u00a0\u202f\u2009]\d{3})+|\d+)(?:\.\d+)?")


def numbers_in(text: str) -> list[float]:
    return [float(re.sub(r"[,\u00a0\u202f\u2009]", "", n)) for n in _NUMBER.findall(text)]


def _date_spellings(day: date) -> list[str]:
    month, short = calendar.month_name[day.month], calendar.month_abbr[day.month]
    return [
        rf"{day.isoformat()}",
        rf"{month}\s+{day.day}(?!\d)",
        rf"(?<!\d){day.day}(?:st|nd|rd|th)?\s+(?:of\s+)?{month}",
        rf"{short}\.?\s+{day.day}(?!\d)",
        rf"(?<!\d){day.day}\s+{short}\b",
    ]


def states(answer: str, value: Any, tolerance: float = 0.01) -> bool:
    """Does the answer text state `value`? Numbers within `tolerance`, words and dates as written."""
    if isinstance(value, date):
        return any(re.search(p, answer, re.IGNORECASE) for p in _date_spellings(value))
    if isinstance(value, str):
        return re.search(rf"(?<!\w){re.escape(value)}(?!\w)", answer, re.IGNORECASE) is not None
    # a hair above the tolerance, so 0.1 + 0.2 style float noise never fails a right answer
    return any(abs(n - float(value)) <= tolerance + 1e-9 for n in numbers_in(answer))


def spoken(value: Any) -> str:
    """How the scripted stand-in states a value: separators and long dates, to exercise `states`."""
    if isinstance(value, date):
        return f"{calendar.month_name[value.month]} {value.day}, {value.year}"
    if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) >= 1000:
        return f"{value:,}"
    return str(value)


#: Plotting calls that tell a chart's kind, read from the code of the turn's cells.
CHART_KINDS = {
    "pie": r"\.pie\(|kind\s*=\s*['\"]pie",
    "bar": r"\.barh?\(|kind\s*=\s*['\"]barh?['\"]|barplot\(|countplot\(",
    "hist": r"\.hist\(|kind\s*=\s*['\"]hist|histplot\(|histogram\(",
    "scatter": r"\.scatter\(|kind\s*=\s*['\"]scatter|scatterplot\(",
    "line": r"\.line\(|kind\s*=\s*['\"]line|lineplot\(|\.plot\((?![^)]*kind\s*=)",
}


def chart_kinds(code: str) -> set[str]:
    return {kind for kind, pattern in CHART_KINDS.items() if re.search(pattern, code)}


def by_id(ids: list[str] | None = None) -> list[Question]:
    if not ids:
        return list(QUESTIONS)
    known = {q.id: q for q in QUESTIONS}
    missing = [i for i in ids if i not in known]
    if missing:
        raise KeyError(f"unknown question ids: {', '.join(missing)}")
    return [known[i] for i in ids]
