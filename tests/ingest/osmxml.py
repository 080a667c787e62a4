"""Hand-drawn OpenStreetMap XML files for tests: nodes, ways and multipolygon relations."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

LON, LAT = 114.3871, 30.5150  # inside the demo district, on ground with no building


class OsmFile:
    """Build an .osm file element by element; ids are allocated in order."""

    def __init__(self) -> None:
        self.root = ET.Element("osm", version="0.6", generator="gridmap tests")
        self._next = 1

    def _id(self) -> int:
        self._next += 1
        return self._next - 1

    def _tags(self, element: ET.Element, tags: dict[str, str]) -> None:
        for key, value in tags.items():
            ET.SubElement(element, "tag", k=key, v=value)

    def node(self, lon: float, lat: float, **tags: str) -> int:
        node_id = self._id()
        element = ET.SubElement(self.root, "node", id=str(node_id), lat=repr(lat),
                                lon=repr(lon), version="1")
        self._tags(element, tags)
        return node_id

    def way(self, coords: list[tuple[float, float]], tags: dict[str, str] | None = None,
            closed: bool = True, way_id: int | None = None) -> int:
        nodes = [self.node(x, y) for x, y in coords]
        if closed:
            nodes.append(nodes[0])
        way_id = way_id or self._id()
        element = ET.SubElement(self.root, "way", id=str(way_id), version="1")
        for ref in nodes:
            ET.SubElement(element, "nd", ref=str(ref))
        self._tags(element, tags or {})
        return way_id

    def box(self, i: int, tags: dict[str, str] | None, size: float = 0.0002, row: int = 0,
            way_id: int | None = None) -> int:
        """A closed way: the i-th square of ``size`` degrees east of (LON, LAT)."""
        x, y = LON + i * size * 1.5, LAT + row * size * 1.5
        return self.way([(x, y), (x + size, y), (x + size, y + size), (x, y + size)], tags,
                        way_id=way_id)

    def multipolygon(self, outer: list[int], tags: dict[str, str],
                     relation_id: int | None = None) -> int:
        relation_id = relation_id or self._id()
        element = ET.SubElement(self.root, "relation", id=str(relation_id), version="1")
        for ref in outer:
            ET.SubElement(element, "member", type="way", ref=str(ref), role="outer")
        self._tags(element, {"type": "multipolygon", **tags})
        return relation_id

    def write(self, path: Path) -> Path:
        ET.ElementTree(self.root).write(path, encoding="utf-8", xml_declaration=True)
        return path
