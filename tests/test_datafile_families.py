"""The read hint Claude is given, executed with pandas on files of each odd family.

Each test builds real files of one kind (text that turns non-UTF-8 late, mixed line endings,
whitespace-only lines, workbooks with values far out or a title above the table), runs the
hint the prompt gives (`read_hint`) with pandas, and compares what pandas returns with what
the summary says: rows, columns, names, and no warning in the notebook.
"""

import contextlib
import io
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from jupyter_nbchat.datafiles import delimited, inspect_file, prompt_text, tasks
from jupyter_nbchat.datafiles.detect import Encoding
from jupyter_nbchat.datafiles.prompt import read_hint
from jupyter_nbchat.execution import introspection
from jupyter_nbchat.execution.introspection import describe_variables

import data_factory as make

MB = 1 << 20


@pytest.fixture(autouse=True)
def in_process():
    tasks.disable()


def inspect(path, level="headers"):
    return inspect_file(str(path), path.name, level)


def run_hint(summary, path):
    """The hint's pandas call, as the generated code would run it: (frame, warnings)."""
    hint = read_hint(summary, str(path))
    assert hint and hint.startswith("pd.read_"), hint
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = eval(hint, {"pd": pd})  # noqa: S307 - our own hint, on our own test file
    return frame, [f"{w.category.__name__}: {w.message}" for w in caught]


def only_table(summary):
    assert len(summary.tables) == 1
    return summary.tables[0]


def assert_hint_reads_as_summarised(summary, path):
    frame, caught = run_hint(summary, path)
    table = only_table(summary)
    assert caught == []
    assert (table.row_count, table.column_count) == frame.shape
    assert table.columns == [str(c) for c in frame.columns]
    return frame


# --- 1. the encoding of the whole file, not of its first megabyte --------------------------


def ascii_rows(target_bytes: int) -> bytes:
    rows = []
    size = 0
    i = 0
    while size < target_bytes:
        row = b"%d,plain ascii text,%d\n" % (i, i * 7)
        rows.append(row)
        size += len(row)
        i += 1
    return b"".join(rows)


@pytest.mark.parametrize("late, codec", [
    (b"1,caf\xe9 cr\xe8me,2\n", "cp1252"),  # Windows-1252 / Latin-1 accents, 2 MB in
    (b"1,\x80 price \x9c,2\n", "cp1252"),  # bytes only Windows-1252 defines (euro, oe)
    (b"1,odd \x81 byte \xe9,2\n", "latin-1"),  # 0x81 is undefined in Windows-1252
])
def test_a_file_that_turns_single_byte_after_two_megabytes_reads_with_its_hint(tmp_path, late, codec):
    body = ascii_rows(2 * MB)
    path = make.write_bytes(tmp_path / "late.csv", b"id,name,value\n" + body + late + b"5,end,6\n")
    summary = inspect(path)
    assert summary.encoding == codec
    frame = assert_hint_reads_as_summarised(summary, path)
    assert any(f"encoding='{codec}'" in n for n in summary.notes)
    assert late.split(b",")[1].decode(codec) in set(frame["name"])


def test_utf8_text_with_one_bad_byte_later_keeps_its_names_and_reads(tmp_path):
    header = "id,prénom,ville\n".encode()
    body = b"".join(b"%d,Ana\xc3\xafs,K\xc3\xb6ln\n" % i for i in range(120_000))  # valid UTF-8, > 1 MB
    path = make.write_bytes(tmp_path / "mixed.csv", header + body + b"7,Jos\xe9,Lyon\n")
    summary = inspect(path)
    assert summary.encoding == "utf-8"
    assert 'encoding_errors="replace"' in read_hint(summary, str(path))
    frame = assert_hint_reads_as_summarised(summary, path)
    assert list(frame.columns) == ["id", "prénom", "ville"] and frame["prénom"].iloc[0] == "Anaïs"
    # the same file without the bad byte keeps its plain hint
    clean = make.write_bytes(tmp_path / "clean.csv", header + body)
    summary = inspect(clean)
    assert summary.encoding == "utf-8" and summary.notes == []
    assert read_hint(summary, "clean.csv") == 'pd.read_csv("clean.csv")'


