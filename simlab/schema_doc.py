"""Markdown documentation of a migrated database, in the form of the seed-schema spec.

The document is built by reflection (``sqlalchemy.inspect``) from a freshly
migrated SQLite database, so it shows what Alembic really creates, not what the
code intends. ``render`` gives the text; ``parse`` reads a document of the same
form back into a comparable structure (used to check the seed contract).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from simlab.db import make_engine, migrate

TITLE = "# Database schema (Alembic migrations @ head)"
PROVENANCE = (
    "This documentation is generated from a fresh SQLite database after applying "
    "Alembic migrations to `head`."
)


@dataclass
class TableDoc:
    """Everything the document says about one table."""

    name: str
    columns: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    primary_key: tuple[str | None, tuple[str, ...]] = (None, ())
    foreign_keys: list[str] = field(default_factory=list)
    unique_constraints: list[str] = field(default_factory=list)
    indexes: list[str] = field(default_factory=list)
    check_constraints: list[str] = field(default_factory=list)
    referenced_by: list[str] = field(default_factory=list)


def _code(value) -> str:
    return f"`{'' if value is None else value}`"


def _names(columns) -> str:
    return ", ".join(_code(c) for c in columns)


def reflect_tables(engine: Engine) -> dict[str, TableDoc]:
    """Reflect every table (except Alembic's own) into TableDocs, sorted by name."""
    inspector = inspect(engine)
    names = sorted(n for n in inspector.get_table_names() if n != "alembic_version")
    docs = {name: TableDoc(name) for name in names}
    for name, doc in docs.items():
        for col in inspector.get_columns(name):
            doc.columns.append(
                (
                    _code(col["name"]),
                    _code(str(col["type"])),
                    "yes" if col["nullable"] else "no",
                    _code(col.get("default")),
                    _code(col.get("primary_key") or None),
                )
            )
        pk = inspector.get_pk_constraint(name)
        doc.primary_key = (pk.get("name"), tuple(pk["constrained_columns"]))
        for fk in sorted(inspector.get_foreign_keys(name), key=lambda f: f["name"] or ""):
            target = f"{fk['referred_table']}({', '.join(fk['referred_columns'])})"
            doc.foreign_keys.append(
                f"{_code(fk['name'])}: {_names(fk['constrained_columns'])} → `{target}`"
            )
            docs[fk["referred_table"]].referenced_by.append(
                f"`{name}` {_code(fk['name'])}: {_names(fk['constrained_columns'])} → "
                f"{_names(fk['referred_columns'])}"
            )
        for uq in sorted(inspector.get_unique_constraints(name), key=lambda u: u["name"] or ""):
            doc.unique_constraints.append(f"{_code(uq['name'])}: {_names(uq['column_names'])}")
        for ix in sorted(inspector.get_indexes(name), key=lambda i: i["name"] or ""):
            unique = " (unique)" if ix.get("unique") else ""
            doc.indexes.append(f"{_code(ix['name'])}: {_names(ix['column_names'])}{unique}")
        for ck in sorted(inspector.get_check_constraints(name), key=lambda c: c["name"] or ""):
            doc.check_constraints.append(f"{_code(ck['name'])}: {_code(ck['sqltext'])}")
    for doc in docs.values():
        doc.referenced_by.sort()
    return docs


def _mermaid(names: list[str], engine: Engine) -> list[str]:
    inspector = inspect(engine)
    lines = ["```mermaid", "erDiagram"]
    relations = []
    for name in names:
        fk_columns = set()
        for fk in inspector.get_foreign_keys(name):
            fk_columns.update(fk["constrained_columns"])
            relations.append(
                f"  {fk['referred_table']} ||--o{{ {name} : "
                f'"{fk["name"]} ({", ".join(fk["constrained_columns"])})"'
            )
        lines.append(f"  {name} {{")
        for column in inspector.get_columns(name):
            keys = [
                k
                for k, on in (
                    ("PK", column.get("primary_key")),
                    ("FK", column["name"] in fk_columns),
                )
                if on
            ]
            lines.append("    " + " ".join([str(column["type"]), column["name"], *keys]))
        lines.append("  }")
    lines += sorted(relations)
    lines.append("```")
    return lines


def _section(title: str, table: str, items: list[str]) -> list[str]:
    if not items:
        return []
    return [f"### {title} (`{table}`)", "", *[f"- {item}" for item in items], ""]


def render(engine: Engine) -> str:
    """The Markdown document for the database behind ``engine``."""
    docs = reflect_tables(engine)
    lines = [TITLE, "", "## Mermaid Diagram", "", *_mermaid(list(docs), engine), "", PROVENANCE, ""]
    for name, doc in docs.items():
        lines += [f"## `{name}`", "", f"### Columns (`{name}`)", ""]
        lines += ["| name | type | nullable | default | pk |", "| --- | --- | --- | --- | --- |"]
        lines += ["| " + " | ".join(row) + " |" for row in doc.columns]
        pk_name, pk_columns = doc.primary_key
        lines += ["", f"### Primary key (`{name}`)", ""]
        lines += [f"- Name: {_code(pk_name) if pk_name else '(none)'}"]
        lines += [f"- Columns: {_names(pk_columns)}", ""]
        lines += _section("Foreign keys", name, doc.foreign_keys)
        lines += _section("Unique constraints", name, doc.unique_constraints)
        lines += _section("Indexes", name, doc.indexes)
        lines += _section("Check constraints", name, doc.check_constraints)
        lines += _section("Referenced by", name, doc.referenced_by)
    return "\n".join(lines).rstrip("\n") + "\n"


def render_fresh() -> str:
    """Migrate a new temporary SQLite database to head and document it."""
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(Path(folder) / "schema.db")
        try:
            migrate(engine)
            return render(engine)
        finally:
            engine.dispose()


_SECTION = re.compile(r"^### (.+?) \(`(.+?)`\)$")


def parse(markdown: str) -> dict[str, TableDoc]:
    """Read a document written by :func:`render` (or the seed spec) back into TableDocs."""
    docs: dict[str, TableDoc] = {}
    current: TableDoc | None = None
    section = ""
    for line in markdown.splitlines():
        if line.startswith("## `") and line.endswith("`"):
            current = docs.setdefault(line[4:-1], TableDoc(line[4:-1]))
            section = ""
        elif (match := _SECTION.match(line)) and current is not None:
            section = match.group(1)
        elif current is None or not line.strip():
            continue
        elif section == "Columns" and line.startswith("| `"):
            cells = tuple(cell.strip() for cell in line.strip("|").split("|"))
            current.columns.append(cells)  # type: ignore[arg-type]
        elif section == "Primary key" and line.startswith("- Name: "):
            value = line.removeprefix("- Name: ")
            current.primary_key = (None if value == "(none)" else value.strip("`"), ())
        elif section == "Primary key" and line.startswith("- Columns: "):
            columns = tuple(
                c.strip().strip("`") for c in line.removeprefix("- Columns: ").split(",")
            )
            current.primary_key = (current.primary_key[0], columns)
        elif line.startswith("- "):
            attribute = section.lower().replace(" ", "_")
            if hasattr(current, attribute):
                getattr(current, attribute).append(line[2:])
    return docs
