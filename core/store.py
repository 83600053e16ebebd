"""The local catalogue: one SQLite file, through sqlite-utils.

Foreign keys on, WAL journal, schema migrations with sqlite-utils'
``Migrations`` (the schema version is mirrored in ``PRAGMA user_version``),
every multi-row write in one transaction, and Chinese full-text search
(trigram FTS5 for queries of three or more characters, ``instr`` for shorter).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils import Migrations

from core.model import Catalogue, MatchRun, Organization, Scene
from core.problems import CatalogueError
from core.serialize import (
    FORMAT,
    exclusion_from_dict,
    org_from_dict,
    org_to_dict,
    partnership_from_dict,
    pin_from_dict,
    pin_to_dict,
    plan_from_dict,
    plan_to_dict,
    scene_from_dict,
    scene_to_dict,
)

logger = logging.getLogger(__name__)
migrations = Migrations("scenematch")

JSON_COLUMNS = {
    "organizations": {
        "roles", "form_factors", "skills", "certifications", "component_categories",
        "capabilities", "products", "deployments", "tags",
    },
    "scenes": {
        "form_factors", "skills", "certifications", "components", "readiness", "requirements",
        "goals", "environment", "tags",
    },
    "runs": {"params", "result"},
}
SEARCH_COLUMNS = {
    "organizations": ("name", "description", "tags", "city", "province"),
    "scenes": ("name", "description", "tags", "category", "sector", "city"),
}


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    """The first schema: every table of the catalogue format, runs, and FTS."""
    statements = [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
        """CREATE TABLE organizations (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, uscc TEXT, roles TEXT NOT NULL,
            province TEXT NOT NULL, city TEXT, ownership TEXT,
            max_consortia INTEGER NOT NULL DEFAULT 1, robot_capacity INTEGER NOT NULL DEFAULT 0,
            form_factors TEXT, skills TEXT, certifications TEXT, component_categories TEXT,
            capabilities TEXT, products TEXT, deployments TEXT, description TEXT, tags TEXT)""",
        "CREATE INDEX organizations_uscc ON organizations(uscc)",
        "CREATE INDEX organizations_name ON organizations(name)",
        """CREATE TABLE scenes (
            id TEXT PRIMARY KEY, name TEXT NOT NULL,
            owner TEXT NOT NULL REFERENCES organizations(id),
            coordinator TEXT NOT NULL, field TEXT NOT NULL, category TEXT NOT NULL,
            province TEXT NOT NULL, city TEXT, sector TEXT, description TEXT,
            form_factors TEXT, skills TEXT, certifications TEXT, components TEXT,
            needs_institute INTEGER NOT NULL DEFAULT 0, needs_algorithm INTEGER NOT NULL DEFAULT 1,
            robots INTEGER NOT NULL, readiness TEXT, priority REAL NOT NULL DEFAULT 1,
            requirements TEXT, goals TEXT, environment TEXT, budget_wan REAL,
            start TEXT, "end" TEXT, status TEXT NOT NULL DEFAULT 'candidate',
            robots_deployed INTEGER NOT NULL DEFAULT 0, tags TEXT)""",
        "CREATE INDEX scenes_owner ON scenes(owner)",
        "CREATE INDEX scenes_coordinator ON scenes(coordinator)",
        """CREATE TABLE partnerships (
            a TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
            b TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
            strength REAL NOT NULL DEFAULT 1, note TEXT, PRIMARY KEY (a, b))""",
        """CREATE TABLE exclusions (
            a TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
            b TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
            reason TEXT, PRIMARY KEY (a, b))""",
        """CREATE TABLE pins (
            scene TEXT NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
            org TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
            role TEXT NOT NULL, category TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (scene, role, category))""",
        """CREATE TABLE plans (
            coordinator TEXT PRIMARY KEY, kind TEXT NOT NULL,
            min_scenes INTEGER NOT NULL, min_fields INTEGER NOT NULL)""",
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT, created TEXT NOT NULL, coordinator TEXT,
            status TEXT NOT NULL, objective REAL, bound REAL, gap REAL, seconds REAL NOT NULL,
            params TEXT, result TEXT)""",
    ]
    for sql in statements:
        db.execute(sql)
    db.execute("INSERT INTO meta (key, value) VALUES ('format', ?)", [FORMAT])
    db.execute("INSERT INTO meta (key, value) VALUES ('name', '')")
    for table, columns in SEARCH_COLUMNS.items():
        db.table(table).enable_fts(list(columns), tokenize="trigram", create_triggers=True)


