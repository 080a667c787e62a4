"""People, what part of the hierarchy each may reach, and the API keys of other agencies.

Roles and scopes are rows, not code: a person has one role and any number of scope rows
(level + code); :class:`gridmap.auth.scope.Scope` turns them into what the caller may do.
Lockout is counted in ``person`` itself, so every server process sees the same count.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, Text,
                        UniqueConstraint, func)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gridmap.models.base import Base
from gridmap.roles import ROLES, SCOPE_LEVELS  # noqa: F401 — the columns' checks; re-exported


class Person(Base):
    """Someone who logs in. ``password_hash`` is an argon2 PHC string, never the password."""

    __tablename__ = "person"
    __table_args__ = (CheckConstraint(f"role in {ROLES!r}", name="role"),
                      CheckConstraint("department_code is null or role = 'handler'",
                                      name="department_role"),
                      CheckConstraint("failed_attempts >= 0", name="failed_attempts"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(256))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                    server_default=func.now())
    password_changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                             server_default=func.now())
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: The interface language the person chose (``zh_CN``, ``en``); None follows the browser.
    locale: Mapped[str | None] = mapped_column(String(16))
    # A handler's department: they handle the cases dispatched to it (None: any department
    # in their area, as a district's own response team does).
    department_code: Mapped[str | None] = mapped_column(ForeignKey("department.code"))
    scopes: Mapped[list["PersonScope"]] = relationship(
        back_populates="person", cascade="all, delete-orphan", order_by="PersonScope.id")


class PersonScope(Base):
    """One part of the hierarchy a person reaches: a district, street, community or grid."""

    __tablename__ = "person_scope"
    __table_args__ = (CheckConstraint(f"level in {SCOPE_LEVELS!r}", name="level"),
                      UniqueConstraint("person_id", "level", "code", name="person_level_code"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"),
                                           index=True)
    level: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(20))
    person: Mapped[Person] = relationship(back_populates="scopes")


class WebSession(Base):
    """One signed-in browser: the cookie holds a random token, this row its SHA-256."""

    __tablename__ = "web_session"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"),
                                           index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                    server_default=func.now())
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    address: Mapped[str | None] = mapped_column(String(64))


class ServerSecret(Base):
    """A secret every server process shares (the session signing key), generated once."""

    __tablename__ = "server_secret"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                    server_default=func.now())


class ApiKey(Base):
    """Read-only access for another agency. Only the SHA-256 of the key is kept (see
    :mod:`gridmap.auth.keys` for why a fast hash is right for a random 256-bit key);
    ``collections`` NULL means every collection."""

    __tablename__ = "api_key"
    __table_args__ = (CheckConstraint("collections is null or cardinality(collections) > 0",
                                      name="collections"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency: Mapped[str] = mapped_column(String(200))
    collections: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                    server_default=func.now())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