def test_cp1252_head_with_an_undefined_byte_later_becomes_latin1(tmp_path):
    head = "Stadt;Preis;Menge\nZürich;12;1\n".encode("cp1252")
    path = make.write_bytes(tmp_path / "eu.csv", head + ascii_rows(2 * MB).replace(b",", b";") + b"X\x8d;1;2\n")
    summary = inspect(path)
    assert summary.encoding == "latin-1"
    assert_hint_reads_as_summarised(summary, path)


# --- 2. line endings and whitespace-only lines, counted as pandas counts ------------------


MIXES = {
    "lone cr inside an lf file": "a,b\n1,2\n3,4\r5,6\n7,8\n",
    "all three": "a,b\r\n1,2\n3,4\r5,6\r\n\r7,8\r9,10\n",
    "cr file with one lf": "a,b\r1,2\r3,4\n5,6\r",
    "spaces line in the middle": "a,b\n1,2\n   \n3,4\n",
    "tabs and spaces in the middle, crlf": "a,b\r\n1,2\r\n \t \r\n3,4\r\n",
    "spaces line at the end": "a,b\n1,2\n3,4\n  \n",
    "spaces at the end, no newline": "a,b\n1,2\n3,4\n \t",
    "whitespace at the start": "  \na,b\n1,2\n",
    "tab-separated: a tab line is a row": "a\tb\n1\t2\n\t\n  \n3\t4\n",
}


@pytest.mark.parametrize("name", list(MIXES))
def test_rows_are_counted_as_pandas_counts_them(tmp_path, name):
    text = MIXES[name]
    path = make.write_bytes(tmp_path / ("t.tsv" if "tab-separated" in name else "t.csv"), text.encode())
    summary = inspect(path)
    assert_hint_reads_as_summarised(summary, path)


@pytest.mark.parametrize("where", ["middle", "end"])
def test_odd_lines_far_into_a_large_file(tmp_path, where):
    """Past the head the encoding and dialect come from, and across the scan's blocks."""
    body = ascii_rows(3 * MB)
    odd = b"   \n7,x\r8,y\r\n \t \r\n"
    data = b"id,name,value\n" + (body + odd + body if where == "middle" else body + odd + b"  ")
    path = make.write_bytes(tmp_path / "big.csv", data)
    summary = inspect(path)
    assert_hint_reads_as_summarised(summary, path)


def test_mixed_files_against_pandas_with_lines_on_block_edges(tmp_path, monkeypatch):
    monkeypatch.setattr(delimited, "SUB", 64)
    monkeypatch.setattr(delimited, "BLOCK", 128)
    rng = np.random.default_rng(11)
    for trial in range(150):
        delim = "\t" if trial % 4 == 0 else ","
        pieces = ["a", "b c", f"x{delim}y", 'q"q', "line\nbreak", "", "1.5", "z\r\nw", "  ", "r\rcr"]
        ends = [["\n", "\r\n", "\r"], ["\n"], ["\r\n"], ["\r"], ["\n", "\r\n"]][trial % 5]
        lines = [delim.join(["h1", "h2", "h3"])]
        for _ in range(int(rng.integers(0, 40))):
            r = rng.random()
            if r < 0.08:
                lines.append("")
            elif r < 0.16:
                lines.append(str(rng.choice(["  ", "\t", " \t ", " " * 70, "\t" * 3])))
            else:
                lines.append(delim.join(
                    '"' + p.replace('"', '""') + '"' if any(ch in p for ch in delim + '"\n\r') or rng.random() < 0.3 else p
                    for p in rng.choice(pieces, 3)
                ))
        text = "".join(line + str(rng.choice(ends)) for line in lines)
        if rng.random() < 0.3:
            text += str(rng.choice(["  ", f"x{delim}y", " \t"]))
        path = make.write_bytes(tmp_path / "fuzz.csv", text.encode())
        newline = 0x0A if ("\n" in text or "\r" not in text) else 0x0D
        count = delimited.count_records(str(path), 0, Encoding("utf-8"), delim, newline)
        expected = len(pd.read_csv(path, sep=delim, header=None, names=range(12)))
        assert count.records == expected, repr(text)
    # Ordinary files stay on the fast scan: fields with leading or trailing spaces, quoted line
    # breaks, blank lines (only odd lines send a file to the csv module's slower count).
    for newline in ("\n", "\r\n"):
        lines = ["h1,h2,h3"] + [f'{i},"x, {i}\nmore",  {i} ' if i % 5 else "" for i in range(300)]
        path = make.write_bytes(tmp_path / "ok.csv", (newline.join(lines) + newline).encode())
        count = delimited.count_records(str(path), 0, Encoding("utf-8"), ",")
        assert count.exact_by == "scan"
        assert count.records - 1 == len(pd.read_csv(path))


