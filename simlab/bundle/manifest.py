"""The bundle manifest: what each file holds, its row count and sha256, and a verifier.

``manifest.json`` sits at the top of the bundle folder::

    {"format": "simlab-bundle", "format_version": 1,
     "simlab_version": "0.1.0", "schema_revision": "0003_comparisons",
     "selection": {"run_ids": [...], "comparison_id": "..." | null},
     "files": [{"path": "tables/runs.parquet", "table": "runs", "rows": 4,
                "bytes": 2712, "sha256": "..."},
               {"path": "configs/runs/<run_id>.json", "table": null, "rows": null, ...}]}

:func:`verify` checks every promise of the manifest before an import writes
anything: each listed file exists inside the folder and has its size and
sha256, each table file has the listed row count and the table's columns,
nothing unlisted lies in the folder, and the schema revision is one this
simlab knows. The sha256 catches damage and edits; it cannot tell a
deliberate re-signing (whoever rewrites a file and its hash) from the
original.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import MetaData, Table

from simlab.bundle.scope import Selection
from simlab.errors import InputError

FORMAT = "simlab-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_CHUNK = 1 << 20
_ARROW_TYPES = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def arrow_schema(table: Table) -> pa.Schema:
    """The Parquet schema of ``table``: TEXT -> string, INTEGER -> int64, REAL -> float64.

    Raises:
        TypeError: a column type with no Parquet mapping (add it to the mapping).
    """
    fields = []
    for column in table.columns:
        try:
            kind = _ARROW_TYPES[column.type.python_type]
        except (KeyError, NotImplementedError):
            raise TypeError(
                f"{table.name}.{column.name}: no Parquet type for {column.type}"
            ) from None
        fields.append(pa.field(column.name, kind, nullable=bool(column.nullable)))
    return pa.schema(fields)


def file_entry(folder: Path, path: Path, table: str | None, rows: int | None) -> dict[str, Any]:
    """The manifest entry of one written file."""
    return {
        "path": path.relative_to(folder).as_posix(),
        "table": table,
        "rows": rows,
        "bytes": path.stat().st_size,
        "sha256": sha256_of(path),
    }


def write_manifest(
    folder: Path, revision: str, version: str, selection: Selection, files: list[dict]
) -> Path:
    """Write ``manifest.json`` (sorted keys, stable file order) into ``folder``."""
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "simlab_version": version,
        "schema_revision": revision,
        "selection": {"run_ids": list(selection.run_ids), "comparison_id": selection.comparison_id},
        "files": sorted(files, key=lambda f: f["path"]),
    }
    path = folder / MANIFEST
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class Manifest:
    """A verified manifest: the bundle's revision, selection and table files."""

    folder: Path
    schema_revision: str
    simlab_version: str
    run_ids: tuple[str, ...]
    comparison_id: str | None
    tables: dict[str, Path]  # table name -> its Parquet file
    rows: dict[str, int]


def _load(folder: Path) -> dict:
    path = folder / MANIFEST
    if not folder.is_dir():
        raise InputError(f"bundle: {folder} is not a folder")
    if not path.is_file():
        raise InputError(f"bundle: {folder} has no {MANIFEST}; is it a `simlab export` folder?")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"bundle: {path} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(f"bundle: {path} is not a {FORMAT} manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise InputError(
            f"bundle: format_version {manifest.get('format_version')!r} is not supported "
            f"(this simlab reads {FORMAT_VERSION})"
        )
    return manifest


def _check_file(folder: Path, entry: dict) -> Path:
    relative = str(entry.get("path", ""))
    path = (folder / relative).resolve()
    if not relative or folder.resolve() not in path.parents:
        raise InputError(f"bundle: manifest path {relative!r} is outside the bundle folder")
    if not path.is_file():
        raise InputError(f"bundle: {relative} is listed in the manifest but missing")
    if path.stat().st_size != entry.get("bytes") or sha256_of(path) != entry.get("sha256"):
        raise InputError(
            f"bundle: {relative} does not match its sha256 in the manifest (tampered?)"
        )
    return path


def _check_table(metadata: MetaData, name: str, path: Path, rows: Any) -> None:
    if name not in metadata.tables:
        raise InputError(f"bundle: table {name!r} is not in this simlab's schema")
    table = metadata.tables[name]
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"bundle: {path.name} is not a readable Parquet file ({exc})") from None
    if parquet.metadata.num_rows != rows:
        raise InputError(
            f"bundle: {path.name} holds {parquet.metadata.num_rows} rows, the manifest says {rows}"
        )
    columns = set(parquet.schema_arrow.names)
    unknown = sorted(columns - set(table.c.keys()))
    missing = sorted(
        c.name
        for c in table.columns
        if c.name not in columns and not (c.nullable or c.server_default is not None)
    )
    if unknown or missing:
        raise InputError(
            f"bundle: {path.name} columns do not fit table {name} "
            f"(unknown: {', '.join(unknown) or 'none'}; missing: {', '.join(missing) or 'none'})"
        )


def verify(folder: Path, metadata: MetaData, known_revisions: set[str]) -> Manifest:
    """Check the bundle in ``folder`` against its manifest; nothing is written.

    Raises:
        InputError: one line naming the first file or field that breaks the manifest.
    """
    manifest = _load(folder)
    revision = manifest.get("schema_revision")
    if revision not in known_revisions:
        raise InputError(
            f"bundle: schema revision {revision!r} is unknown to this simlab "
            f"(known: {', '.join(sorted(known_revisions))}); upgrade simlab to import it"
        )
    files = manifest.get("files")
    if not isinstance(files, list) or not all(isinstance(entry, dict) for entry in files):
        raise InputError("bundle: the manifest's files must be a list of file entries")
    listed = set()
    tables: dict[str, Path] = {}
    rows: dict[str, int] = {}
    for entry in files:
        path = _check_file(folder, entry)
        listed.add(path)
        if entry.get("table") is not None:
            if entry["table"] in tables:
                raise InputError(f"bundle: table {entry['table']!r} is listed twice")
            _check_table(metadata, entry["table"], path, entry.get("rows"))
            tables[entry["table"]] = path
            rows[entry["table"]] = entry["rows"]
    root = folder.resolve()
    extra = sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p not in listed and p != root / MANIFEST
    )
    if extra:
        raise InputError(f"bundle: {extra[0]} is not listed in the manifest")
    if "runs" not in tables:
        raise InputError("bundle: the manifest lists no runs table")
    selection = manifest.get("selection") or {}
    return Manifest(
        folder=folder,
        schema_revision=revision,
        simlab_version=str(manifest.get("simlab_version")),
        run_ids=tuple(selection.get("run_ids") or ()),
        comparison_id=selection.get("comparison_id"),
        tables=tables,
        rows=rows,
    )
