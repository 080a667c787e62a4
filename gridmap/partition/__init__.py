"""The automatic partition of a community into responsibility grids (issue 7)."""
from gridmap.partition.community import grid_count, partition_community
from gridmap.partition.plan import CommunityInput, Plan, PlanGrid

__all__ = ["CommunityInput", "Plan", "PlanGrid", "grid_count", "partition_community"]
