"""A local stand-in for the E2B cloud, spoken to by the real ``e2b-code-interpreter`` SDK.

One tornado server on the current event loop answers the control API and every
sandbox's envd (files) and code-interpreter (``/execute``, contexts) endpoints;
each sandbox runs real local ipykernels in its own temp directory.

    standin = E2BStandIn()
    await standin.start()
    sandbox = await AsyncSandbox.create(**standin.sdk_kwargs())
    ...
    await standin.stop()

In pytest, import the ``e2b_standin`` fixture into the test module.
"""

from .faults import Faults, RecordedRequest, Stats
from .server import DEFAULT_API_KEY, E2BStandIn

__all__ = ["DEFAULT_API_KEY", "E2BStandIn", "Faults", "RecordedRequest", "Stats", "e2b_standin"]

try:
    from .fixture import e2b_standin
except ImportError:  # pytest is not installed: the server still runs standalone
    pass
