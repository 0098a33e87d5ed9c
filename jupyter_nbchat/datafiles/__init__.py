"""Data files attached to a chat: validation, extraction of headers and counts, the prompt text.

"Headers for Claude, full data for execution": Claude is told file names, paths, sheets,
column headers and exact row counts (plus dtypes or a few rows at richer context levels),
never the data itself.

Public API:
  inspect_file(abs_path, rel_path, level, sample_rows, schema_rows) -> FileSummary  (sync)
  prompt_text(files, level, notebook_dir) -> str      the exact text Claude is given
  DataFiles                                            service: paths, cache, worker pool
  datafile_routes()                                    the HTTP routes (handlers.py)
  FileSummary, TableSummary, ColumnSchema              wire models (models.py)
"""

from .cache import DataFiles, Limits
from .models import ColumnSchema, FileSummary, InspectRequest, InspectResult, TableSummary, UploadResult
from .paths import RootPolicy
from .prompt import prompt_text
from .summary import inspect_file

__all__ = [
    "ColumnSchema",
    "DataFiles",
    "FileSummary",
    "InspectRequest",
    "InspectResult",
    "Limits",
    "RootPolicy",
    "TableSummary",
    "UploadResult",
    "inspect_file",
    "prompt_text",
]
