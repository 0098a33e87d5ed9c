"""Wire models of the database routes (mirrored in src/api/types.ts). None holds a URL."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..datafiles.models import ContextLevel


class DatabaseInfo(BaseModel):
    """A named connection as the panel sees it: never its URL, host, user or password."""

    name: str
    dialect: str = Field(description="SQLAlchemy dialect: postgresql, mysql, sqlite …")
    description: str = ""


class DatabaseList(BaseModel):
    databases: list[DatabaseInfo]
    #: The plain sentence the panel shows: code in the local kernel can use these connections.
    notice: str


class DatabaseColumn(BaseModel):
    name: str
    type: str = Field(description="the database's type as SQLAlchemy renders it: INTEGER, TEXT …")
    nullable: bool = True
    primary_key: bool = False


class DatabaseTable(BaseModel):
    """One table or view: its columns and exact row count (count(*)), never its rows,
    except a few at the `sample` level."""

    schema_name: str | None = Field(default=None, description="None: the database has no schemas")
    name: str
    kind: Literal["table", "view"]
    columns: list[DatabaseColumn]
    column_count: int
    row_count: int | None = Field(description="exact count(*); None when it could not be counted (see notes)")
    sample: list[list[str | None]] | None = None
    notes: list[str] = Field(default_factory=list)


class DatabaseSummary(BaseModel):
    """What nbchat read of one database's structure."""

    name: str
    dialect: str
    description: str = ""
    level: ContextLevel = "headers"
    env_var: str = Field(description="the environment variable holding the URL in the kernel")
    schemas: list[str] = Field(default_factory=list)
    tables: list[DatabaseTable] = Field(default_factory=list)
    #: Tables and views past NbChat.database_max_tables: counted, not described.
    more_tables: int = 0
    notes: list[str] = Field(default_factory=list)


class DatabaseInspectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    level: ContextLevel | None = None


class DatabaseInspectResult(BaseModel):
    database: DatabaseSummary
    #: Exactly what Claude is told about this database.
    prompt: str
