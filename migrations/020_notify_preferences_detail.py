"""Notifications: the citizen's own quiet-hours window (Beijing time "HH:MM", may cross midnight; existing
rows keep 22:00–08:00), the categories they muted (no push; the inbox and the live stream still get
them) and the language a device's pushes are worded in (zh-CN | en; existing devices zh-CN) (issue 16)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    # the defaults are the database's too: rows written by SQL that names none of these columns
    # (the worker's bulk statements, older tools) keep today's behaviour
    migrator.add_fields("notify_preference",
                        quiet_start=pw.CharField(max_length=5, default="22:00", constraints=[pw.SQL("DEFAULT '22:00'")]),
                        quiet_end=pw.CharField(max_length=5, default="08:00", constraints=[pw.SQL("DEFAULT '08:00'")]),
                        muted_categories=pw.TextField(default="[]", constraints=[pw.SQL("DEFAULT '[]'")]))
    migrator.add_fields("notify_device",
                        locale=pw.CharField(max_length=8, default="zh-CN", constraints=[pw.SQL("DEFAULT 'zh-CN'")]))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields("notify_device", "locale")
    migrator.remove_fields("notify_preference", "quiet_start", "quiet_end", "muted_categories")
