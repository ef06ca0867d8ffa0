"""builder: articles collected from the web become an EPUB and a printable PDF photo booklet.

The public surface::

    import builder
    settings = builder.load_settings("seeds/book.toml", {"paths": ["seeds"]})
    report = builder.build(settings)           # a BuildReport; outputs in settings.out_dir
    found = builder.inspect("seeds/a.txt")     # the cleaned article, as the build makes it

Errors a user can cause are :class:`BuilderError` (with ``category`` and ``location``).
"""

from . import log as _log  # noqa: F401 - installs the package's NullHandler
from .errors import BuilderError
from .versions import version

__version__ = version("builder") or "0.0.0+unknown"  # "unknown": run from a bare checkout

from .settings import Settings, load_settings  # noqa: E402


def __getattr__(name: str):
    """The stages are imported when first used: ``builder.cli`` starts without them."""
    if name in ("Inspection", "build", "inspect"):
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'builder' has no attribute {name!r}")

__all__ = ["BuilderError", "Inspection", "Settings", "__version__", "build", "inspect",
           "load_settings"]
