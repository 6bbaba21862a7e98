"""A tiny document model rendered two ways: GitHub-flavoured Markdown and escaped HTML.

The report is built once as blocks of styled text runs, then written out. Text
that came from evidence (logs, tickets, chat) is never trusted: the Markdown
writer escapes what would change the table or start a tag, the HTML writer
passes every run through :func:`html.escape`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Union

Run = tuple[str, str]
"""A styled run of text: (style, text); style is '', 'b', 'i' or 'code'."""

Inlines = list[Run]


def t(text: str) -> Run:
    """Plain text."""
    return ("", text)


def b(text: str) -> Run:
    """Bold text."""
    return ("b", text)


def i(text: str) -> Run:
    """Italic text."""
    return ("i", text)


def code(text: str) -> Run:
    """Inline code."""
    return ("code", text)


@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Para:
    runs: Inlines


@dataclass
class Quote:
    runs: Inlines


@dataclass
class Item:
    runs: Inlines
    children: list[Inlines] = field(default_factory=list)
    checkbox: bool = False


@dataclass
class Bullets:
    items: list[Item]


@dataclass
class Table:
    header: list[str]
    rows: list[list[Inlines]]
    classes: list[str] = field(default_factory=list)  # one CSS class per row ('' for none)


@dataclass
class Html:
    """Trusted HTML produced by this package (a figure); skipped in Markdown."""

    html: str


Block = Union[Heading, Para, Quote, Bullets, Table, Html]

# --------------------------------------------------------------------- Markdown

_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
"""A '<' that could open an HTML tag, comment or instruction ('<*>' and '< 5' cannot)."""
_MD_SPECIAL = re.compile(r"([*`\[\]])|(?<!\w)_|_(?!\w)|\\(?=[!-/:-@\[-`{-~])")


def one_line(text: str, limit: int = 160) -> str:
    """The first non-empty line of ``text``, truncated to ``limit`` characters with an ellipsis."""
    first = next((ln.strip() for ln in str(text).splitlines() if ln.strip()), "")
    more = first != str(text).strip()
    if len(first) > limit:
        cut = first[: limit - 1]
        space = cut.rfind(" ")
        if space >= limit // 2:  # cut at a word; a single long token (a URL) is cut where it must be
            cut = cut[:space]
        return cut.rstrip(" ,;:(-–—") + "…"
    return first + (" …" if more else "")


def md_escape(text: str, *, cell: bool = False) -> str:
    """Escape evidence text for Markdown: emphasis, code, links, tags; pipes in table cells."""
    text = text.replace("\r", " ").replace("\n", " ")
    text = _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), text)
    text = _TAG_START.sub("&lt;", text)
    if cell:
        text = text.replace("|", "\\|")
    return text


def _md_code(text: str, *, cell: bool) -> str:
    text = text.replace("\r", " ").replace("\n", " ")
    if cell:
        text = text.replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_runs(runs: Inlines, *, cell: bool = False) -> str:
    """Render runs as Markdown."""
    out = []
    for style, text in runs:
        if not text:
            continue
        if style == "code":
            out.append(_md_code(text, cell=cell))
            continue
        esc = md_escape(text, cell=cell)
        if style in ("b", "i"):
            mark = "**" if style == "b" else "*"
            core = esc.strip()
            if not core:
                out.append(esc)
                continue
            lead = esc[: len(esc) - len(esc.lstrip())]
            trail = esc[len(esc.rstrip()):]
            out.append(f"{lead}{mark}{core}{mark}{trail}")
        else:
            out.append(esc)
    return "".join(out)


def to_markdown(blocks: list[Block]) -> str:
    """Render blocks as GitHub-flavoured Markdown."""
    parts: list[str] = []
    for blk in blocks:
        if isinstance(blk, Heading):
            parts.append("#" * blk.level + " " + md_escape(blk.text))
        elif isinstance(blk, Para):
            parts.append(md_runs(blk.runs))
        elif isinstance(blk, Quote):
            parts.append("> " + md_runs(blk.runs))
        elif isinstance(blk, Bullets):
            lines = []
            for it in blk.items:
                box = "[ ] " if it.checkbox else ""
                lines.append(f"- {box}{md_runs(it.runs)}")
                lines.extend(f"  - {md_runs(c)}" for c in it.children)
            parts.append("\n".join(lines))
        elif isinstance(blk, Table):
            head = "| " + " | ".join(md_escape(h, cell=True) for h in blk.header) + " |"
            rule = "|" + "|".join("---" for _ in blk.header) + "|"
            rows = ["| " + " | ".join(md_runs(c, cell=True) for c in row) + " |" for row in blk.rows]
            parts.append("\n".join([head, rule, *rows]))
        # Html blocks carry figures: nothing to write in Markdown.
    return "\n\n".join(p for p in parts if p) + "\n"


# ------------------------------------------------------------------------- HTML

_TAGS = {"b": "strong", "i": "em", "code": "code"}
_SYMBOLS = {
    "❌": '<span class="sym bad">✗</span>',
    "✅": '<span class="sym ok">✓</span>',
    "📈": '<span class="sym">↗</span>',
    "⏱": '<span class="sym">◷</span>',
    "⚠️": '<span class="sym warn">⚠</span>',
}
"""Emoji of the Markdown, drawn as plain symbols in HTML so they show without an emoji font."""


def html_runs(runs: Inlines) -> str:
    """Render runs as escaped HTML."""
    out = []
    for style, text in runs:
        esc = html.escape(text.replace("\r", " ").replace("\n", " "))
        tag = _TAGS.get(style)
        if tag != "code":
            for emoji, span in _SYMBOLS.items():
                esc = esc.replace(emoji, span)
        out.append(f"<{tag}>{esc}</{tag}>" if tag else esc)
    return "".join(out)


def to_html(blocks: list[Block], *, table_class: str = "timeline") -> str:
    """Render blocks as an HTML fragment; every text run is escaped."""
    parts: list[str] = []
    for blk in blocks:
        if isinstance(blk, Heading):
            parts.append(f"<h{blk.level}>{html.escape(blk.text)}</h{blk.level}>")
        elif isinstance(blk, Para):
            parts.append(f"<p>{html_runs(blk.runs)}</p>")
        elif isinstance(blk, Quote):
            parts.append(f'<blockquote class="callout">{html_runs(blk.runs)}</blockquote>')
        elif isinstance(blk, Bullets):
            items = []
            for it in blk.items:
                box = '<input type="checkbox" disabled> ' if it.checkbox else ""
                kids = "".join(f"<li>{html_runs(c)}</li>" for c in it.children)
                items.append(f"<li>{box}{html_runs(it.runs)}" + (f"<ul>{kids}</ul>" if kids else "") + "</li>")
            parts.append("<ul>" + "".join(items) + "</ul>")
        elif isinstance(blk, Table):
            head = "".join(f"<th>{html.escape(h)}</th>" for h in blk.header)
            rows = []
            for k, row in enumerate(blk.rows):
                cls = blk.classes[k] if k < len(blk.classes) else ""
                attr = f' class="{html.escape(cls)}"' if cls else ""
                rows.append(f"<tr{attr}>" + "".join(f"<td>{html_runs(c)}</td>" for c in row) + "</tr>")
            parts.append(f'<table class="{table_class}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>')
        elif isinstance(blk, Html):
            parts.append(blk.html)
    return "\n".join(parts)
