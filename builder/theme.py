"""Templates and stylesheets, looked up one file at a time: the user's theme first, then the
default theme. The default theme ships inside the wheel (``builder/_theme``); from a source
checkout it is the repository's ``templates/`` and ``styles/``."""

from __future__ import annotations

import functools
from pathlib import Path

from markupsafe import Markup, escape

from .errors import ThemeError
from .text import halt_marks, keep_end

_PACKAGE = Path(__file__).resolve().parent
#: The variables the builder gives each template it renders (builder.render).
CONTEXTS = {
    "epub/cover.xhtml.j2": {"cover"},
    "epub/title.xhtml.j2": {"book"},
    "epub/chapter.xhtml.j2": {"article"},
    "epub/continued.xhtml.j2": {"article"},
    "epub/colophon.xhtml.j2": {"articles", "labels"},
    "pdf/book.html.j2": {"book", "articles", "page", "labels", "stylesheet"},
}


def default_theme_dir() -> Path:
    candidates = [_PACKAGE / "_theme", _PACKAGE.parent]
    for candidate in candidates:
        if (candidate / "templates").is_dir() and (candidate / "styles").is_dir():
            return candidate
    raise ThemeError("default theme not found; looked in "
                     + " and ".join(str(c / "templates") for c in candidates)
                     + "; reinstall builder")


def _keep_end(value: str) -> Markup:
    """A title whose last two characters (or words) stay on one line (``.keep`` in CSS), its
    meeting punctuation marks set half-width (``.halt``)."""
    head, tail = keep_end(str(value))
    if not head:
        return _halted(tail)
    return _halted(head) + Markup('<span class="keep">') + _halted(tail) + Markup("</span>")


def _halted(text: str) -> Markup:
    return Markup("").join(Markup('<span class="halt">') + escape(run) + Markup("</span>")
                           if flag else escape(run) for run, flag in halt_marks(text))


class Theme:
    """The default theme, with ``user_dir`` (its ``templates/`` and ``styles/``) in front."""

    def __init__(self, user_dir: Path | None = None):
        self.dirs = [default_theme_dir()]
        self.user_dir = Path(user_dir) if user_dir is not None else None
        if self.user_dir is not None:
            if not self.user_dir.is_dir():
                raise ThemeError("is a file, not a theme folder" if self.user_dir.exists()
                                 else "theme folder not found", str(user_dir))
            if not any((self.user_dir / sub).is_dir() for sub in ("templates", "styles")):
                raise ThemeError("a theme folder holds templates/ or styles/ (or both); "
                                 "neither is there", str(user_dir))
            self.dirs.insert(0, self.user_dir)

    @functools.cached_property
    def env(self):
        """The templates' environment, made (and Jinja2 imported) when a template is first
        wanted: what only lists the theme's files (the up-to-date check) needs neither."""
        import jinja2

        default = jinja2.FileSystemLoader(str(self.dirs[-1] / "templates"))
        loaders = [jinja2.FileSystemLoader(str(d / "templates")) for d in self.dirs]
        env = jinja2.Environment(
            loader=jinja2.ChoiceLoader([*loaders, jinja2.PrefixLoader({"default": default})]),
            autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
            trim_blocks=True, lstrip_blocks=True)
        env.filters["keep_end"] = _keep_end
        return env

    def render(self, name: str, **context) -> str:
        import jinja2

        try:
            return self.env.get_template(name).render(**context)
        except jinja2.TemplateNotFound:
            looked = ", ".join(str(d / "templates") for d in self.dirs)
            raise ThemeError(f"template {name} not found (looked in {looked})") from None
        except jinja2.TemplateError as exc:
            raise ThemeError(f"template {name}: {exc}") from None

    def check(self) -> None:
        """Compile every template and read every stylesheet of the user's theme, so that a
        broken one is reported before the build starts."""
        if self.user_dir is None:
            return
        import jinja2

        for path in sorted((self.user_dir / "templates").rglob("*")):
            if path.is_file():
                name = path.relative_to(self.user_dir / "templates").as_posix()
                try:
                    self.env.get_template(name)
                    self._variables(name, path)
                except jinja2.TemplateSyntaxError as exc:
                    raise ThemeError(f"template {name}, line {exc.lineno}: {exc.message}",
                                     str(path)) from None
                except (jinja2.TemplateError, UnicodeDecodeError) as exc:
                    raise ThemeError(f"template {name}: {exc}", str(path)) from None
        for path in sorted((self.user_dir / "styles").glob("*.css")):
            try:
                path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ThemeError(f"stylesheet {path.name} cannot be read as UTF-8: {exc}",
                                 str(path)) from None

    def _variables(self, name: str, path: Path) -> None:
        """A template the builder renders uses only the variables it is given."""
        given = CONTEXTS.get(name)
        if given is None:
            return
        from jinja2 import meta

        used = meta.find_undeclared_variables(self.env.parse(path.read_text(encoding="utf-8")))
        unknown = sorted(used - given - set(self.env.globals))
        if unknown:
            raise ThemeError(f"template {name} uses {', '.join(unknown)}, which the builder "
                             f"does not give it (it gives {', '.join(sorted(given))})",
                             str(path))

    def stylesheet_path(self, name: str) -> Path:
        for d in self.dirs:
            path = d / "styles" / name
            if path.is_file():
                return path
        looked = ", ".join(str(d / "styles") for d in self.dirs)
        raise ThemeError(f"stylesheet {name} not found (looked in {looked})")

    def stylesheets(self) -> dict[str, str]:
        """Every stylesheet of the theme by file name, the user's theme first."""
        found: dict[str, str] = {}
        for d in self.dirs:
            for path in sorted((d / "styles").glob("*.css")):
                found.setdefault(path.name, path.read_text(encoding="utf-8"))
        return dict(sorted(found.items()))

    def stylesheet(self, name: str) -> str:
        return self.stylesheet_path(name).read_text(encoding="utf-8")
