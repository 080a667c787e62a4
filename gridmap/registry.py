"""The code registry: issues grid codes, never reissues a retired one, records lineage."""
from __future__ import annotations

import datetime as dt
from typing import Iterable, Sequence

import numpy as np
import shapely
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from gridmap import codes as gcodes
from gridmap.errors import InvalidInput, NotFound
from gridmap.i18n import msg
from gridmap.models import CodeRegistryEntry, Community, District, GridLineage


def next_sequences(session: Session, community_code: str, count: int) -> list[int]:
    """The next ``count`` sequence numbers of a community: above every number ever issued,
    retired ones included, so no code comes back. Locks the community row until commit."""
    community = session.execute(select(Community).where(Community.code == community_code)
                                .with_for_update()).scalar_one_or_none()
    if community is None:
        raise NotFound(msg("community {community_code!r} is not loaded",
                           community_code=community_code))
    highest = session.execute(select(func.max(CodeRegistryEntry.sequence))
                              .where(CodeRegistryEntry.community_code == community_code)
                              ).scalar() or 0
    return list(range(highest + 1, highest + 1 + count))


def issue_codes(session: Session, community_code: str, geometries: Sequence, *,
                row_height: float, note: str | None = None) -> list[str]:
    """Issue one code per geometry (projected CRS), numbered west→east then north→south.

    Returns the codes in the order of ``geometries``.
    """
    district = session.get(District, community_code[:6])
    if district is None:
        raise NotFound(msg("district {value!r} of community {community_code} is not loaded",
                           value=community_code[:6], community_code=community_code))
    geoms = np.asarray(geometries, dtype=object)
    points = shapely.point_on_surface(geoms)
    order = gcodes.spatial_sequence_order(shapely.get_x(points), shapely.get_y(points),
                                          row_height=row_height)
    sequences = next_sequences(session, community_code, len(geoms))
    profile = gcodes.PROFILES[district.code_profile]
    if sequences and sequences[-1] > profile.max_sequence:
        raise InvalidInput(msg("community {community_code} would need sequence {value}; profile "
                               "{name} stops at {max_sequence}", community_code=community_code,
                               value=sequences[-1], name=profile.name,
                               max_sequence=profile.max_sequence))
    result = [""] * len(geoms)
    for rank, row in enumerate(order):
        code = gcodes.child_code(community_code, sequences[rank], district.code_profile)
        session.add(CodeRegistryEntry(code=code, community_code=community_code,
                                      sequence=sequences[rank], status="issued", note=note))
        result[row] = code
    session.flush()
    return result


def retire_codes(session: Session, codes: Sequence[str], *,
                 successors: Sequence[str] = (),
                 lineage: Iterable[tuple[str, str]] | None = None,
                 at: dt.datetime | None = None) -> None:
    """Retire codes (they are never issued again) and record which codes replaced them:
    every retired code → every successor, or exactly the ``lineage`` pairs (parent, child)
    when given. ``at`` is the retirement time (default: now)."""
    now = at or dt.datetime.now(dt.timezone.utc)
    session.execute(update(CodeRegistryEntry).where(CodeRegistryEntry.code.in_(list(codes)))
                    .values(status="retired", retired_at=now))
    pairs = lineage if lineage is not None else ((p, c) for p in codes for c in successors)
    session.add_all(GridLineage(parent_code=p, child_code=c) for p, c in pairs)
    session.flush()
