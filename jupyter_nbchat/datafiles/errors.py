"""Every data-file failure, each with the HTTP status and the sentence a person needs.

They subclass NbChatError, so `nbchat_errors` turns them into `{"message": ...}` answers.
"""

from __future__ import annotations

from ..errors import NbChatError


class DataFileError(NbChatError):
    kind = "data_file"
    status = 400

    def __reduce__(self):  # rebuilt from its message when it crosses a process boundary
        return (_restore, (type(self), str(self)))


def _restore(cls: type[DataFileError], message: str) -> DataFileError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    return err


class BadPath(DataFileError):
    """A path or file name that could reach outside the root, or that Jupyter would hide."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{_show(path)}: {reason}.")
        self.path = path


class FileMissing(DataFileError):
    status = 404

    def __init__(self, path: str, what: str = "file") -> None:
        super().__init__(f"No {what} at {_show(path)} under the server root.")
        self.path = path


class TooManyFiles(DataFileError):
    def __init__(self, count: int, limit: int) -> None:
        super().__init__(
            f"{count} files attached; at most {limit} can be attached to one chat "
            "(NbChat.max_files_per_chat). Remove some and try again."
        )


class FileTooLarge(DataFileError):
    status = 413

    def __init__(self, name: str, limit_mb: float) -> None:
        super().__init__(
            f"{_show(name)} is larger than the {limit_mb:g} MB upload limit (NbChat.max_upload_mb). "
            "Copy it into the server's folder instead, or ask the administrator to raise the limit."
        )


class UnreadableFile(DataFileError):
    """The file exists but cannot be read as what it claims to be."""

    status = 422

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{_show(name)} cannot be read: {reason}")
        self.name = name


class FormatNeedsPackage(DataFileError):
    """A format read with an optional package the server lacks (Parquet without pyarrow).

    415: the file may be fine; this server cannot read its format until the package is installed.
    """

    status = 415

    def __init__(self, name: str, needs: str) -> None:
        super().__init__(f"{_show(name)}: {needs}, then restart Jupyter.")
        self.name = name


def _show(text: str, limit: int = 120) -> str:
    """A path for a message: quoted, control characters escaped, long ones shortened."""
    shown = text if len(text) <= limit else text[: limit // 2] + "…" + text[-limit // 2 :]
    return repr(shown)