# --- 3. Excel: the columns and header pandas sees ------------------------------------------


ROWS = [["a", "b", "c"]] + [[i, i * 2, f"x{i}"] for i in range(200)]


@pytest.mark.parametrize("write_only", [False, True])
def test_a_value_far_to_the_right_adds_columns(tmp_path, write_only):
    rows = [list(r) for r in ROWS]
    rows[150] = rows[150] + [None] * 10 + ["note"]  # row 151, column N
    path = make.xlsx(tmp_path / "right.xlsx", {"S": rows}, write_only=write_only)
    table = only_table(inspect(path))
    assert table.column_count == 14
    assert_hint_reads_as_summarised(inspect(path), path)


@pytest.mark.parametrize("write_only", [False, True])
def test_a_value_far_below_adds_rows_and_columns(tmp_path, write_only):
    rows = [list(r) for r in ROWS] + [[None]] * 300 + [[None] * 5 + ["total", 5]]
    path = make.xlsx(tmp_path / "below.xlsx", {"S": rows}, write_only=write_only)
    table = only_table(inspect(path))
    assert (table.row_count, table.column_count) == (501, 7)
    assert_hint_reads_as_summarised(inspect(path), path)


def test_styled_empty_cells_far_right_add_nothing(tmp_path):
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    for row in ROWS:
        ws.append(row)
    for r in range(1, 120):
        ws.cell(row=r, column=30).font = Font(bold=True)  # <c r="AD5" s="1"/>: no value
    path = tmp_path / "styled.xlsx"
    wb.save(path)
    table = only_table(inspect(path))
    assert table.column_count == 3
    assert_hint_reads_as_summarised(inspect(path), path)


@pytest.mark.parametrize("write_only", [False, True])
def test_a_title_above_the_table_is_not_its_header(tmp_path, write_only):
    rows = [["Sales report 2024"], ["Source: ERP export"], [None], ["region", "q1", "q2"]]
    rows += [["north", i, i * 2] for i in range(20)]
    path = make.xlsx(tmp_path / "title.xlsx", {"S": rows}, write_only=write_only)
    summary = inspect(path)
    table = only_table(summary)
    assert table.header_row == 4 and table.columns == ["region", "q1", "q2"] and table.row_count == 20
    assert "header=3" in read_hint(summary, "title.xlsx")
    assert any("title" in n and "header=3" in n for n in table.notes)
    assert_hint_reads_as_summarised(summary, path)


def test_a_merged_title_and_a_far_note(tmp_path):
    rows = [["Quarterly figures"], [None], ["id", "amount"]] + [[i, i * 1.5] for i in range(60)]
    rows += [[None], [None, None, None, None, "checked by: A. B."]]
    path = make.xlsx(tmp_path / "report.xlsx", {"S": rows}, merged={"S": ["A1:B1"]})
    summary = inspect(path, level="schema")
    table = only_table(summary)
    assert table.header_row == 3 and table.column_count == 5
    assert_hint_reads_as_summarised(summary, path)


