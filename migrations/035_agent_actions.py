"""Agents' record of actions (issue 19, WP6): `agent_action`, one row per request made with an
enterprise token (经办人 or the legal representative acting for the enterprise), with the enterprise,
the person acting, the grant, the route and the answer's status — like `proxy_action`."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class AgentAction(pw.Model):
        id = pw.CharField(max_length=32, primary_key=True)
        grant_id = pw.CharField(max_length=32, index=True)
        enterprise_id = pw.CharField(max_length=32, index=True)
        actor_id = pw.CharField(max_length=32)
        method = pw.CharField(max_length=8)
        route = pw.CharField(max_length=255)
        scope = pw.CharField(max_length=32, null=True)
        status = pw.IntegerField(null=True)
        at = pw.DateTimeField()
        request_id = pw.CharField(max_length=64, null=True)

        class Meta:
            table_name = "agent_action"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model("agent_action")
