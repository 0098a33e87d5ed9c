"""jupyter_nbchat: a chat sidebar that analyses data inside real notebooks."""

try:
    from ._version import __version__
except ImportError:  # running from a source tree that was never built
    __version__ = "0.0.0.dev0"


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyter-nbchat"}]


def _jupyter_server_extension_points():
    from .app import NbChat

    return [{"module": "jupyter_nbchat", "app": NbChat}]