@migrations()
def m002_plan_choice(db: sqlite_utils.Database) -> None:
    """Scenes get their plan choice: include (default), exclude or require."""
    db.execute("ALTER TABLE scenes ADD COLUMN plan TEXT NOT NULL DEFAULT 'include'")


SCHEMA_VERSION = 2  # number of migrations above; bump with each new one


@dataclass(frozen=True)
class WriteSummary:
    """What a write did, per table: rows added, changed, and left as they were."""

    added: dict[str, int]
    changed: dict[str, int]
    unchanged: dict[str, int]

    def total_changes(self) -> int:
        """Rows added or changed in all tables."""
        return sum(self.added.values()) + sum(self.changed.values())


def _decode(table: str, row: dict[str, Any]) -> dict[str, Any]:
    cols = JSON_COLUMNS.get(table, set())
    return {k: (json.loads(v) if k in cols and isinstance(v, str) else v) for k, v in row.items()}


def _encode(table: str, row: dict[str, Any]) -> dict[str, Any]:
    cols = JSON_COLUMNS.get(table, set())
    return {
        k: (json.dumps(v, ensure_ascii=False, sort_keys=True) if k in cols else v)
        for k, v in row.items()
    }


class CatalogueStore:
    """One catalogue file. Open with :meth:`open`; close when done."""

    def __init__(self, db: sqlite_utils.Database, path: Path | None) -> None:
        self.db = db
        self.path = path
        # Set by open() when it upgraded an older schema: the backup taken just before.
        self.migration_backup: Path | None = None
        self.migrated_from: int | None = None

    # -- opening -------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, *, create: bool = True) -> CatalogueStore:
        """Open the catalogue at ``path``, creating it when missing and ``create``.

        Raises :class:`CatalogueError` for a file that is not a SceneMatch
        catalogue, is corrupt (``PRAGMA quick_check``), or comes from a newer
        SceneMatch; the file is then left exactly as it was (no ``-wal``/``-shm``
        left behind). A catalogue of an older schema is backed up (see
        :mod:`core.backup`, reason ``before-migration``) before it is migrated;
        ``migration_backup`` then names the copy. If that backup cannot be written,
        nothing is migrated and :class:`CatalogueError` is raised.
        """
        path = Path(path)
        if path.exists() and path.is_dir():
            raise CatalogueError(f"{path} 是文件夹，不是目录文件 / is a folder, not a catalogue file")
        is_new = not path.exists() or path.stat().st_size == 0
        if not is_new or not create:
            cls.check_file(path)
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(str(path), check_same_thread=False)
            db = sqlite_utils.Database(conn)
            store = cls(db, path)
            store._prepare(is_new)
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()  # closing (not garbage collection) removes the -wal/-shm it made
            raise CatalogueError(
                f"{path.name} 无法读取（文件可能已损坏）/ cannot be read, the file may be "
                f"corrupt: {exc}"
            ) from exc
        except BaseException:
            if conn is not None:
                conn.close()
            raise
        return store

    @staticmethod
    def check_file(path: str | Path) -> None:
        """Raise :class:`CatalogueError` unless ``path`` is a file that may hold a catalogue:
        it exists, is not a folder, is not empty, and starts as an SQLite database does.
        Cheap (the header only): a command checks this before taking the lock."""
        path = Path(path)
        if not path.exists():
            raise CatalogueError(f"目录文件不存在 / no catalogue at {path}")
        if path.is_dir():
            raise CatalogueError(f"{path} 是文件夹，不是目录文件 / is a folder, not a catalogue file")
        if path.stat().st_size == 0:  # a truncated copy, a stray touch
            raise CatalogueError(f"{path.name} 是空文件，不是目录文件 / is empty, not a catalogue")
        with open(path, "rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise CatalogueError(
                    f"{path.name} 不是 SceneMatch 目录文件（不是 SQLite 数据库） / "
                    f"is not a SceneMatch catalogue (not an SQLite database)"
                )

    @classmethod
    def memory(cls) -> CatalogueStore:
        """A throw-away catalogue in memory (tests, previews)."""
        store = cls(sqlite_utils.Database(memory=True), None)
        store._prepare(True)
        return store

    def _prepare(self, is_new: bool) -> None:
        db = self.db
        db.execute("PRAGMA foreign_keys = ON")
        if not is_new:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = set(db.table_names())
            if "meta" not in tables or "_sqlite_migrations" not in tables:
                raise CatalogueError(
                    f"{self.path} 不是 SceneMatch 目录文件 / is an SQLite file but not a "
                    f"SceneMatch catalogue"
                )
            fmt = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            if not fmt or fmt[0] != FORMAT:
                raise CatalogueError(f"{self.path} 不是 SceneMatch 目录文件 / not a SceneMatch catalogue")
            if version > SCHEMA_VERSION:
                raise CatalogueError(
                    f"{self.path} 由更新版本的 SceneMatch 创建（结构版本 {version}，本程序支持 "
                    f"{SCHEMA_VERSION}），请升级 / was written by a newer SceneMatch (schema "
                    f"{version}, this one reads up to {SCHEMA_VERSION}); please upgrade"
                )
            damage = [r[0] for r in db.execute("PRAGMA quick_check").fetchall()]
            if damage != ["ok"]:
                raise CatalogueError(
                    f"{self.path} 已损坏，请从备份恢复 / is damaged; restore it from a backup: "
                    f"{'; '.join(map(str, damage[:3]))}"
                )
            if self.path is not None and migrations.pending(db):
                self._backup_before_migration(version)
        if self.path is not None:
            db.enable_wal()
        migrations.apply(db)
        if self.schema_version != SCHEMA_VERSION:  # an unchanged file is not rewritten
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _backup_before_migration(self, version: int) -> None:
        from core.backup import backup_connection

        assert self.path is not None
        try:
            target = backup_connection(self.db.conn, self.path, reason="before-migration")
        except (OSError, sqlite3.Error) as exc:
            raise CatalogueError(
                f"{self.path} 需要升级结构版本，但升级前的备份失败，文件未改动 / needs a schema "
                f"upgrade but the backup before it failed; the file is unchanged: {exc}"
            ) from exc
        self.migration_backup = target
        self.migrated_from = version
        logger.warning("%s：结构版本 %s → %s，升级前的备份 / schema %s → %s; backup before the "
                       "upgrade: %s", self.path, version, SCHEMA_VERSION, version, SCHEMA_VERSION,
                       target)

    def close(self) -> None:
        """Close the file (checkpointing the WAL)."""
        self.db.close()

    def __enter__(self) -> CatalogueStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        """The schema version of the open file."""
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    # -- metadata ------------------------------------------------------------

    @property
    def name(self) -> str:
        """The catalogue's title."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'name'").fetchone()
        return row[0] if row and row[0] else ""

    def set_name(self, name: str) -> None:
        """Set the catalogue's title."""
        with self.db.atomic():
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('name', ?)", [name])

    # -- reading -------------------------------------------------------------

    def _rows(self, table: str, order: str) -> Iterable[dict[str, Any]]:
        for row in self.db[table].rows_where(order_by=order):
            yield _decode(table, row)

    def organizations(self) -> list[Organization]:
        """Every organisation, by id."""
        return [org_from_dict(r) for r in self._rows("organizations", "id")]

    def scenes(self) -> list[Scene]:
        """Every scene, by id."""
        return [scene_from_dict(r) for r in self._rows("scenes", "id")]

    def load(self) -> Catalogue:
        """The whole catalogue in memory."""
        return Catalogue(
            name=self.name,
            organizations=tuple(self.organizations()),
            scenes=tuple(self.scenes()),
            partnerships=tuple(partnership_from_dict(r) for r in self._rows("partnerships", "a, b")),
            exclusions=tuple(exclusion_from_dict(r) for r in self._rows("exclusions", "a, b")),
            pins=tuple(pin_from_dict(r) for r in self._rows("pins", "scene, role, category")),
            plans=tuple(plan_from_dict(r) for r in self._rows("plans", "coordinator")),
        )

    def count(self, table: str) -> int:
        """Rows in one table."""
        return int(self.db.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0])

    def is_empty(self) -> bool:
        """True when the catalogue holds no organisation and no scene."""
        return self.count("organizations") == 0 and self.count("scenes") == 0

    # -- writing -------------------------------------------------------------

    def write(self, catalogue: Catalogue) -> WriteSummary:
        """Upsert everything in ``catalogue`` by id, in one transaction.

        Rows that are identical to the stored ones are not touched, so writing
        the same catalogue twice changes nothing.
        """
        rows: dict[str, tuple[list[dict[str, Any]], tuple[str, ...]]] = {
            "organizations": ([org_to_dict(o) for o in catalogue.organizations], ("id",)),
            "scenes": ([scene_to_dict(s) for s in catalogue.scenes], ("id",)),
            "partnerships": ([asdict(p) for p in catalogue.partnerships], ("a", "b")),
            "exclusions": ([asdict(e) for e in catalogue.exclusions], ("a", "b")),
            "pins": (
                [{**pin_to_dict(p), "category": p.category or ""} for p in catalogue.pins],
                ("scene", "role", "category"),
            ),
            "plans": ([plan_to_dict(p) for p in catalogue.plans], ("coordinator",)),
        }
        added: dict[str, int] = {}
        changed: dict[str, int] = {}
        unchanged: dict[str, int] = {}
        with self.db.atomic():
            if catalogue.name and not self.name:
                self.set_name(catalogue.name)
            for table, (items, pk) in rows.items():
                stored = {
                    tuple(r[k] for k in pk): r for r in self.db[table].rows
                }
                todo = []
                n_added = n_same = 0
                for item in items:
                    encoded = _encode(table, item)
                    key = tuple(encoded[k] for k in pk)
                    old = stored.get(key)
                    if old is not None and all(old.get(k) == v for k, v in encoded.items()):
                        n_same += 1
                        continue
                    n_added += old is None
                    todo.append(encoded)
                if todo:
                    self.db.table(table).upsert_all(todo, pk=pk if len(pk) > 1 else pk[0])
                added[table] = n_added
                changed[table] = len(todo) - n_added
                unchanged[table] = n_same
        return WriteSummary(added, changed, unchanged)

    def delete(
        self,
        *,
        organizations: Iterable[str] = (),
        scenes: Iterable[str] = (),
        partnerships: Iterable[tuple[str, str]] = (),
        exclusions: Iterable[tuple[str, str]] = (),
        pins: Iterable[tuple[str, str, str | None]] = (),
        plans: Iterable[str] = (),
    ) -> Catalogue:
        """Delete rows by key in one transaction; returns everything removed, the rows that
        went with them included (a deleted organisation's partnerships, exclusions and pins;
        a deleted scene's pins), so that ``write(returned)`` puts it all back (undo).

        Raises :class:`CatalogueError` (and deletes nothing) when an organisation still
        owns scenes that are not deleted with it.
        """
        org_ids = sorted(set(organizations))
        scene_ids = set(scenes)
        if org_ids:
            marks = ",".join("?" * len(org_ids))
            owned = [r for r in self.db.execute(
                f"SELECT id, owner FROM scenes WHERE owner IN ({marks})", org_ids).fetchall()
                if r[0] not in scene_ids]
            if owned:
                names = ", ".join(sorted({r[1] for r in owned}))
                raise CatalogueError(
                    f"{names} 仍拥有场景（{len(owned)} 个），请先删除或转移这些场景 / still owns "
                    f"{len(owned)} scene(s); delete or reassign them first")
        orgs = set(org_ids)
        pair_keys = {tuple(sorted(p)) for p in partnerships}
        excl_keys = {tuple(sorted(e)) for e in exclusions}
        pin_keys = {(s, r, c or "") for s, r, c in pins}
        removed_orgs = [o for o in self.organizations() if o.id in orgs]
        removed_scenes = [s for s in self.scenes() if s.id in scene_ids]
        removed_pairs = [partnership_from_dict(r) for r in self._rows("partnerships", "a, b")
                         if orgs & {r["a"], r["b"]} or (r["a"], r["b"]) in pair_keys
                         or (r["b"], r["a"]) in pair_keys]
        removed_excl = [exclusion_from_dict(r) for r in self._rows("exclusions", "a, b")
                        if orgs & {r["a"], r["b"]} or (r["a"], r["b"]) in excl_keys
                        or (r["b"], r["a"]) in excl_keys]
        removed_pins = [pin_from_dict(r)
                        for r in self._rows("pins", "scene, role, category")
                        if r["scene"] in scene_ids or r["org"] in orgs
                        or (r["scene"], r["role"], r["category"] or "") in pin_keys]
        plan_keys = set(plans)
        removed_plans = [plan_from_dict(r) for r in self._rows("plans", "coordinator")
                         if r["coordinator"] in plan_keys]
        with self.db.atomic():
            for rule in removed_plans:
                self.db.execute("DELETE FROM plans WHERE coordinator = ?", [rule.coordinator])
            for p in removed_pins:
                self.db.execute("DELETE FROM pins WHERE scene = ? AND role = ? AND category = ?",
                                [p.scene, p.role.value, p.category or ""])
            for e in removed_excl:
                self.db.execute("DELETE FROM exclusions WHERE a = ? AND b = ?", [e.a, e.b])
            for pr in removed_pairs:
                self.db.execute("DELETE FROM partnerships WHERE a = ? AND b = ?", [pr.a, pr.b])
            for s in removed_scenes:
                self.db.execute("DELETE FROM scenes WHERE id = ?", [s.id])
            for o in removed_orgs:
                self.db.execute("DELETE FROM organizations WHERE id = ?", [o.id])
        return Catalogue(organizations=tuple(removed_orgs), scenes=tuple(removed_scenes),
                         partnerships=tuple(removed_pairs), exclusions=tuple(removed_excl),
                         pins=tuple(removed_pins), plans=tuple(removed_plans))

    # -- search --------------------------------------------------------------

    def search(self, table: str, query: str, limit: int | None = None) -> list[str]:
        """Ids of rows of ``table`` ("organizations" or "scenes") matching every word of ``query``.

        Words of three or more characters use the trigram index; shorter ones
        (most Chinese words are two characters) scan with ``instr``, which is
        fast enough at catalogue sizes (thousands of rows).
        """
        if table not in SEARCH_COLUMNS:
            raise ValueError(table)
        words = [w for w in query.split() if w]
        if not words:
            return []
        columns = SEARCH_COLUMNS[table]
        haystack = " || ' ' || ".join(f"coalesce([{c}], '')" for c in columns)
        clauses: list[str] = []
        params: list[Any] = []
        for word in words:
            if len(word) >= 3:
                clauses.append(f"rowid IN (SELECT rowid FROM [{table}_fts] WHERE [{table}_fts] MATCH ?)")
                params.append('"' + word.replace('"', '""') + '"')
            else:
                clauses.append(f"instr(lower({haystack}), lower(?)) > 0")
                params.append(word)
        # Rows whose name matches come first, then the rest, each by id.
        order = "instr(lower(name), lower(?)) = 0, id"
        params.append(words[0])
        sql = f"SELECT id FROM [{table}] WHERE {' AND '.join(clauses)} ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [r[0] for r in self.db.execute(sql, params).fetchall()]

    # -- runs ----------------------------------------------------------------

    def save_run(
        self,
        *,
        coordinator: str | None,
        status: str,
        objective: float | None,
        bound: float | None,
        gap: float | None,
        seconds: float,
        params: dict[str, Any],
        result: dict[str, Any],
    ) -> int:
        """Store a matchmaking run; returns its id."""
        with self.db.atomic():
            row = _encode("runs", {
                "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "coordinator": coordinator,
                "status": status,
                "objective": objective,
                "bound": bound,
                "gap": gap,
                "seconds": seconds,
                "params": params,
                "result": result,
            })
            table = self.db.table("runs")
            table.insert(row)
            return int(table.last_pk)  # type: ignore[arg-type]

    def runs(self) -> list[MatchRun]:
        """Every stored run, newest first."""
        return [MatchRun(**r) for r in (
            _decode("runs", row) for row in self.db["runs"].rows_where(order_by="id desc")
        )]
