"""A partition as a planner asks for it: propose grids for a community (or each community of a
street), and keep a proposal as a draft plan to compare, edit and apply (:mod:`gridmap.plans`).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from gridmap.errors import InvalidInput
from gridmap.geo import STORAGE_SRID, reproject
from gridmap.i18n import msg
from gridmap.models import Plan as DraftPlan
from gridmap.partition.community import partition_community
from gridmap.partition.load import CommunitySource, load_community, street_communities
from gridmap.partition.plan import Plan
from gridmap.plans.drafts import DraftGrid, create_draft
from gridmap.progress import NoProgress, Progress


@dataclass
class Proposal:
    """One community's proposed grids, the source they were computed from, and the draft
    plan they were kept as (when kept)."""

    plan: Plan
    source: CommunitySource
    draft: DraftPlan | None = None


def propose(session: Session, community_code: str, *, min_households: int | None = None,
            max_households: int | None = None, grids: int | None = None,
            seed: int = 0) -> Proposal:
    """Partition ``community_code`` within the bounds (default: its district's)."""
    source = load_community(session, community_code)
    low = min_households or source.min_households
    high = max_households or source.max_households
    if low > high:
        raise InvalidInput(msg("--min {low} is above --max {high}: expected min ≤ max",
                               low=low, high=high))
    plan = partition_community(source.community, min_households=low, max_households=high,
                               grids=grids, epsg=source.epsg, seed=seed)
    return Proposal(plan, source)


def keep_as_draft(session: Session, proposal: Proposal, *, seed: int = 0,
                  tolerance_m: float = 0.5) -> DraftPlan:
    """Store a proposal as a draft plan of its community (drawn from its current grids)."""
    grids = [DraftGrid(g.kind, reproject(g.geometry, proposal.source.epsg, STORAGE_SRID))
             for g in proposal.plan.grids]
    proposal.draft = create_draft(
        session, proposal.plan.community_code, grids, source="partition",
        title=f"partition {proposal.plan.min_households}–{proposal.plan.max_households}"
              f" (seed {seed})", tolerance_m=tolerance_m)
    return proposal.draft


def propose_street(session: Session, street_code: str, *, keep: bool = False,
                   progress: Progress | None = None, seed: int = 0, tolerance_m: float = 0.5,
                   **bounds: int | None) -> list[Proposal]:
    """A proposal for each community of a street, each inside its own boundary; ``keep``
    stores each as a draft."""
    progress = progress or NoProgress()
    codes = street_communities(session, street_code)
    progress.stage(str(msg("partitioning the communities of street {street}",
                           street=street_code)), total=len(codes))
    proposals = []
    for code in codes:
        proposal = propose(session, code, seed=seed, **bounds)
        if keep:
            keep_as_draft(session, proposal, seed=seed, tolerance_m=tolerance_m)
        proposals.append(proposal)
        progress.advance(1)
    return proposals
