/*
 * A layer drawn from vector tiles (/tiles/<name>/{z}/{x}/{y}.mvt) with Leaflet.VectorGrid:
 * each tile is fetched once as the map pans (the browser keeps it and revalidates it by its
 * ETag), so a district of 200,000 buildings costs only the tiles in view. Tiles carry the id,
 * the fields the style reads and the popup's; a feature's geometry, when the editor needs it,
 * comes from the feature API. Labels are not taken from the tiles (a feature cut at a tile's
 * edge would be labelled twice, or cut): the label placer asks contains() whether a label fits
 * inside the feature as the tiles draw it.
 *
 * SVG tiles, not canvas: each feature stays a <path> a tap lands on, as in the GeoJSON layers.
 * Each tile is laid flat into its zoom level and added to its neighbours (seamless(), below),
 * so a translucent fill cut by a tile edge shows no line along the edge.
 */
import { fetchJson } from "./util.js";
import { isInteractive, styleFor } from "./style.js";

// Leaflet 1.8 dropped DomEvent.fakeStop, which VectorGrid 1.3 still calls on a tap
if (!L.DomEvent.fakeStop) { L.DomEvent.fakeStop = (e) => { e._stopped = true; }; }

const NATIVE_MAX_ZOOM = 18;  // the server's highest zoom; the map scales its tiles beyond

/**
 * A tile drawn so that it meets its neighbours without a seam. A tile's <svg> clips what it
 * draws at its edge (the tile's buffer is never shown); at a fractional zoom (15.5: tiles
 * scaled by 0.707, edges at x = 800.217…) the edge falls inside a screen pixel, which each of
 * the two tiles then covers in part (antialiased: 0.217 and 0.783 of it). Two things made
 * that pixel differ from its neighbours, a thin darker or lighter line along every tile edge:
 *  - Leaflet places each tile with translate3d(), which makes every tile a compositor layer
 *    of its own, rasterised apart and resampled to its fractional place: its edge spills
 *    into the next pixel row (darker where both tiles cover it) and leaves the last one
 *    short (lighter). Placed by left/top, as Leaflet does without 3D, the tiles paint into
 *    their zoom level's layer, at the level's scale.
 *  - drawn one over the other ("source-over"), two shares c and 1-c of a fill of opacity a
 *    give a - c(1-c)a² (lighter; at a building's 0.75 plainly so). Added ("plus-lighter"),
 *    they give exactly a: tiles meet but never overlap (each clips at its edge), so adding is
 *    exact. It is Leaflet's own cure for image tiles (leaflet.css: img.leaflet-tile), which
 *    its rule does not reach for SVG tiles. The zoom level's container (transformed: a
 *    stacking context) bounds the addition: tiles add to each other, never to the layers
 *    under them.
 * Each needs the other (Chromium): laid flat but drawn source-over, the tiles still came as
 * one layer per row of tiles, with a line between the rows; added but each a layer of its
 * own, they still spilled at some zooms (16.25). Both together, a zoom level is one layer.
 * A fill is drawn with the colour and opacity its style gives, as before; outlines are
 * antialiased at the level's scale instead of resampled from the tile's.
 */
function seamless(tile) {
  const pos = tile._leaflet_pos;  // where GridLayer put the tile (L.DomUtil.setPosition)
  tile.style.transform = "";
  tile.style.left = `${pos.x}px`;
  tile.style.top = `${pos.y}px`;
  tile.style.overflow = "hidden";  // as an <svg> has by default: the buffer never added in
  tile.style.mixBlendMode = "plus-lighter";
}

/** The SVG path of feature ``id`` in a loaded tile (VectorGrid's renderer), if it has one. */
function pathIn(tile, id) {
  const drawn = tile && tile._features && tile._features[id];
  return drawn ? drawn.feature._path : null;
}

export class TiledLayer {
  /**
   * @param {L.Map} map
   * @param {object} def the layer's definition from /api/layers (with its "tiles" URL)
   * @param {object} hooks onTap(def, feature, layer) with the feature's tile properties (and
   *   layer.fetchGeoJSON() for the whole feature), onBusy(+1 | -1) while tiles load, onLoad()
   *   once the tiles in view are drawn
   */
  constructor(map, def, hooks) {
    this.map = map;
    this.def = def;
    this.hooks = hooks;
    this.style = styleFor(def);
    this.marks = new Map();  // feature id → its extra style
    this.loading = false;
    this.layer = this.make();
  }