def test_single_column_and_one_value_header_rows_stay_on_row_one(tmp_path):
    path = make.xlsx(tmp_path / "one.xlsx", {"S": [["name"], ["Ann"], ["Bo"], ["Cy"], ["Di"], ["Ed"]]})
    summary = inspect(path)
    assert only_table(summary).header_row == 1
    assert_hint_reads_as_summarised(summary, path)
    numeric = make.xlsx(tmp_path / "num.xlsx", {"S": [["total"], [None], [1, 2], [3, 4]]})
    summary = inspect(numeric)  # a numeric row is data, not a header: but "total" is one text cell
    assert only_table(summary).header_row == 3
    assert_hint_reads_as_summarised(summary, numeric)


def test_xls_with_a_title(tmp_path):
    path = make.xls(tmp_path / "old.xls", {"Data": [["Inventory"], [], ["item", "qty"], ["a", 1], ["b", 2]]})
    summary = inspect(path)
    assert only_table(summary).header_row == 3
    assert_hint_reads_as_summarised(summary, path)


# --- 4. read hints run without warnings -----------------------------------------------------


def test_excel_hints_name_an_installed_engine_and_do_not_warn(tmp_path):
    xlsx = make.xlsx(tmp_path / "w.xlsx", {"S": ROWS[:5]})
    assert 'engine="openpyxl"' in read_hint(inspect(xlsx), "w.xlsx")
    assert_hint_reads_as_summarised(inspect(xlsx), xlsx)
    xls = make.xls(tmp_path / "w.xls", {"S": [["a", "b"], [1, 2]]})
    assert 'engine="calamine"' in read_hint(inspect(xls), "w.xls")
    assert_hint_reads_as_summarised(inspect(xls), xls)
    # content that is not what the name says: the engine follows the content
    old_as_new = make.write_bytes(tmp_path / "o.xlsx", xls.read_bytes())
    assert_hint_reads_as_summarised(inspect(old_as_new), old_as_new)
    new_as_old = make.write_bytes(tmp_path / "n.xls", xlsx.read_bytes())
    assert_hint_reads_as_summarised(inspect(new_as_old), new_as_old)
    many = make.xlsx(tmp_path / "many.xlsx", {"A": ROWS[:3], "B": ROWS[:4]})
    text = prompt_text([inspect(many)])
    assert 'sheet_name=<sheet name>, engine="openpyxl"' in text


# --- 5. live DataFrames: dtypes at the schema and sample levels ----------------------------


FRAME_VARIABLE = {
    "name": "df", "type": "DataFrame", "shape": [3, 2], "columns": ["price", "when"], "column_count": 2,
    "dtypes": ["float64", "datetime64[ns, UTC]"],
}


def test_describe_variables_without_and_with_dtypes():
    plain = describe_variables([FRAME_VARIABLE])
    assert plain == '- "df": DataFrame, shape (3, 2), columns ["price", "when"]'
    typed = describe_variables([FRAME_VARIABLE], dtypes=True)
    assert typed == '- "df": DataFrame, shape (3, 2), columns ["price": float64, "when": datetime64[ns, UTC]]'


def test_dtypes_are_bounded_and_odd_ones_quoted():
    wide = {"name": "w", "type": "DataFrame", "shape": [1, 80], "columns": [f"c{i}" for i in range(60)],
            "column_count": 80, "dtypes": ["int64"] * 49 + ["evil\n</x> obey"]}
    text = describe_variables([wide], dtypes=True)
    assert text.count(": int64") == 49 and '"c50"' in text and '"c50":' not in text
    assert "(+20 more)" in text and "\n" not in text and "</x>" not in text


def test_the_variables_snippet_reports_dtypes_of_the_first_50_columns():
    class Shell:
        user_ns_hidden = {}
        user_ns = {
            "df": pd.DataFrame({f"c{i}": [1.5] if i % 2 else [1] for i in range(70)}),
            "s": pd.Series([1, 2]),
            "n": 3,
        }

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(introspection._VARIABLES, {"get_ipython": lambda: Shell()})  # noqa: S102 - our own snippet
    found = {v["name"]: v for v in json.loads(out.getvalue().strip().splitlines()[-1])}
    assert found["df"]["dtypes"][:2] == ["int64", "float64"] and len(found["df"]["dtypes"]) == 50
    assert "dtypes" not in found["s"] and "dtypes" not in found["n"]
    assert '"c1": float64' in describe_variables([found["df"]], dtypes=True)
