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
from gridmap.i18n import joined, msg
from gridmap.locks import lock_district
from gridmap.plans.compare import Comparison, compare_plan
from gridmap.plans.drafts import STATUS_NAMES, draft_grids, get_plan, plan_version


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
        raise InvalidInput(msg("applying a plan needs a comment saying why (--comment TEXT)"))
    plan = get_plan(session, plan_id, lock=True)
    lock_district(session, plan.community_code[:6])
    if plan.status != "draft":
        status = STATUS_NAMES.get(plan.status, plan.status)
        if plan.applied_by or plan.applied_at:
            raise Conflict(msg("plan {plan} is {status} ({who} {when}); expected a draft",
                               plan=plan_id, status=status, who=plan.applied_by or "",
                               when=plan.applied_at or ""))
        raise Conflict(msg("plan {plan} is {status}; expected a draft", plan=plan_id,
                           status=status))
    now = plan_version(session, plan.community_code)
    if now.version != plan.base_version:
        raise Conflict(msg("plan {plan} was drafted against version {base} of community "
                           "{community}'s grids, which {who} changed at "
                           "{when:%Y-%m-%d %H:%M:%S %Z} (now version {version}); draft again "
                           "from the current grids", plan=plan_id, base=plan.base_version,
                           community=plan.community_code, who=now.changed_by,
                           when=now.changed_at, version=now.version))
    comparison = compare_plan(session, plan)
    if comparison.violations:
        listed = joined(v.detail for v in comparison.violations[:5])
        more = len(comparison.violations) - 5
        if more > 0:
            raise ValidationFailed(msg("plan {plan} breaks {count} rule(s): {listed}; and "
                                       "{more} more", plan=plan_id,
                                       count=len(comparison.violations), listed=listed,
                                       more=more))
        raise ValidationFailed(msg("plan {plan} breaks {count} rule(s): {listed}",
                                   plan=plan_id, count=len(comparison.violations),
                                   listed=listed))
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