  make() {
    const def = this.def;
    const layer = L.vectorGrid.protobuf(def.tiles, {
      pane: `layer-${def.name}`,
      rendererFactory: L.svg.tile,
      interactive: isInteractive(def),
      minZoom: def.min_zoom || 0,
      maxNativeZoom: NATIVE_MAX_ZOOM,
      maxZoom: 22,
      fetchOptions: { credentials: "same-origin" },
      getFeatureId: (feature) => feature.properties.id,
      vectorTileLayerStyles: { [def.name]: (props) => this.style({ properties: props }) },
    });
    layer.on("tileloadstart", (e) => seamless(e.tile));  // fired as the tile is placed
    layer.on("loading", () => this.busy(true));
    layer.on("load", () => {
      this.busy(false);
      this.map.getContainer().dataset[`loaded${def.name}`] = String(this.count());
      this.hooks.onLoad();
    });
    layer.on("tileload", () => this.raise());
    layer.on("remove", () => this.busy(false));
    layer.on("click", (e) => this.tapped(e));
    return layer;
  }

  busy(on) {
    if (on !== this.loading) {
      this.loading = on;
      this.hooks.onBusy(on ? 1 : -1);
    }
  }

  /** The features in the tiles drawn now, each counted once. */
  count() {
    const ids = new Set();
    Object.values(this.layer._vectorTiles || {}).forEach((tile) => {
      Object.keys(tile._features || {}).forEach((id) => ids.add(id));
    });
    return ids.size;
  }

  isOn() { return this.map.hasLayer(this.layer); }

  setVisible(on) {
    if (on) { this.layer.addTo(this.map); } else { this.map.removeLayer(this.layer); }
  }

  /** Fetch the tiles again (after a change): unchanged ones come back as 304s. A new layer in
   * place of the old, not redraw(): Leaflet 1.9's GridLayer.redraw asks for tiles at a
   * fractional zoom (15.75) when the map is at one; nor the same layer taken off and put back:
   * a tile the old round was still fetching would then mark the new round's tile at its place
   * loaded, and "load" fire before the new tiles are drawn (labels placed on empty tiles). */
  reload() {
    if (!this.isOn()) { return; }
    const old = this.layer;
    this.layer = this.make();
    this.map.removeLayer(old);
    old.off();
    this.layer.addTo(this.map);
    this.marks.forEach((extra, id) => this.restyle(id, extra));
  }

  /** Whether ``latlng`` lies inside feature ``id`` as the tile under it draws it (holes and
   * multipolygons included); false while that tile is not loaded. */
  contains(id, latlng) {
    const z = this.layer._tileZoom;
    if (z === undefined || !this.isOn()) { return false; }
    const size = this.layer.getTileSize();
    const px = this.map.project(latlng, z);
    const coords = px.unscaleBy(size).floor();
    coords.z = z;
    const tile = (this.layer._vectorTiles || {})[this.layer._tileCoordsToKey(coords)];
    const path = pathIn(tile, id);
    if (!path) { return false; }
    const local = px.subtract(coords.scaleBy(size));  // the tile's SVG is 0…size a side
    return path.isPointInFill(new DOMPoint(local.x, local.y));
  }

  /** A tap: the feature as its tile has it (its popup fields); its geometry, when asked for,
   * from the feature API. */
  tapped(e) {
    const props = e.layer && e.layer.properties;
    if (!props || props.id === null || props.id === undefined) { return; }
    const feature = { type: "Feature", id: props.id, properties: props };
    const url = `/api/layers/${encodeURIComponent(this.def.name)}/features/${encodeURIComponent(props.id)}`;
    this.hooks.onTap(this.def, feature, { feature, fetchGeoJSON: () => fetchJson(url) });
  }

  /** Draw each feature id of ``marks`` with its extra style (the tapped one, the focus). */
  mark(marks) {
    this.marks.forEach((_, id) => { if (!marks.has(id)) { this.layer.resetFeatureStyle(id); } });
    marks.forEach((extra, id) => this.restyle(id, extra));
    this.marks = new Map(marks);
    this.raise();
  }

  restyle(id, extra) {
    this.layer.setFeatureStyle(id, (props) => Object.assign(this.style({ properties: props }), extra));
  }

  /** Draw the marked features over their neighbours in every tile (a thick outline is not
   * hidden under the next feature's). */
  raise() {
    Object.values(this.layer._vectorTiles || {}).forEach((tile) => {
      this.marks.forEach((_, id) => {
        const path = pathIn(tile, id);
        if (path && path.parentNode) { path.parentNode.appendChild(path); }
      });
    });
  }
}
