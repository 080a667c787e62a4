"""Grid workers' daily inspection routes: what is due in a grid (:mod:`.due`), the plan over
the coming days on the walking network (:mod:`.plan`), the visits recorded (:mod:`.visits`),
each community's service station and working day (:mod:`.stations`), and the route as GPX or
GeoJSON (:mod:`.output`).

The API another module calls::

    route = plan_route(session, scope, "420111001001001", settings=..., on=date, days=1)
    visit = record_visit(session, scope, "420111001001001", stop="building:12", ...)
    station = set_station(session, scope, "420111001001", lon=..., lat=..., ...)
"""
