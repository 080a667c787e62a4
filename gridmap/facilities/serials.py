"""Issuing facility IDs: a counter per (district, class) that only ever grows.

One ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` reserves a block of serials: the row lock
it takes makes a second transaction issuing for the same district and class wait until the
first commits or rolls back, and then continue from the first one's last serial, so two
imports running at once never get the same serial. Nothing ever lowers the counter — retiring
a facility leaves its serial spent — so an ID is never issued twice. (A rolled-back
transaction gives its block back, which is fine: none of its IDs was ever seen.)
"""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gridmap.errors import InvalidInput
from gridmap.facilities.ids import MAX_SERIAL, encode
from gridmap.i18n import msg

_RESERVE = text("""
    insert into facility_serial as s (district_code, class_code, last_serial)
    values (:district, :class_code, :count)
    on conflict (district_code, class_code)
    do update set last_serial = s.last_serial + excluded.last_serial
    returning last_serial
""")


def issue_ids(session: Session, district: str, class_code: str, count: int) -> list[str]:
    """``count`` new facility IDs of class ``class_code`` in ``district``, in serial order
    (in the caller's transaction; the counter row stays locked until it ends).

    Raises
    ------
    InvalidInput
        The class would run past serial 999999 in this district.
    """
    if count <= 0:
        return []
    encode(district, class_code, 1)  # checks the parts before anything is written
    if count > MAX_SERIAL:
        raise InvalidInput(msg("{count} facilities of class {code} at once: at most {limit} "
                               "serials exist", count=count, code=class_code, limit=MAX_SERIAL))
    try:
        with session.begin_nested():  # a refusal leaves the counter as it was
            last = session.execute(_RESERVE, {"district": district, "class_code": class_code,
                                              "count": count}).scalar_one()
    except IntegrityError:  # the counter's check: past the last serial
        raise InvalidInput(msg("class {code} in district {district} has no serials left for "
                               "{count} more (the last is {limit})", code=class_code,
                               district=district, count=count, limit=MAX_SERIAL)) from None
    return [encode(district, class_code, serial) for serial in range(last - count + 1, last + 1)]
