"""An HTML page as the text a reader sees, for ``http_get``.

A model reading raw markup spends its context on tags and copies the wrong
string (the 270M model answered a sentence of a page's body for its
``<title>``). Every model gets the page's words instead: the title on a line of its own, headings as Markdown
``#`` lines, list items as ``-`` lines, links as ``[text](url)`` with the
url made absolute (a model can fetch it next), one line per block, and no
scripts, styles or markup. Parsed with Beautiful Soup's ``html.parser``
(no compiled parser needed). ``http_html_as_text = false`` keeps the
markup.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from bs4 import BeautifulSoup

_HIDDEN = ("script", "style", "noscript", "template", "svg", "iframe", "head")
_BLOCKS = (
    "p", "div", "br", "tr", "li", "ul", "ol", "table", "section", "article",
    "header", "footer", "nav", "main", "aside", "pre", "blockquote", "dt", "dd",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "form", "figure", "figcaption",
)  # fmt: skip
# A text/plain reply whose body is a page all the same (a misconfigured
# server): the first thing in it is a doctype or an <html> tag.
_PAGE_START = re.compile(r"\A\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.I | re.S)


def is_html(content_type: str, text: str) -> bool:
    """Whether a reply of ``content_type`` holding ``text`` is an HTML page."""
    kind = content_type.split(";")[0].strip().lower()
    if kind in ("text/html", "application/xhtml+xml"):
        return True
    return kind in ("", "text/plain") and _PAGE_START.match(text) is not None


def page_text(html: str, url: str = "") -> str:
    """The words of ``html`` (fetched from ``url``, against which links are
    resolved): "title: ..." first, then one line per block."""
    soup = BeautifulSoup(html, "html.parser")
    title = " ".join(soup.title.get_text(" ").split()) if soup.title else ""
    for tag in soup(_HIDDEN):
        tag.decompose()
    for level in range(1, 7):
        for heading in soup.find_all(f"h{level}"):
            heading.insert(0, "#" * level + " ")
    for link in soup.find_all("a", href=True):
        href = str(link["href"]).strip()
        if href and not href.startswith(("#", "javascript:")):
            words = " ".join(link.get_text(" ").split())
            link.replace_with(f"[{words}]({urljoin(url, href)})" if words else urljoin(url, href))
    for item in soup.find_all(["li", "dt"]):
        item.insert(0, "- ")
    for block in soup.find_all(_BLOCKS):
        block.insert_before("\n")
        block.insert_after("\n")
    lines = (" ".join(line.split()) for line in soup.get_text().splitlines())
    body = "\n".join(line for line in lines if line)
    return "\n".join(part for part in (f"title: {title}" if title else "", body) if part)
