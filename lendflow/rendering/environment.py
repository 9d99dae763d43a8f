"""The one Jinja environment every document is rendered in.

Templates come from the package and may be overridden file by file from a
user folder (LENDFLOW_TEMPLATES). Whatever the source, templates are treated
as untrusted: the environment is sandboxed (no reaching Python internals, no
mutating the view models), every variable must exist (StrictUndefined, and a
None printed is refused too), HTML templates autoescape, and values printed
into Markdown are escaped so a customer's name cannot become markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path
from types import BuiltinMethodType, MethodType, TracebackType
from typing import Any

from jinja2 import (
    ChoiceLoader,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
    pass_context,
    pass_eval_context,
    select_autoescape,
)
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from markupsafe import Markup

from lendflow.domain.errors import BadInput
from lendflow.rendering.filters import FILTERS, is_figure, long_date

PACKAGE_TEMPLATES = ("lendflow", "templates")
# Characters that would start Markdown syntax (emphasis, links, HTML, tables, headings).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")


def markdown_escape(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


@pass_eval_context
def _finalize(eval_ctx: EvalContext, value: Any) -> Any:
    """Refuse a None printed (a missing value printing 'None'); escape Markdown."""
    if value is None:
        raise UndefinedError("a value printed by the template is empty (None)")
    if eval_ctx.autoescape or isinstance(value, Markup):
        return value  # HTML: Jinja escapes what is not Markup
    return markdown_escape(str(value))


@pass_context
def _date_filter(context: Context, value: date) -> str:
    return long_date(value, context.resolve_or_missing("locale"))


_METHODS = (MethodType, BuiltinMethodType)


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, remembering which attributes of which types it allows.

    Jinja's sandbox asks, at every attribute a template reads, whether the attribute is
    safe: never one starting with `_`, nor a function's, frame's or generator's
    internals, nor a mutating method of a list, dict or set. The answer depends on the
    object's type and the attribute's name only, and a contract reads some hundred
    attributes of a few view types: asked every time, it was a third of rendering one.
    The value each read returns is still checked (`wrap_str_format`) every time.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._safe: dict[tuple[type, type, str], bool] = {}

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        key = (type(obj), obj.__class__, attr)  # an object may claim another class
        found = self._safe.get(key)
        if found is None:
            found = self._safe[key] = super().is_safe_attribute(obj, attr, value)
        return found

    def getattr(self, obj: Any, attribute: str) -> Any:
        """Jinja's `getattr`, shortened for an attribute already allowed whose value is
        not a method: those are the only values it would wrap (`str.format`)."""
        if self._safe.get((type(obj), obj.__class__, attribute)):
            try:
                value = getattr(obj, attribute)
            except AttributeError:
                pass
            else:
                if not isinstance(value, _METHODS):
                    return value
        return super().getattr(obj, attribute)


@lru_cache(maxsize=8)
def environment(user_folder: str | None = None) -> ImmutableSandboxedEnvironment:
    """The environment for package templates, overridden from `user_folder` if given."""
    loaders: list[Any] = []
    if user_folder:
        folder = Path(user_folder)
        if not folder.is_dir():
            raise BadInput(f"LENDFLOW_TEMPLATES: {folder} is not a folder")
        loaders.append(FileSystemLoader(str(folder)))
    loaders.append(PackageLoader(*PACKAGE_TEMPLATES))
    env = _Sandbox(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=select_autoescape(
            enabled_extensions=("html", "html.j2", "xml", "svg"), default_for_string=True
        ),
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters.update(FILTERS)
    env.filters["date"] = _date_filter
    env.tests["figure"] = is_figure
    return env


def get_template(name: str, user_folder: Path | None) -> Template:
    env = environment(str(user_folder) if user_folder else None)
    try:
        return env.get_template(name)
    except TemplateNotFound:
        raise BadInput(f"template {name} not found") from None
    except TemplateSyntaxError as exc:
        raise BadInput(f"template {exc.name or name} line {exc.lineno}: {exc.message}") from None


_TEXTS: dict[tuple[str, str | None], tuple[str, str, Callable[[], bool] | None]] = {}


def load_text(name: str, user_folder: Path | None) -> tuple[str, str]:
    """A non-template file beside the templates (a user copy first): (text, where from).

    Kept once read, and read again when the file found has changed, as Jinja keeps its
    templates: every contract and notice names the lender (`lender.yaml`), and a night's
    thousands of notices read the file once each."""
    folder = str(user_folder) if user_folder else None
    kept = _TEXTS.get((name, folder))
    if kept is not None and kept[2] is not None and kept[2]():
        return kept[0], kept[1]
    env = environment(folder)
    assert env.loader is not None
    try:
        source, filename, uptodate = env.loader.get_source(env, name)
    except TemplateNotFound:
        raise BadInput(f"template file {name} not found") from None
    _TEXTS[(name, folder)] = (source, filename or name, uptodate)
    return source, filename or name


def render_template(template: Template, context: Mapping[str, Any]) -> str:
    """Render, turning every template failure into one line naming template and line."""
    try:
        return template.render(context)
    except SecurityError as exc:
        where = _where(exc.__traceback__, template.name)
        raise BadInput(f"template {where}: refused by the sandbox: {exc}") from None
    except TemplateError as exc:
        where = _where(exc.__traceback__, template.name)
        raise BadInput(f"template {where}: {exc.message or type(exc).__name__}") from None


def render_user_template(source: str, context: Mapping[str, Any], *, html: bool = True) -> str:
    """Render template text a user supplied (e.g. a product's own clause) in the sandbox."""
    env = environment(None)
    if not html:
        env = env.overlay(autoescape=False)
    try:
        template = env.from_string(source)
    except TemplateSyntaxError as exc:
        raise BadInput(f"user template line {exc.lineno}: {exc.message}") from None
    return render_template(template, context)


def _where(tb: TracebackType | None, fallback: str | None) -> str:
    """The innermost template frame of a failure: 'zh-CN/contract.html.j2 line 40'."""
    found = fallback or "<user template>"
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.endswith(".j2") or code.co_filename == "<template>":
            name = Path(code.co_filename).name if code.co_filename != "<template>" else found
            parent = Path(code.co_filename).parent.name
            shown = f"{parent}/{name}" if parent in ("zh-CN", "en") else name
            found = f"{shown} line {tb.tb_lineno}"
        tb = tb.tb_next
    return found
