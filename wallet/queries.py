"""The wallet's hot-path reads in raw SQL (split out of wallet/models.py): the counter's scan of a
presentation (柜台核验) and the home screen's licence cards (bff)."""
from __future__ import annotations

from app.db import execute
from wallet.matter_models import MatterRecord
from wallet.models import Issuer, Licence, Presentation
from wallet.rows import HOT_SQL, built


# The home screen's cards (bff, every app launch): only the columns a card shows, in the wallet
# page's order; raw SQL written once (peewee would build the joined statement on every call).
_HOME_CARDS = ('SELECT l."id", l."type_code", l."status", l."valid_until", l."data_enc", i."name" '
               'FROM "licence" l JOIN "issuer" i ON i."id" = l."issuer_id" WHERE l."user_id" = ? '
               'ORDER BY l."created_at" DESC, l."id" DESC LIMIT ?')


def holder_cards(user_id: str, limit: int) -> list[dict]:
    """The holder's newest `limit` licences, newest first: id, type_code, status, valid_until,
    data_enc, issuer_name."""
    rows = execute(_HOME_CARDS, [user_id, limit]).fetchall()
    until = Licence.valid_until.python_value
    return [{"id": r[0], "type_code": r[1], "status": r[2], "valid_until": until(r[3]), "data_enc": r[4],
             "issuer_name": r[5]} for r in rows]


def presentation_for_scan(nonce_hex: str, matter_code: str | None = None) -> tuple | None:
    """(presentation, its licence, the licence's issuer, the matter record with `matter_code` or None)
    of the presentation with this nonce, read now in one statement (the counter's hot path; no
    cache: a revocation committed before this read is seen); None when no presentation has it."""
    sql = HOT_SQL.get("scan")
    if sql is None:
        parts = ((Presentation, "p"), (Licence, "l"), (Issuer, "i"), (MatterRecord, "m"))
        columns = ", ".join(f'{alias}."{f.column_name}"' for model, alias in parts for f in model._meta.sorted_fields)
        # raw SQL, built once: four rows in one round trip (cf. app.db.select_where)
        sql = HOT_SQL["scan"] = (f'SELECT {columns} FROM "wallet_presentation" AS p '
                                 'LEFT JOIN "licence" AS l ON l."id" = p."licence_id" '
                                 'LEFT JOIN "wallet_issuer" AS i ON i."id" = l."issuer_id" '
                                 'LEFT JOIN "wallet_matter" AS m ON m."code" = ? '
                                 'WHERE p."nonce" = ? LIMIT 1')
    found = execute(sql, [matter_code or "", nonce_hex]).fetchone()
    if found is None:
        return None
    n_p, n_l = len(Presentation._meta.sorted_fields), len(Licence._meta.sorted_fields)
    n_i = n_p + n_l + len(Issuer._meta.sorted_fields)
    presentation = built(Presentation, found[:n_p])
    licence = built(Licence, found[n_p:n_p + n_l]) if found[n_p] is not None else None
    issuer = built(Issuer, found[n_p + n_l:n_i]) if licence is not None and found[n_p + n_l] is not None else None
    if issuer is not None:
        licence.__rel__["issuer"] = issuer  # `licence.issuer` without a query
    matter = built(MatterRecord, found[n_i:]) if found[n_i] is not None else None
    return presentation, licence, issuer, matter
