"""Accounts in a backup, which may have been edited by anyone who held the file.

What a restore does with them:
- An account that already exists here (same username) is never changed.
- Without `--with-users` on both the backup and the restore, the backup's people come in as
  names only: authors of their posts who cannot log in, are not staff and hold no rights.
- With `--with-users` on both sides, new accounts keep their password hash, staff flag,
  groups and permissions; one is a superuser only if this database had no account at all.
A restore never creates a group's permissions, only links to those that exist.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import identify_hasher, make_password
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

from notes.text import clean_text_fields

USER_LABEL = "auth.user"
GROUP_LABEL = "auth.group"
USER_FIELDS = {
    "username", "first_name", "last_name", "email", "is_staff", "is_active", "is_superuser",
    "date_joined", "last_login", "password", "groups", "user_permissions",
}  # fmt: skip
GROUP_FIELDS = {"name", "permissions"}


class AccountsRefused(Exception):
    """users.json holds something a restore will not load."""


@dataclass
class Accounts:
    users: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)

    @property
    def usernames(self) -> set[str]:
        return {user["username"] for user in self.users}


def read_accounts(records: Any, *, with_users: bool) -> Accounts:
    """Check users.json's records: only users (and, with users, groups), only known fields,
    each of the right type. Nothing is written."""
    if not isinstance(records, list):
        raise AccountsRefused("users.json is not a list of records")
    accounts = Accounts()
    for number, record in enumerate(records, start=1):
        where = f"users.json, record {number}"
        if not isinstance(record, dict) or not isinstance(record.get("fields"), dict):
            raise AccountsRefused(f"{where} is not a record")
        label, fields = str(record.get("model", "")).lower(), record["fields"]
        if label == USER_LABEL:
            _check_fields(where, fields, USER_FIELDS)
            username = fields.get("username")
            if not isinstance(username, str) or not username or len(username) > 150:
                raise AccountsRefused(f"{where} has no valid username")
            try:
                get_user_model().username_validator(username)
            except ValidationError as exc:
                raise AccountsRefused(f"{where}: the username {username!r} is invalid") from exc
            accounts.users.append(fields)
        elif label == GROUP_LABEL:
            _check_fields(where, fields, GROUP_FIELDS)
            if not isinstance(fields.get("name"), str) or not fields["name"]:
                raise AccountsRefused(f"{where} is a group without a name")
            if with_users:  # otherwise people come in as names only, in no group
                accounts.groups.append(fields)
        else:
            raise AccountsRefused(
                f"{where} is a {label or 'nameless'} record, which kb never backs up"
            )
    if len(accounts.usernames) != len(accounts.users):
        raise AccountsRefused("users.json names one username twice")
    return accounts


def _check_fields(where: str, fields: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise AccountsRefused(f"{where} has fields kb never backs up: {', '.join(unknown)}")
    for name in ("is_staff", "is_active", "is_superuser"):
        if name in fields and not isinstance(fields[name], bool):
            raise AccountsRefused(f"{where}: {name} is not true or false")
    for name in ("first_name", "last_name", "email", "password"):
        if name in fields and not isinstance(fields[name], str):
            raise AccountsRefused(f"{where}: {name} is not text")
    for name in ("groups", "user_permissions", "permissions"):
        if name in fields and not isinstance(fields[name], list):
            raise AccountsRefused(f"{where}: {name} is not a list")


def load_accounts(accounts: Accounts, *, with_users: bool) -> int:
    """Create the accounts that do not exist yet; returns how many were created."""
    user_model = get_user_model()
    had_no_users = not user_model.objects.exists()
    existing = set(user_model.objects.values_list(user_model.USERNAME_FIELD, flat=True))
    groups = _load_groups(accounts.groups) if with_users else {}
    created = 0
    for fields in accounts.users:
        if fields["username"] in existing:
            continue
        user = user_model(
            username=fields["username"],
            first_name=fields.get("first_name", "")[:150],
            last_name=fields.get("last_name", "")[:150],
            email=fields.get("email", "")[:254],
            is_active=fields.get("is_active", True),
            date_joined=_when(fields.get("date_joined")) or user_model().date_joined,
            last_login=_when(fields.get("last_login")),
        )
        if with_users:
            user.password = _password_hash(fields.get("password", ""))
            user.is_staff = fields.get("is_staff", False)
            user.is_superuser = had_no_users and fields.get("is_superuser", False)
        else:
            user.set_unusable_password()
        clean_text_fields(user)
        user.save()
        if with_users:
            user.groups.set(groups[name] for name in _names(fields.get("groups")) if name in groups)
            user.user_permissions.set(_permissions(fields.get("user_permissions")))
        created += 1
    return created


def _load_groups(records: list[dict[str, Any]]) -> dict[str, Group]:
    """Groups by name; one that already exists is used as it is."""
    groups = {}
    for fields in records:
        group, made = Group.objects.get_or_create(name=fields["name"][:150])
        if made:
            group.permissions.set(_permissions(fields.get("permissions")))
        groups[fields["name"]] = group
    return groups


def _names(values: Any) -> list[str]:
    return [v[0] if isinstance(v, list) and v else v for v in values or [] if v]


def _permissions(keys: Any) -> list[Permission]:
    found = []
    for key in keys or []:
        if isinstance(key, list) and len(key) == 3 and all(isinstance(k, str) for k in key):
            codename, app_label, model = key
            permission = Permission.objects.filter(
                codename=codename, content_type__app_label=app_label, content_type__model=model
            ).first()
            if permission is not None:
                found.append(permission)
    return found


def _password_hash(value: str) -> str:
    """The stored hash if a hasher of this site reads it; otherwise the account cannot log in
    until someone sets its password."""
    try:
        identify_hasher(value)
    except ValueError:
        return make_password(None)
    return value


def _when(value: Any) -> datetime.datetime | None:
    try:
        return parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        return None
