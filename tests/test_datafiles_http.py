"""The data-file routes of a real Jupyter server: inspect and upload, good and bad input.

Every refusal is a 4xx with a JSON message saying what is wrong, nothing is written outside
the root (or left behind), and the server answers the next request.
"""

import asyncio
import json
import os

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_nbchat.datafiles import DataFiles

import data_factory as make

LIMITS = {"max_upload_mb": 0.05, "max_files_per_chat": 3}


@pytest.fixture
def nbchat_config():
    return LIMITS


@pytest.fixture
def files(jp_fetch, nbchat):
    """Inspect and upload as the panel does."""

    class Files:
        async def inspect(self, paths, **extra):
            response = await nbchat.post("files", "inspect", body={"paths": paths, **extra})
            assert response.code == 200
            return json.loads(response.body)

        async def upload(self, name, data, folder="", **kwargs):
            response = await jp_fetch("nbchat", "files", "upload", method="PUT", body=data,
                                      params={"dir": folder, "name": name}, **kwargs)
            assert response.code == 201
            return json.loads(response.body)["file"]

        async def refused(self, method, *path, body=None, params=None, **kwargs):
            """Status and message of a refused request; then the server must still answer."""
            with pytest.raises(HTTPClientError) as info:
                if method == "POST":
                    await jp_fetch("nbchat", *path, method="POST", body=json.dumps(body))
                else:
                    await jp_fetch("nbchat", *path, method=method, body=body, params=params or {}, **kwargs)
            reply = json.loads(info.value.response.body)
            assert "Traceback" not in reply["message"]
            assert (await nbchat.get("status"))["version"]  # the server keeps serving
            return info.value.code, reply["message"]

    return Files()


@pytest.fixture
def service(jp_serverapp):
    return DataFiles.for_app(jp_serverapp.web_app.settings["nbchat"])


def leftovers(root):
    """Temporary upload files anywhere under the root."""
    return [os.path.join(d, f) for d, _, names in os.walk(root) for f in names if f.startswith(".nbchat-upload-")]


async def test_inspect_files_and_prompt(files, jp_root_dir):
    make.write_text(jp_root_dir / "data" / "sales.csv", make.csv_text([["id", "city"], [1, "Lyon, FR"], [2, "Oslo"]]))
    make.xlsx(jp_root_dir / "book.xlsx", {"Sales": [["a", "b"], [1, 2]], "Empty": []})
    reply = await files.inspect(["data/sales.csv", "book.xlsx"], notebook_path="data/analysis.ipynb")
    csv_file, book = reply["files"]
    assert (csv_file["path"], csv_file["type"], csv_file["tables"][0]["row_count"]) == ("data/sales.csv", "csv", 2)
    assert book["sheets"] == ["Sales", "Empty"] and book["tables"][0]["columns"] == ["a", "b"]
    assert 'path: "sales.csv"' in reply["prompt"] and 'path: "../book.xlsx"' in reply["prompt"]
    assert "Lyon" not in reply["prompt"]  # headers, not rows


async def test_inspect_levels(files, jp_root_dir):
    make.write_text(jp_root_dir / "s.csv", "x,y\n1,a\n2,\n")
    schema = await files.inspect(["s.csv"], level="schema")
    assert schema["files"][0]["tables"][0]["column_schema"][1] == {"name": "y", "dtype": "str", "nulls": 1}
    sample = await files.inspect(["s.csv"], level="sample")
    assert sample["files"][0]["tables"][0]["sample"] == [["1", "a"], ["2", None]]
    assert '["1", "a"]' in sample["prompt"]


async def test_unchanged_file_is_not_read_again(files, jp_root_dir, service):
    path = make.write_text(jp_root_dir / "c.csv", "a\n1\n")
    first = await files.inspect(["c.csv"])
    before = service.extractions
    again = await asyncio.gather(*(files.inspect(["c.csv", "./c.csv"]) for _ in range(3)))
    assert [len(r["files"]) for r in again] == [1, 1, 1]
    assert service.extractions == before  # served from the cache
    assert all(r["files"][0] == first["files"][0] for r in again)
    path.write_text("a\n1\n2\n")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    changed = await files.inspect(["c.csv"])
    assert service.extractions == before + 1 and changed["files"][0]["tables"][0]["row_count"] == 2


