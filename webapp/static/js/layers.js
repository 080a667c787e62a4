/*
 * The map's layers, drawn from the feature API (/api/layers/<name>/features?bbox=…), or from
 * vector tiles when the definition offers them ("tiles": grids and buildings, see tiled.js).
 * A tiled layer with labels (the grids) gets one label point per feature in view from
 * /api/layers/<name>/labels?bbox=…, reloaded after every move like a GeoJSON layer: the labels
 * never come from the tiles' pieces.
 *
 * Each layer gets a pane of its own stacked by the definition's "order" (water and roads
 * under the grids, buildings over them), so reloading one layer never changes what is drawn
 * over what. A layer reloads after every move; a newer request aborts the older one. When a
 * district is chosen, layers that can filter by district ask only for it.
 */
import { fetchJson, fillTemplate } from "./util.js";
import { t } from "./i18n.js";
import { isInteractive, styleFor } from "./style.js";
import { TiledLayer } from "./tiled.js";

const PANE_BASE_Z = 400;  // Leaflet's overlay pane; markers start at 600
// Colours no road, water or boundary uses: the tapped shape, the chosen unit's boundary.
const HIGHLIGHT = { color: "#e0115f", weight: 5, opacity: 1 };
const FOCUS = { color: "#6a1b9a", weight: 6, opacity: 0.85 };

/** The label variants of a feature, longest first, empty and repeated ones left out. */
export function labelVariants(def, props) {
  const spec = def.label;
  let templates = [];
  if (typeof spec === "string") {
    templates = [spec];
  } else if (Array.isArray(spec)) {
    templates = spec;
  } else if (spec && spec.variants) {
    templates = spec.variants[props[spec.by]] || spec.variants.default || [];
  }
  const out = [];
  templates.forEach((template) => {
    const text = fillTemplate(template, props);
    if (text && !out.includes(text)) { out.push(text); }
  });
  return out;
}

/** A label of the placer (labels.js) for ``feature`` at ``at`` ([lon, lat]). */
function labelItem(def, feature, at, { contains, visible }) {
  const props = feature.properties;
  const priority = (def.label && def.label.priority) || "area_m2";
  return { id: String(feature.id), latlng: L.latLng(at[1], at[0]), kind: props.kind,
           variants: labelVariants(def, props), priority: props[priority] || 0,
           contains, visible };
}

export class LayerSet {
  /**
   * @param {L.Map} map
   * @param {object[]} defs layer definitions from /api/layers (drawing order)
   * @param {LabelPlacer} labels
   * @param {object} hooks onSelect(def, properties), onStatus(message or null)
   */
  constructor(map, defs, labels, hooks) {
    this.map = map;
    this.defs = defs;
    this.labels = labels;
    this.hooks = hooks;
    this.district = null;
    this.selected = null;
    this.focus = null;
    this.pending = 0;
    this.groups = {};
    this.renderers = {};
    this.requests = {};
    this.errors = {};
    this.filters = {};
    this.data = {};
    this.tiled = {};
    defs.forEach((def) => {
      const pane = map.createPane(`layer-${def.name}`);
      pane.style.zIndex = String(PANE_BASE_Z + (def.order || 0));
      if (def.tiles) {
        this.tiled[def.name] = new TiledLayer(map, def, {
          onTap: (d, feature, layer) => this.select(d, feature, layer),
          onBusy: (change) => { this.pending += change; },
          onLoad: () => this.labels.schedule(),  // labels fit inside the tiles just drawn
        });
        if (def.visible !== false) { this.tiled[def.name].setVisible(true); }
        return;
      }
      this.renderers[def.name] = L.svg({ pane: `layer-${def.name}` });
      this.groups[def.name] = L.featureGroup();
      if (def.visible !== false) { this.groups[def.name].addTo(map); }
    });
  }

  isOn(name) {
    return this.tiled[name] ? this.tiled[name].isOn() : this.map.hasLayer(this.groups[name]);
  }

  setVisible(name, on) {
    const def = this.defs.find((d) => d.name === name);
    if (this.tiled[name]) {
      this.tiled[name].setVisible(on);
    } else if (on) {
      this.groups[name].addTo(this.map);
    } else {
      this.map.removeLayer(this.groups[name]);
    }
    if (!on) {
      this.labels.clear(name);
    } else if (!this.tiled[name] || def.label) {
      this.load(def);
    }
  }

  setDistrict(code) { this.district = code; }

  /** Draw only the features of layer ``name`` whose properties pass ``predicate``. */
  setFilter(name, predicate) {
    this.filters[name] = predicate;
    const def = this.defs.find((d) => d.name === name);
    if (def && this.data[name]) { this.draw(def, this.data[name]); }
  }

  /** Outline the chosen district, street or community (its code is its feature id). */
  setFocus(code) {
    this.focus = code;
    this.highlight();
  }

  /** Load every layer shown again; ``moved``: only the map moved (tiles follow by themselves,
   * label points are loaded for the new view), else the data changed (tiles are asked for
   * again, unchanged ones answer 304). */
  refresh({ moved = false } = {}) {
    this.defs.forEach((def) => {
      const tiled = this.tiled[def.name];
      if (tiled && !moved) { tiled.reload(); }
      if (this.isOn(def.name) && (!tiled || def.label)) { this.load(def); }
    });
  }

