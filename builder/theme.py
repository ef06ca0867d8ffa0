"""Templates and stylesheets, looked up one file at a time: the user's theme first, then the
default theme. The default theme ships inside the wheel (``builder/_theme``); from a source
checkout it is the repository's ``templates/`` and ``styles/``."""

from __future__ import annotations

from pathlib import Path

import jinja2

from .errors import ThemeError

_PACKAGE = Path(__file__).resolve().parent


def default_theme_dir() -> Path:
    candidates = [_PACKAGE / "_theme", _PACKAGE.parent]
    for candidate in candidates:
        if (candidate / "templates").is_dir() and (candidate / "styles").is_dir():
            return candidate
    raise ThemeError("default theme not found; looked in "
                     + " and ".join(str(c / "templates") for c in candidates)
                     + "; reinstall builder")


class Theme:
    def __init__(self, user_dir: Path | None = None):
        self.dirs = [default_theme_dir()]
        if user_dir is not None:
            if not Path(user_dir).is_dir():
                raise ThemeError("theme folder not found", str(user_dir))
            self.dirs.insert(0, Path(user_dir))
        default = jinja2.FileSystemLoader(str(self.dirs[-1] / "templates"))
        loaders = [jinja2.FileSystemLoader(str(d / "templates")) for d in self.dirs]
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader([*loaders, jinja2.PrefixLoader({"default": default})]),
            autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
            trim_blocks=True, lstrip_blocks=True)

    def render(self, name: str, **context) -> str:
        try:
            return self.env.get_template(name).render(**context)
        except jinja2.TemplateNotFound:
            looked = ", ".join(str(d / "templates") for d in self.dirs)
            raise ThemeError(f"template {name} not found (looked in {looked})") from None
        except jinja2.TemplateError as exc:
            raise ThemeError(f"template {name}: {exc}") from None

    def stylesheet_path(self, name: str) -> Path:
        for d in self.dirs:
            path = d / "styles" / name
            if path.is_file():
                return path
        looked = ", ".join(str(d / "styles") for d in self.dirs)
        raise ThemeError(f"stylesheet {name} not found (looked in {looked})")

    def stylesheet(self, name: str) -> str:
        return self.stylesheet_path(name).read_text(encoding="utf-8")
