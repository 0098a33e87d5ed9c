"""Questions we ask the runtime without writing into the notebook.

Each is a snippet run through `Executor.run_hidden` (no history, no visible cell) that
prints one JSON line; the same snippets serve every executor.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from ..datafiles.text import MAX_NAME_CHARS, quote

log = logging.getLogger(__name__)

_VARIABLES = r"""
def _nbchat_variables():
    import json, types
    ip = get_ipython()
    hidden = set(getattr(ip, "user_ns_hidden", {}))
    found = []
    for name, value in list(ip.user_ns.items()):
        if name.startswith("_") or name in hidden or name in ("In", "Out", "exit", "quit", "get_ipython"):
            continue
        if isinstance(value, (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type)):
            continue
        info = {"name": name, "type": type(value).__name__}
        shape = getattr(value, "shape", None)
        if isinstance(shape, tuple):
            info["shape"] = [int(s) for s in shape if isinstance(s, int)]
        columns = getattr(value, "columns", None)
        if columns is not None and hasattr(columns, "__len__"):
            info["columns"] = [str(c) for c in list(columns)[:60]]
            info["column_count"] = len(columns)
            dtypes = getattr(value, "dtypes", None)
            if dtypes is not None and not isinstance(dtypes, str):
                try:  # pandas: a Series in column order; polars: a list
                    info["dtypes"] = [str(t) for t in list(dtypes)[:50]]
                except Exception:
                    pass
        elif isinstance(value, (list, tuple, dict, set, str, bytes)):
            info["length"] = len(value)
        found.append(info)
        if len(found) >= 200:
            break
    print(json.dumps(found))
_nbchat_variables()
del _nbchat_variables
"""

_ENVIRONMENT = r"""
def _nbchat_environment():
    import importlib.util, json, sys, tempfile
    from importlib import metadata
    packages = {}
    for name in ("pandas", "numpy", "matplotlib", "seaborn", "scipy", "scikit-learn",
                 "statsmodels", "openpyxl", "pyarrow", "plotly"):
        try:
            packages[name] = metadata.version(name)
        except Exception:
            pass
    readers = {}  # out-of-core readers importable here (found, not imported: fast)
    for name in ("duckdb", "polars", "pyarrow"):
        try:
            if importlib.util.find_spec(name) is not None:
                readers[name] = metadata.version(name)
        except Exception:
            pass
    print(json.dumps({"python": sys.version.split()[0], "packages": packages,
                      "memory": _nbchat_memory(), "readers": readers, "tmp": tempfile.gettempdir()}))

def _nbchat_memory():
    # Bytes the code can still use, by each bound that applies; `available` is the smallest.
    import os
    def number(path):
        try:
            text = open(path).read().strip()
        except Exception:
            return None
        return int(text) if text.isdigit() else None
    def status(key):  # kB in /proc/self/status
        try:
            for line in open("/proc/self/status"):
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        except Exception:
            return None
    bounds = {}
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemAvailable:"):
                bounds["meminfo"] = int(line.split()[1]) * 1024
    except Exception:
        pass
    try:
        groups = [line.rstrip("\n").split(":", 2) for line in open("/proc/self/cgroup")]
    except Exception:
        groups = []
    for _, controllers, path in groups:
        if controllers == "":  # cgroup v2
            base, names = "/sys/fs/cgroup", ("memory.max", "memory.current")
        elif "memory" in controllers.split(","):
            base, names = "/sys/fs/cgroup/memory", ("memory.limit_in_bytes", "memory.usage_in_bytes")
        else:
            continue
        for folder in (base + path.rstrip("/"), base):  # a namespaced container sees its group at the root
            limit, usage = number(folder + "/" + names[0]), number(folder + "/" + names[1])
            if limit is not None and usage is not None and limit < 2 ** 60:
                bounds["cgroup"] = max(0, limit - usage)
                break
    try:
        import resource
        for name, used in (("RLIMIT_AS", "VmSize"), ("RLIMIT_DATA", "VmData")):
            soft = resource.getrlimit(getattr(resource, name))[0]
            if soft != resource.RLIM_INFINITY and soft > 0:
                bounds[name.lower()] = max(0, soft - (status(used) or 0))
    except Exception:
        pass
    if not bounds:
        try:
            bounds["physical"] = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except Exception:
            return {}
    bound = min(bounds, key=bounds.get)
    return {"available": bounds[bound], "bound": bound, "bounds": bounds}
