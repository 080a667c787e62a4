"""Draft plans and grid history over HTTP (``/api/plans…``, ``/api/grids/CODE/history``).

Views parse the request and call :mod:`gridmap.plans`; who may do what is the caller's
:class:`~gridmap.auth.scope.Scope`: reading a plan needs the whole community in reach,
drafting and applying needs the ``plan`` capability (planners, administrators) over a division
that covers the community.
"""
from __future__ import annotations

import shapely
from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import text

from gridmap import codes as gcodes
from gridmap.errors import Forbidden, InvalidInput, NotFound
from gridmap.i18n import msg
from gridmap.jobs.queue import enqueue
from gridmap.partition.propose import keep_as_draft, propose
from gridmap.plans.apply import apply_plan
from gridmap.plans.compare import compare_plan
from gridmap.plans.drafts import DraftGrid, create_draft, get_plan, list_plans, plan_version
from gridmap.plans.export import export_plan
from gridmap.plans.history import grid_at, grid_history, parse_date
from layers import get_layer
from webapp import params
from webapp.auth import access, caller_scope
from webapp.database import get_session

bp = Blueprint("plans", __name__, url_prefix="/api")


def _plan_json(plan) -> dict:
    return {"id": plan.id, "community": plan.community_code, "status": plan.status,
            "title": plan.title, "source": plan.source, "base_version": plan.base_version,
            "created_by": plan.created_by, "created_at": plan.created_at.isoformat(),
            "applied_by": plan.applied_by,
            "applied_at": plan.applied_at.isoformat() if plan.applied_at else None,
            "comment": plan.comment}


def _covered(community: str) -> None:
    """Plans show every grid of their community: only callers who reach the whole community
    (its community admin, planners of its street or district, administrators) see them."""
    scope = caller_scope()
    if not scope.covers_division(community):
        raise Forbidden(msg("the plans of community {community} show all its grids, more "
                            "than {actor} may see", community=community, actor=scope.actor))


def _may_plan(community: str) -> None:
    scope = caller_scope()
    if not scope.may("plan") or not scope.covers_division(community):
        raise Forbidden(msg("{actor} may not draft or apply plans of community {community}: "
                            "planners of its street or district and administrators may",
                            actor=scope.actor, community=community))


_json_body = params.json_object


@bp.get("/plans")
@access("person")
def plans():
    community = params.single("community")
    if not community:
        raise InvalidInput(msg("give community=CODE (12 digits)"))
    gcodes.check_division_code(community, "community")
    _covered(community)
    session = get_session()
    version = plan_version(session, community)
    return jsonify({"community": community, "version": version.version,
                    "changed_by": version.changed_by,
                    "changed_at": version.changed_at.isoformat() if version.changed_at else None,
                    "plans": [_plan_json(p) for p in list_plans(session, community)]})


