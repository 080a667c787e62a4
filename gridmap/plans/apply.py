"""Applying a draft: one transaction that makes the draft the community's grids.

The draft must have been made against the community's current plan version (else 409 naming
who changed the grids and when), must pass the draft checks (:mod:`gridmap.plans.compare`), and
needs a comment. The grids change through :func:`gridmap.grid.redraw.apply_grids` — changed
grids get new codes (west→east, north→south), old codes are retired for ever, lineage is
recorded — then the buildings are reassigned and the totals refreshed; the plan row records who
applied it, when and why, and the audit trail holds the comment with the geometry before and
after.
"""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.audit import current_actor, record
from gridmap.errors import Conflict, InvalidInput, ValidationFailed
from gridmap.grid.assign import assign_district
from gridmap.grid.redraw import GridChanges, GridFeature, apply_grids
from gridmap.locks import lock_district
from gridmap.plans.compare import Comparison, compare_plan
from gridmap.plans.drafts import draft_grids, get_plan, plan_version


def _current_shapes(session: Session, community_code: str) -> dict[str, str]:
    rows = session.execute(text("select code, ST_AsText(geom) from grid where community_code "
                                "= :c and valid_to is null order by code"),
                           {"c": community_code}).all()
    return {code: wkt for code, wkt in rows}


def apply_plan(session: Session, plan_id: int, *,
               comment: str) -> tuple[GridChanges, Comparison]:
    """Make draft ``plan_id`` its community's grids (in the caller's transaction).

    Raises
    ------
    InvalidInput
        No comment.
    Conflict
        The plan is no longer a draft, or the community's grids changed since it was made.
    ValidationFailed
        The draft breaks a rule (each violation named); nothing is written.
    """
    comment = (comment or "").strip()
    if not comment:
        raise InvalidInput("applying a plan needs a comment saying why (--comment TEXT)")
    plan = get_plan(session, plan_id, lock=True)
    lock_district(session, plan.community_code[:6])
    if plan.status != "draft":
        raise Conflict(f"plan {plan_id} is {plan.status} ({plan.applied_by or ''} "
                       f"{plan.applied_at or ''}); expected a draft".replace(" ()", ""))
    now = plan_version(session, plan.community_code)
    if now.version != plan.base_version:
        raise Conflict(f"plan {plan_id} was drafted against version {plan.base_version} of "
                       f"community {plan.community_code}'s grids, which {now.changed_by} "
                       f"changed at {now.changed_at:%Y-%m-%d %H:%M:%S %Z} (now version "
                       f"{now.version}); draft again from the current grids")
    comparison = compare_plan(session, plan)
    if comparison.violations:
        listed = "; ".join(v.detail for v in comparison.violations[:5])
        more = len(comparison.violations) - 5
        raise ValidationFailed(f"plan {plan_id} breaks {len(comparison.violations)} rule(s): "
                               f"{listed}" + (f"; and {more} more" if more > 0 else ""))
    before = _current_shapes(session, plan.community_code)
    features = [GridFeature(community_code=plan.community_code, kind=g.kind, geom=geom,
                            name=g.name, label=f"plan {plan_id} grid {g.position}")
                for g, geom in draft_grids(session, plan_id)]
    changes = apply_grids(session, features, replace=True, note=f"plan {plan_id}")
    assign_district(session, plan.community_code[:6])
    actor = current_actor()
    plan.status = "applied"
    plan.applied_by = f"{actor.kind}:{actor.name}"
    plan.applied_at = session.execute(text("select now()")).scalar()
    plan.comment = comment
    record(session, action="apply", table="plan", key=str(plan_id),
           before={"grids": before},
           after={"comment": comment, "grids": _current_shapes(session, plan.community_code),
                  "retired": changes.retired, "issued": changes.inserted,
                  "lineage": changes.lineage,
                  # the buildings the reassignment moved, as the comparison counted them (a
                  # grid whose shape did not change keeps its code and its buildings)
                  "moves": [vars(m) for m in comparison.moves
                            if m.from_code not in changes.unchanged]})
    return changes, comparison
