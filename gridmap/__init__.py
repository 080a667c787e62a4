"""gridmap — GIS platform for community grid management (社区网格化管理)."""

__version__ = "0.1.0"
