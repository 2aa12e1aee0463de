"""Docstrings as terminal text: RST markup removed, prose reflowed, formulas kept whole.

A registry entry's docstring is reStructuredText-flavoured: ````x```` literals,
``:math:`…``` / ``:mod:`…``` roles, ``.. directive::`` lines, ``*emphasis*``, prose
hard-wrapped at ~80 columns and formula blocks indented by four spaces.
:func:`doc_blocks` turns it into blocks the CLI prints: prose paragraphs and
list items as one line each (the console wraps them at word boundaries), and
formula blocks one formula per line (a line that continues the one before it,
at the same indent and with no ``=`` of its own, is joined to it), printed
without wrapping so no formula breaks mid-line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from textwrap import dedent

FORMULA_INDENT = 4  # lines indented at least this much (after dedent) are formulas
_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")  # :math:`x`, :mod:`~a.b` -> x, a.b
_LITERAL = re.compile(r"``(.+?)``")
_EMPHASIS = re.compile(r"(?<![\w*])\*{1,2}(\S(?:[^*]*?\S)?)\*{1,2}(?![\w*])")
_DIRECTIVE = re.compile(r"^\s*\.\.\s+[\w:-]+::\s*(.*)$")  # `.. math::` -> its argument
_ITEM = re.compile(r"^(?:[-*+•]|\d+[.)])\s")
_DEFINES = re.compile(r"[=<>≤≥≈←→]")
WRAPPED = 60  # a formula line at least this long may have been hard-wrapped


@dataclass(frozen=True)
class Block:
    """One printed block: a prose line to wrap, or formula lines never to wrap."""

    text: str
    formula: bool


def plain(text: str) -> str:
    """``text`` without inline RST markup: roles, double-backquote literals, emphasis."""
    text = _ROLE.sub(lambda found: found.group(1), text)
    return _LITERAL.sub(lambda found: found.group(1), text)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _formula_lines(lines: list[str]) -> list[str]:
    """Formula lines with each hard-wrapped continuation joined to the line it continues."""
    joined: list[str] = []
    for line in lines:
        continues = (
            joined
            and len(joined[-1].rstrip()) >= WRAPPED
            and line.strip()
            and _indent(line) == _indent(joined[-1])
            and line.strip()[0].islower()
            and not _DEFINES.search(line)
            and not joined[-1].rstrip().endswith((".", ":", ";"))
        )
        if continues:
            joined[-1] = f"{joined[-1].rstrip()} {line.strip()}"
        else:
            joined.append(line.rstrip())
    return joined


def doc_blocks(doc: str) -> list[Block]:
    """The blocks of ``doc`` (a cleaned docstring, as registries store it): prose, formulas.

    Prose paragraphs and list items are one block each, formula blocks keep a line per
    formula. A blank line between blocks is a block of its own (an empty prose line).
    """
    lines = [
        plain(directive.group(1)) if (directive := _DIRECTIVE.match(line)) else plain(line)
        for line in dedent(doc).strip().splitlines()
    ]
    blocks: list[Block] = []
    prose: list[str] = []
    formulas: list[str] = []

    def flush() -> None:
        if prose:
            blocks.append(Block(_EMPHASIS.sub(r"\1", " ".join(prose)), formula=False))
            prose.clear()
        if formulas:
            blank_after = not formulas[-1]
            blocks.append(Block("\n".join(_formula_lines(formulas)).rstrip("\n "), formula=True))
            formulas.clear()
            if blank_after:
                blocks.append(Block("", formula=False))

    for line in lines:
        if not line.strip():
            if formulas:
                formulas.append("")  # inside the block, or the blank line after it
                continue
            flush()
            if blocks and blocks[-1].text:
                blocks.append(Block("", formula=False))
        elif _indent(line) >= FORMULA_INDENT:
            if prose:
                flush()
            formulas.append(line)
        else:
            if formulas or (prose and _ITEM.match(line)):
                flush()
            prose.append(line.strip())
    flush()
    return blocks