@pytest.mark.parametrize("paths, status, phrase", [
    (["../outside.csv"], 400, "'..' is refused"),
    (["/etc/passwd"], 400, "absolute paths"),
    ([".hidden.csv"], 400, "hidden"),
    (["nope.csv"], 404, "No file at 'nope.csv'"),
    (["a.csv", "b.csv", "c.csv", "d.csv"], 400, "at most 3 can be attached"),
    (["photo.csv"], 422, "not a text file"),
    (["empty.csv"], 422, "empty (0 bytes)"),
    (["fake.xlsx"], 422, "not an Excel workbook"),
    (["locked.xlsx"], 422, "password-protected"),
    ([], 400, "Invalid request (paths)"),
])
async def test_inspect_refusals(files, jp_root_dir, paths, status, phrase):
    make.write_text(jp_root_dir / ".hidden.csv", "a\n1\n")
    make.write_bytes(jp_root_dir / "photo.csv", b"\x00\x01\x02binary" * 50)
    make.write_bytes(jp_root_dir / "empty.csv", b"")
    make.write_bytes(jp_root_dir / "fake.xlsx", b"\x13\x37 not a zip at all" * 20)
    make.encrypted_xlsx(jp_root_dir / "locked.xlsx")
    code, message = await files.refused("POST", "files", "inspect", body={"paths": paths})
    assert code == status and phrase in message, message


async def test_upload_and_free_names(files, jp_root_dir):
    data = make.csv_text([["a", "b"], [1, 2], [3, 4]]).encode()
    (jp_root_dir / "in").mkdir()
    first = await files.upload("data.csv", data, folder="in")
    second = await files.upload("data.csv", data, folder="in")
    assert (first["path"], second["path"]) == ("in/data.csv", "in/data (1).csv")
    assert (jp_root_dir / "in" / "data.csv").read_bytes() == data == (jp_root_dir / "in" / "data (1).csv").read_bytes()
    assert first["tables"][0]["row_count"] == 2 and first["sha256"] == second["sha256"]
    unicode = await files.upload("données été 日本.csv", data)
    assert unicode["path"] == "données été 日本.csv" and (jp_root_dir / "données été 日本.csv").exists()
    other = await files.upload("notes.pdf", b"%PDF-1.4 hello")
    assert other["type"] == "other"
    assert leftovers(jp_root_dir) == []


@pytest.mark.parametrize("folder, name, status, phrase", [
    ("", "../escape.csv", 400, "cannot contain '/'"),
    ("..", "escape.csv", 400, "'..' is refused"),
    ("/tmp", "escape.csv", 400, "absolute paths"),
    ("", ".env", 400, "hidden"),
    ("", "x" * 250 + ".csv", 400, "too long"),
    ("", "", 400, "empty"),
    ("missing", "a.csv", 404, "No folder at 'missing'"),
    ("", "fake.xlsx", 422, "not an Excel workbook"),
    ("", "photo.csv", 422, "not a text file"),
    ("", "empty.csv", 422, "empty (0 bytes)"),
])
async def test_upload_refusals_leave_nothing_behind(files, jp_root_dir, folder, name, status, phrase):
    outside_before = set(os.listdir(jp_root_dir.parent))
    body = {"fake.xlsx": b"PK but not really" * 10, "photo.csv": b"\x00\xff" * 100, "empty.csv": b""}.get(name, b"a\n1\n")
    code, message = await files.refused("PUT", "files", "upload", body=body, params={"dir": folder, "name": name})
    assert code == status and phrase in message, message
    assert set(os.listdir(jp_root_dir.parent)) == outside_before
    assert leftovers(jp_root_dir) == [] and not (jp_root_dir / name).exists() if name and "/" not in name else True


async def test_upload_over_the_limit_by_content_length(files, jp_root_dir):
    big = b"a,b\n" + b"1,2\n" * 20_000  # 80 KB > 0.05 MB
    code, message = await files.refused("PUT", "files", "upload", body=big, params={"dir": "", "name": "big.csv"})
    assert code == 413 and "larger than the 0.05 MB upload limit" in message
    assert not (jp_root_dir / "big.csv").exists() and leftovers(jp_root_dir) == []


async def test_upload_over_the_limit_while_streaming(jp_fetch, nbchat, jp_root_dir, monkeypatch):
    """No Content-Length (chunked): refused as soon as the limit is passed, not at the end."""
    from jupyter_nbchat.datafiles.cache import Upload

    received = []
    write = Upload.write

    async def counting_write(self, data):
        received.append(len(data))
        await write(self, data)

    monkeypatch.setattr(Upload, "write", counting_write)

    async def producer(send):
        for _ in range(400):  # 400 x 8 KB = 3.2 MB, against a 0.05 MB limit
            await send(b"1,2\n" * 2048)

    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("nbchat", "files", "upload", method="PUT", body_producer=producer,
                       params={"dir": "", "name": "stream.csv"}, headers={"Transfer-Encoding": "chunked"})
    assert info.value.code == 413 and "upload limit" in json.loads(info.value.response.body)["message"]
    assert sum(received) < 0.05 * 1024 * 1024 + 65536  # the server stopped reading at the limit
    assert not (jp_root_dir / "stream.csv").exists() and leftovers(jp_root_dir) == []
    assert (await nbchat.get("status"))["version"]