_nbchat_environment()
del _nbchat_environment, _nbchat_memory
"""

_CHECK_RESULT = r"""
def _nbchat_check(n):
    import json, sys
    value = get_ipython().user_ns.get("Out", {}).get(n)
    problems = []
    pd = sys.modules.get("pandas")  # a pandas result means pandas is loaded; never import it here
    if pd is not None and isinstance(value, (pd.DataFrame, pd.Series)):
        if value.size == 0:
            problems.append("the cell's result is empty (0 rows)")
        elif isinstance(value, pd.DataFrame):
            nan_columns = [str(c) for c in value.columns if value[c].isna().all()]
            if nan_columns:
                problems.append("these result columns are entirely NaN: " + ", ".join(nan_columns[:20]))
        elif value.isna().all():
            problems.append("the cell's result is entirely NaN")
    print(json.dumps(problems))
_nbchat_check(%d)
del _nbchat_check
"""


def _last_json_line(text: str) -> Any:
    for line in reversed(text.strip().splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    raise ValueError("no JSON line in the hidden output")


async def list_variables(executor: Any) -> list[dict[str, Any]]:
    """Live variables: name, type, and shape/columns or length where they apply."""
    try:
        return _last_json_line(await executor.run_hidden(_VARIABLES))
    except Exception:
        log.debug("nbchat: could not list variables", exc_info=True)
        return []


async def environment(executor: Any) -> dict[str, Any]:
    try:
        return _last_json_line(await executor.run_hidden(_ENVIRONMENT))
    except Exception:
        log.debug("nbchat: could not read the environment", exc_info=True)
        return {}


async def result_problems(executor: Any, execution_count: int | None) -> list[str]:
    """Silent failures in a cell's result: empty, or all-NaN columns."""
    if not execution_count:
        return []
    try:
        return _last_json_line(await executor.run_hidden(_CHECK_RESULT % execution_count))
    except Exception:
        log.debug("nbchat: could not check the result", exc_info=True)
        return []


_PLAIN_DTYPE = re.compile(r"[\w\[\](), .:=/+-]{1,80}")


def _dtype(value: Any) -> str:
    """A dtype's name as written (int64, datetime64[ns, UTC]); anything odd (an extension
    dtype of the person's own) is quoted like a name."""
    text = str(value)
    return text if _PLAIN_DTYPE.fullmatch(text) else quote(text)


#: At most this many columns of a DataFrame are told with their dtypes (`dtypes=True`).
MAX_DTYPES = 50


def describe_variables(variables: list[dict[str, Any]], dtypes: bool = False) -> str:
    """Variables as prompt lines; names are data, so each is quoted.

    With `dtypes` (the chat's context level is `schema` or `sample`), a DataFrame's first
    MAX_DTYPES columns are given with their dtypes: `"price": float64`."""
    lines = []
    for v in variables:
        # A type's name is the person's code too (any class): cut, and no line breaks.
        kind = " ".join(str(v["type"])[:MAX_NAME_CHARS].split())
        line = f"- {quote(v['name'])}: {kind}"
        if v.get("shape"):
            line += f", shape {tuple(v['shape'])}"
        if "columns" in v:
            more = v.get("column_count", 0) - len(v["columns"])
            types = [_dtype(t) for t in (v.get("dtypes") or [])[:MAX_DTYPES]] if dtypes else []
            columns = ", ".join(
                f"{quote(c)}: {types[i]}" if i < len(types) else quote(c) for i, c in enumerate(v["columns"])
            )
            line += f", columns [{columns}]" + (f" (+{more} more)" if more > 0 else "")
        elif "length" in v:
            line += f", length {v['length']}"
        lines.append(line)
    return "\n".join(lines)
