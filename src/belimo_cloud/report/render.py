"""HTML from page data: Jinja2 templates with autoescape, one self-contained document.

The templates (``templates/``) are a base layout (``base.html.j2``) and partials (cards,
findings, blocks, sections) so that another page, such as the web dashboard, can reuse them.
"""

from __future__ import annotations

from functools import cache

import jinja2

from belimo_cloud.report.page import Page

__all__ = ["environment", "render_page"]


@cache
def environment() -> jinja2.Environment:
    """The report's template environment: package templates, autoescape on, strict undefined."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("belimo_cloud.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=True,
    )


def render_page(page: Page, template: str = "report.html.j2") -> str:
    """The page rendered by ``template`` (every value escaped by the template engine)."""
    return environment().get_template(template).render(page=page)