@bp.post("/plans")
@access("person")
def create():
    """A draft from ``{"community": CODE, "base_version": N, "title": …, "features":
    [GeoJSON features with properties kind and name]}`` (lon/lat). ``base_version`` is the
    version of the community's grids the draft was drawn from (``GET /api/plans?community=``
    gives it); an older one is a 409."""
    body = _json_body()
    community = str(body.get("community", ""))
    gcodes.check_division_code(community, "community")
    _may_plan(community)
    base_version = body.get("base_version")
    if isinstance(base_version, bool) or not isinstance(base_version, int):
        raise InvalidInput(msg("base_version: expected the version of the community's grids "
                               "the draft was drawn from, a whole number (GET "
                               "/api/plans?community=)"))
    features = body.get("features")
    if not isinstance(features, list) or not features:
        raise InvalidInput(msg("features: expected a non-empty list of GeoJSON features"))
    grids = []
    for number, feature in enumerate(features, start=1):
        try:
            geom = shapely.geometry.shape(feature["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError, IndexError,
                shapely.errors.GEOSException):
            raise InvalidInput(msg("feature {number}: expected a GeoJSON feature with a "
                                   "polygon geometry", number=number)) from None
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            raise InvalidInput(msg("feature {number}: properties must be an object",
                                   number=number))
        grids.append(DraftGrid(props.get("kind", "residential"), geom, props.get("name") or None))
    session = get_session()
    plan = create_draft(session, community, grids, title=str(body.get("title") or "web draft"),
                        source="web", base_version=base_version,
                        tolerance_m=current_app.config["GRIDMAP"]["containment_tolerance_m"])
    comparison = compare_plan(session, plan)
    session.commit()
    return jsonify({**_plan_json(plan), "comparison": comparison.as_dict()}), 201


def _readable_plan(plan_id: int):
    """The plan, for a caller who may read it (see :func:`_covered`)."""
    found = get_plan(get_session(), plan_id)
    _covered(found.community_code)
    return found


@bp.get("/plans/<int(max=2147483647):plan_id>")
@access("person")
def plan(plan_id: int):
    found = _readable_plan(plan_id)
    return jsonify({**_plan_json(found),
                    "comparison": compare_plan(get_session(), found).as_dict()})


@bp.get("/plans/<int(max=2147483647):plan_id>/export.gpkg")
@access("person")
def export(plan_id: int):
    """The plan as a GeoPackage (``gridmap plan export``), for whoever may read the plan."""
    import tempfile
    from pathlib import Path

    found = _readable_plan(plan_id)
    with tempfile.TemporaryDirectory(prefix="gridmap-export-") as folder:
        path = Path(folder) / f"plan-{plan_id}.gpkg"
        export_plan(get_session(), plan_id, path)
        data = path.read_bytes()
    name = f"plan-{plan_id}-{found.community_code}.gpkg"
    return Response(data, mimetype="application/geopackage+sqlite3",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/plans/<int(max=2147483647):plan_id>/apply")
@access("person")
def apply(plan_id: int):
    """Apply a draft: ``{"comment": "why"}``."""
    body = _json_body()
    session = get_session()
    found = get_plan(session, plan_id)
    _may_plan(found.community_code)
    changes, _ = apply_plan(session, plan_id, comment=str(body.get("comment") or ""))
    session.commit()
    return jsonify({**_plan_json(get_plan(session, plan_id)), "issued": changes.inserted,
                    "retired": changes.retired,
                    "lineage": [list(pair) for pair in changes.lineage]})


def _grid_row(code: str):
    return get_session().execute(text(
        "select community_code, street_code, district_code from grid where code = :c "
        "order by valid_from desc limit 1"), {"c": code}).one_or_none()


@bp.get("/grids/<code>/history")
@access("reader")
def history(code: str):
    gcodes.parse(code)
    scope = caller_scope()
    get_layer(current_app.extensions["gridmap_layers"], "grids").check_collection(scope)
    scope_check = _grid_row(code)
    if scope_check is None:
        raise NotFound(msg("grid code {code} was never issued", code=code))
    if not scope.allows_grid(code, community=scope_check[0], street=scope_check[1],
                             district=scope_check[2]):
        raise Forbidden(msg("grid {code} lies outside what {actor} may see", code=code,
                            actor=scope.actor))
    return jsonify(grid_history(get_session(), code))


def grid_on_date(date: str):
    """``/api/grids?at=YYYY-MM-DD&lon=…&lat=…``: the grid that held the place that day."""
    scope = caller_scope()
    get_layer(current_app.extensions["gridmap_layers"], "grids").check_collection(scope)
    lon, lat = params.coordinate("lon", -180, 180), params.coordinate("lat", -90, 90)
    found = grid_at(get_session(), lon, lat, parse_date(date))
    if found is None:
        raise NotFound(msg("no grid held {lon}, {lat} on {date}", lon=lon, lat=lat, date=date))
    row = _grid_row(found["code"])
    if not scope.allows_grid(
            found["code"], community=row[0], street=row[1], district=row[2]):
        raise Forbidden(msg("the grid there lies outside what {actor} may see",
                            actor=scope.actor))
    return jsonify(found)


def _bound(body: dict, name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100_000:
        raise InvalidInput(msg("{name}: expected a whole number from 1 to 100000",
                               name=name))
    return value


@bp.post("/partitions")
@access("person")
def partitions():
    """Propose grids: ``{"community": CODE}`` answers at once with the draft plan it kept
    (201); ``{"street": CODE}`` partitions each community of the street in a background job
    (202, with the job to follow at ``/api/jobs/ID``). Optional ``min``, ``max``, ``grids``
    (one community), ``seed``."""
    body = _json_body()
    community, street = body.get("community"), body.get("street")
    if (community is None) == (street is None):
        raise InvalidInput(msg("give exactly one of community (12 digits) or street (9)"))
    low, high, grids = _bound(body, "min"), _bound(body, "max"), _bound(body, "grids")
    seed = _bound(body, "seed") or 0
    session = get_session()
    if community is not None:
        gcodes.check_division_code(str(community), "community")
        _may_plan(community)
        proposal = propose(session, community, min_households=low, max_households=high,
                           grids=grids, seed=seed)
        draft = keep_as_draft(session, proposal, seed=seed, tolerance_m=current_app.config[
            "GRIDMAP"]["containment_tolerance_m"])
        comparison = compare_plan(session, draft)
        session.commit()
        return jsonify({**_plan_json(draft), "comparison": comparison.as_dict(),
                        "violations": [v.as_dict() for v in proposal.plan.violations]}), 201
    gcodes.check_division_code(str(street), "street")
    _may_plan(street)
    if grids is not None:
        raise InvalidInput(msg("grids applies to one community, not to a street"))
    job_id = enqueue(current_app.config["GRIDMAP"]["database_url"], "partition_street",
                     requested_by=caller_scope().actor, street=street, min_households=low,
                     max_households=high, seed=seed)
    return jsonify({"job": job_id, "status": f"/api/jobs/{job_id}"}), 202
