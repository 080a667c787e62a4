"""A few incidents for the demo, in every kind of state, so the map and the case lists have
something to show after ``make run``: created once (when the demo district has none), as the
system, at places inside the demo's grids, with times in the past so that one dispatched case
is already overdue.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gridmap.audit import SYSTEM, acting_as
from gridmap.auth.scope import Scope
from gridmap.incidents.calendar import WorkingCalendar
from gridmap.incidents.service import advance_incident, report_incident
from gridmap.models.incident import Incident

#: (event class, description, days ago, actions taken a day apart)
DEMO_INCIDENTS = (
    ("0101", "小区门口垃圾桶满溢，垃圾堆在路边", 0, ()),
    ("0404", "人行道上机动车乱停放，行人绕行", 1, ("register",)),
    ("0406", "夜间露天烧烤，油烟扰民", 2, ("register", "dispatch")),
    ("0501", "路面出现约半米的塌陷坑", 9, ("register", "dispatch")),
    ("0201", "楼道和电线杆上张贴小广告", 5, ("register", "dispatch", "handle")),
    ("0303", "渣土车沿路遗撒", 6, ("register", "dispatch", "handle", "verify", "close")),
    ("0305", "屋顶违法搭建彩钢棚", 20, ("register", "defer")),
)


def ensure_demo_incidents(session: Session, district: str, *,
                          calendar: WorkingCalendar) -> int:
    """Create the demo's incidents unless the district has some; return how many."""
    if session.execute(select(Incident.id).where(Incident.district_code == district)
                       .limit(1)).first():
        return 0
    places = session.execute(text(
        "select ST_X(p), ST_Y(p) from (select ST_PointOnSurface(geom) as p from grid "
        "where district_code = :d and valid_to is null and kind = 'residential' "
        "order by code) g"), {"d": district}).all()
    system = Scope("system:demo", "administrator", None, None, None, True)
    now = dt.datetime.now(dt.timezone.utc)
    with acting_as(SYSTEM):
        for number, (cls, description, days, actions) in enumerate(DEMO_INCIDENTS):
            lon, lat = places[(number * 5) % len(places)]
            at = now - dt.timedelta(days=days, hours=2)
            incident = report_incident(session, system, class_code=cls, lon=lon, lat=lat,
                                       description=description, now=at)
            for step, action in enumerate(actions, start=1):
                advance_incident(session, system, incident.id, action, calendar=calendar,
                                 comment="演示", now=min(at + dt.timedelta(hours=step), now))
    return len(DEMO_INCIDENTS)
