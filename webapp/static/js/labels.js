/*
 * Map labels that never overlap.
 *
 * Each labelled feature offers variants, longest first (full code and households … sequence
 * number). After every move, zoom, resize or load, placement runs in two passes over the
 * features whose anchor is in view, largest feature first:
 *   1. the shortest variant is placed where it is wholly on screen, fits inside its own
 *      polygon and touches no label placed before it; otherwise the feature has no label at
 *      this view;
 *   2. each placed label grows to the longest variant that still fits inside its polygon and
 *      touches no other label.
 * So zoomed out a grid shows its number, zoomed in its code and households, and a label is
 * dropped rather than drawn over another. Collisions are looked up in an R-tree (rbush).
 *
 * "Fits inside its polygon" asks the browser itself: each item's contains(point) answers for
 * the box's corners, edge midpoints and centre, from the SVG path that draws the feature
 * (isPointInFill: holes and multipolygons included) — for a layer from vector tiles, the path
 * in the tile under that point (tiled.js), so a grid cut across tiles is labelled once, at its
 * own label point, and never by a label cut at a tile's edge. Labels live in their own pane
 * with pointer-events: none, so a tap on a label reaches the polygon under the finger.
 */
const GAP = 3;  // px kept free around each label
const INSET = 1;

export class LabelPlacer {
  constructor(map) {
    this.map = map;
    this.pane = map.createPane("labelPane");
    this.pane.classList.add("leaflet-zoom-hide");
    this.measurer = L.DomUtil.create("div", "map-label map-label-measure", this.pane);
    this.groups = new Map();
    this.sizes = new Map();
    this.frame = null;
    this.placements = 0;
    map.on("moveend zoomend resize", () => this.schedule());
  }

  /** Replace the labels of one layer: items are {id, latlng, variants, priority, kind,
   * contains(containerPoint) → whether the point lies inside the feature, visible()}. */
  set(name, items) {
    this.clear(name);
    items.forEach((item) => {
      item.el = L.DomUtil.create("div", `map-label kind-${item.kind || "none"}`, this.pane);
      item.el.hidden = true;
      item.el.dataset.id = item.id;
      item.el.dataset.layer = name;
      item.shown = -1;
    });
    this.groups.set(name, items);
    this.schedule();
  }

  clear(name) {
    (this.groups.get(name) || []).forEach((item) => item.el.remove());
    this.groups.delete(name);
    this.schedule();
  }

  /** Place on the next frame, once every handler of this move (the renderers') has run. */
  schedule() {
    if (this.frame === null) {
      this.frame = requestAnimationFrame(() => { this.frame = null; this.place(); });
    }
  }

  get pending() { return this.frame !== null; }

  size(text, kind) {
    const key = `${kind}\u0000${text}`;
    if (!this.sizes.has(key)) {
      this.measurer.className = `map-label map-label-measure kind-${kind || "none"}`;
      this.measurer.textContent = text;
      const rect = this.measurer.getBoundingClientRect();
      this.sizes.set(key, [Math.ceil(rect.width), Math.ceil(rect.height)]);
    }
    return this.sizes.get(key);
  }

  box(item, variant, anchor) {
    const [w, h] = this.size(item.variants[variant], item.kind);
    return { minX: anchor.x - w / 2 - GAP, minY: anchor.y - h / 2 - GAP,
             maxX: anchor.x + w / 2 + GAP, maxY: anchor.y + h / 2 + GAP, item, variant };
  }

  /** Whether the whole label (less its gap) is on screen: a cut label misleads. */
  inView(box, size) {
    return box.minX + GAP >= 0 && box.minY + GAP >= 0 &&
      box.maxX - GAP <= size.x && box.maxY - GAP <= size.y;
  }

  /** Whether the label box (less its gap) lies inside the item's polygon. */
  fits(item, box) {
    const x0 = box.minX + GAP + INSET;
    const x1 = box.maxX - GAP - INSET;
    const y0 = box.minY + GAP + INSET;
    const y1 = box.maxY - GAP - INSET;
    const xs = [x0, (x0 + x1) / 2, x1];
    const ys = [y0, (y0 + y1) / 2, y1];
    for (const x of xs) {
      for (const y of ys) {
        if (!item.contains(L.point(x, y))) { return false; }
      }
    }
    return true;
  }

  collides(tree, box, self) {
    return tree.search(box).some((other) => other.item !== self);
  }

  place() {
    const size = this.map.getSize();
    const items = [];
    this.groups.forEach((group) => group.forEach((item) => {
      item.anchor = this.map.latLngToContainerPoint(item.latlng);
      const inView = item.anchor.x >= 0 && item.anchor.y >= 0 &&
        item.anchor.x <= size.x && item.anchor.y <= size.y;
      item.next = -1;
      if (inView && item.variants.length && item.visible()) { items.push(item); }
    }));
    items.sort((a, b) => b.priority - a.priority || (a.id < b.id ? -1 : 1));
    const tree = new RBush();
    const placed = new Map();
    items.forEach((item) => {
      const shortest = item.variants.length - 1;
      const box = this.box(item, shortest, item.anchor);
      if (this.inView(box, size) && this.fits(item, box) && !this.collides(tree, box, item)) {
        tree.insert(box);
        placed.set(item, box);
        item.next = shortest;
      }
    });
    items.forEach((item) => {
      const current = placed.get(item);
      if (!current) { return; }
      for (let v = 0; v < item.next; v += 1) {
        const box = this.box(item, v, item.anchor);
        if (this.inView(box, size) && this.fits(item, box) && !this.collides(tree, box, item)) {
          tree.remove(current);
          tree.insert(box);
          placed.set(item, box);
          item.next = v;
          break;
        }
      }
    });
    this.groups.forEach((group) => group.forEach((item) => this.show(item)));
    this.placements += 1;
    const container = this.map.getContainer();
    container.dataset.labelsShown = String(placed.size);
    container.dataset.labelsZoom = String(this.map.getZoom());
  }

  show(item) {
    if (item.next < 0) {
      item.el.hidden = true;
      item.shown = -1;
      return;
    }
    if (item.shown !== item.next) {
      item.el.textContent = item.variants[item.next];
      item.shown = item.next;
    }
    const [w, h] = this.size(item.variants[item.next], item.kind);
    const at = this.map.containerPointToLayerPoint(item.anchor).subtract([w / 2, h / 2]);
    L.DomUtil.setPosition(item.el, at.round());
    item.el.hidden = false;
  }
}