  /** The features of ``def`` in view, or for a tiled layer its label points (tiles are not
   * cut to the chosen district, so neither are their labels). */
  url(def) {
    const b = this.map.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
      .map((v) => v.toFixed(6)).join(",");
    const tiled = this.tiled[def.name];
    let url = `/api/layers/${encodeURIComponent(def.name)}/${tiled ? "labels" : "features"}` +
      `?bbox=${bbox}`;
    if (!tiled && this.district && (def.filters || []).includes("district")) {
      url += `&district=${encodeURIComponent(this.district)}`;
    }
    return url;
  }

  async load(def) {
    const tiled = this.tiled[def.name];
    if (this.requests[def.name]) { this.requests[def.name].abort(); }
    if (def.min_zoom && this.map.getZoom() < def.min_zoom) {
      if (!tiled) { this.groups[def.name].clearLayers(); }
      this.labels.clear(def.name);
      this.setError(def, null);
      return;
    }
    const request = new AbortController();
    this.requests[def.name] = request;
    this.pending += 1;
    try {
      const data = await fetchJson(this.url(def), { signal: request.signal });
      if (tiled) { this.labelTiled(def, data); } else { this.draw(def, data); }
      const args = { layer: def.title, count: data.numberReturned };
      const cut = tiled ? t("{layer}: only the first {count} labelled; zoom in for all", args)
        : t("{layer}: only the first {count} shown; zoom in for all", args);
      this.setError(def, data.truncated ? cut : null);
    } catch (err) {
      if (err.name !== "AbortError") { this.setError(def, t("{layer}: {error}", { layer: def.title, error: err.message })); }
    } finally {
      this.pending -= 1;
      if (this.requests[def.name] === request) { delete this.requests[def.name]; }
    }
  }

  setError(def, message) {
    if (message) { this.errors[def.name] = message; } else { delete this.errors[def.name]; }
    this.hooks.onStatus(Object.values(this.errors).join("\n") || null);
  }

  draw(def, data) {
    const group = this.groups[def.name];
    const interactive = isInteractive(def);
    const items = [];
    const keep = this.filters[def.name];
    this.data[def.name] = data;
    group.clearLayers();
    L.geoJSON(data, {
      filter: keep ? (feature) => keep(feature.properties || {}) : undefined,
      pane: `layer-${def.name}`,
      renderer: this.renderers[def.name],
      interactive,
      style: styleFor(def),
      // points (incidents) as circles: paths like the rest, so styles and highlights apply
      pointToLayer: (feature, latlng) => L.circleMarker(latlng, {
        radius: (def.style && def.style.radius) || 6,
        pane: `layer-${def.name}`, renderer: this.renderers[def.name], interactive,
      }),
      onEachFeature: (feature, layer) => {
        layer.feature = feature;
        if (interactive && def.popup) {
          layer.on("click", () => this.select(def, feature, layer));
        }
        const at = feature.properties.label_point;
        if (def.label && at) {
          const path = () => layer.getElement && layer.getElement();
          items.push(labelItem(def, feature, at, {
            contains: (p) => {
              const el = path();
              const q = this.map.containerPointToLayerPoint(p);
              return !el || el.isPointInFill(new DOMPoint(q.x, q.y));
            },
            visible: () => this.map.hasLayer(layer),
          }));
        }
      },
    }).eachLayer((layer) => group.addLayer(layer));
    if (def.label) { this.labels.set(def.name, items); }
    this.highlight();
    this.map.getContainer().dataset[`loaded${def.name}`] = String(data.features.length);
  }

  /** The labels of a tiled layer, one a feature, at the points of its labels API. */
  labelTiled(def, data) {
    const tiled = this.tiled[def.name];
    this.labels.set(def.name, data.features.map((feature) => {
      const id = String(feature.id);
      return labelItem(def, feature, feature.geometry.coordinates, {
        contains: (p) => tiled.contains(id, this.map.containerPointToLatLng(p)),
        visible: () => tiled.isOn(),
      });
    }));
  }

  select(def, feature, layer) {
    this.selected = { name: def.name, id: String(feature.id) };
    this.highlight();
    this.hooks.onSelect(def, feature.properties, layer);
  }

  clearSelection() {
    this.selected = null;
    this.highlight();
  }

  highlight() {
    this.defs.forEach((def) => {
      if (this.tiled[def.name]) {
        const marks = new Map();
        if (this.focus) { marks.set(this.focus, FOCUS); }
        if (this.selected && this.selected.name === def.name) { marks.set(this.selected.id, HIGHLIGHT); }
        this.tiled[def.name].mark(marks);
        return;
      }
      const style = styleFor(def);
      this.groups[def.name].eachLayer((layer) => {
        const id = String(layer.feature.id);
        const on = this.selected && this.selected.name === def.name && id === this.selected.id;
        if (!layer.setStyle) { return; }
        const extra = on ? HIGHLIGHT : (id === this.focus ? FOCUS : {});
        layer.setStyle(Object.assign(style(layer.feature), extra));
        if (on || id === this.focus) { layer.bringToFront(); }
      });
    });
  }
}
