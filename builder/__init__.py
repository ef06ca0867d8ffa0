"""builder: articles collected from the web become an EPUB and a printable PDF photo booklet."""

from importlib.metadata import PackageNotFoundError, version

from .errors import BuilderError

try:
    __version__ = version("builder")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0+unknown"


def build(config, progress=None):
    """Build the book described by ``config`` (a :class:`BookConfig`); return its report."""
    from .build import build as _build

    return _build(config, progress)


def load_config(path=None, overrides=None):
    """Read ``book.toml`` (when given) and apply ``overrides``; return a :class:`BookConfig`."""
    from .config import load_config as _load_config

    return _load_config(path, overrides)


__all__ = ["BuilderError", "__version__", "build", "load_config"]
