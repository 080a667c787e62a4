/*
 * The grid editor of one community (planners and administrators): split a grid along a drawn
 * line, merge two neighbours, move buildings to a neighbouring grid, redraw a boundary. Each
 * edit is sent with the ones before it to /api/plans/preview, which replays them on the stored
 * grids and answers the grids as they would be with the plan comparison (households per grid,
 * the validator's findings): nothing is saved until "Save draft" (/api/plans/edits), and
 * nothing changes the grids until the draft is applied with a comment.
 *
 * Drawing (the split line, the redrawn boundary) uses Leaflet-Geoman (vendored); its own
 * toolbar and tooltips are off, the panel's buttons and hints say what to do.
 */
import { escapeHtml, fetchJson } from "./util.js";
import { formatNumber, t } from "./i18n.js";
import { PreviewTable } from "./editpanel.js";
import { styleFor } from "./style.js";

// the grids are filled by their load as on the map (the grids layer's style); edited ones
// are outlined in orange
const CHANGED = { color: "#b35c00", weight: 3 };
const SELECTED = { color: "#e0115f", weight: 5, fillOpacity: 0.3 };
const FLAGGED = { color: "#c0392b", dashArray: "6 4" };
const BUILDING = { color: "#e0115f", weight: 3, fill: true, fillOpacity: 0.6, interactive: false };
const HINTS = {
  select: t("Tap a grid, then choose an edit."),
  split: t("Tap points of a line across the grid, from outside it to outside it, then Finish."),
  merge: t("Tap the neighbouring grid to merge into the chosen one."),
  move: t("Tap the buildings to move, then tap the neighbouring grid that takes them."),
  redraw: t("Drag the corners of the grid's boundary, then Finish."),
};

/** A POST of JSON with the page's CSRF token; rejects with the API's detail. */
function post(url, body, csrf) {
  return fetchJson(url, {
    method: "POST", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
  });
}

export class GridEditor {
  /**
   * @param {L.Map} map
   * @param {object} options csrf; gridLayer, the grids' layer definition (its style);
   *   hooks onStart(), onStop(changed)
   */
  constructor(map, { csrf, gridLayer, onStart, onStop }) {
    this.map = map;
    this.gridStyle = styleFor(gridLayer);
    this.csrf = csrf;
    this.hooks = { onStart, onStop };
    this.section = document.getElementById("editor");
    this.el = (id) => document.getElementById(id);
    this.community = null;
    this.reset();
    map.createPane("edit-grids").style.zIndex = "415";  // over the grids, under buildings
    this.group = L.featureGroup().addTo(map);
    this.marks = L.featureGroup().addTo(map);
    this.table = new PreviewTable(this.el("edit-preview"));
    if (map.pm) {
      map.pm.setGlobalOptions({ tooltips: false, snappable: false, allowSelfIntersection: false });
      map.on("pm:create", (e) => this.drawn(e.layer));
    }
    this.el("edit-start").addEventListener("click", () => this.start());
    this.el("edit-leave").addEventListener("click", () => this.stop(false));
    this.el("edit-undo").addEventListener("click", () => this.undo());
    this.el("edit-finish").addEventListener("click", () => this.finish());
    this.el("edit-cancel").addEventListener("click", () => this.setTool("select"));
    this.el("edit-save-button").addEventListener("click", () => this.save());
    this.el("edit-apply").addEventListener("click", () => this.apply());
    this.section.querySelectorAll("[data-tool]").forEach((button) => {
      button.addEventListener("click", () => this.setTool(button.dataset.tool));
    });
  }

  reset() {
    this.edits = [];
    this.plan = null;       // the draft the edits start from (after a save)
    this.version = null;
    this.selected = null;   // key of the chosen grid
    this.moving = new Map(); // building id → its shape, for a move
    this.tool = "select";
    this.active = false;
    this.preview = null;
  }

  /** The chosen unit: a community can be edited, a street or a community partitioned. */
  setUnit(level, code) {
    const community = level === "community" ? code : null;
    if (this.active && community !== this.community) { this.stop(false); }
    this.community = community;
    this.el("edit-start").hidden = !community;
    this.section.hidden = !(community || level === "street");
  }

  /** Whether taps on buildings are for the editor (choosing buildings to move). */
  wantsBuildings() { return this.active && this.tool === "move"; }

  setState(state) { this.section.dataset.state = state; }

  /** Start editing the community's current grids, or draft ``plan`` (e.g. a proposal). */
  async start(plan = null) {
    this.reset();
    this.active = true;
    this.el("edit-entry").hidden = true;
    this.el("edit-tools").hidden = false;
    this.el("edit-result").textContent = "";
    this.el("edit-title").textContent = this.community;
    this.map.getContainer().classList.add("grid-editing");
    this.hooks.onStart();
    try {
      if (plan) {
        this.plan = plan.id;
        this.version = plan.base_version;
      } else {
        const listed = await fetchJson(`/api/plans?community=${encodeURIComponent(this.community)}`);
        this.version = listed.version;
      }
      await this.refresh();
    } catch (err) {
      this.showError(err.message);
    }
  }

  stop(changed) {
    this.disableDrawing();
    this.clear();
    this.map.getContainer().classList.remove("grid-editing", "grid-editing-move");
    this.el("edit-entry").hidden = false;
    this.el("edit-tools").hidden = true;
    this.active = false;
    this.setState("off");
    this.hooks.onStop(changed);
  }

  body(edits) {
    return { community: this.community, base_version: this.version, plan: this.plan, edits };
  }

  /** Preview the edits (with ``extra`` tried on top); false when the server refused it. */
  async refresh(extra) {
    const edits = extra ? [...this.edits, extra] : this.edits;
    this.setState("busy");
    try {
      this.preview = await post("/api/plans/preview", this.body(edits), this.csrf);
    } catch (err) {
      this.showError(err.message);
      this.setTool("select");
      this.setState("ready");
      return false;
    }
    this.edits = edits;
    if (!this.preview.grids.features.some((f) => f.id === this.selected)) { this.selected = null; }
    this.showError(null);
    this.draw();
    this.table.show(this.preview, this.edits.length);
    this.el("edit-undo").disabled = this.edits.length === 0;
    this.el("edit-save-button").disabled = this.edits.length === 0;
    // a draft is applied as saved: edits made since wait for the next save
    this.el("edit-apply").disabled = !this.plan || this.edits.length > 0;
    this.setTool("select");
    this.setState("ready");
    return true;
  }

  clear() {
    this.group.clearLayers();
    this.marks.clearLayers();
  }

  draw() {
    this.clear();
    const flagged = new Set();
    this.preview.comparison.violations.forEach((v) => v.codes.forEach((c) => flagged.add(c)));
    L.geoJSON(this.preview.grids, {
      pane: "edit-grids",
      style: (f) => Object.assign(this.gridStyle(f), f.properties.changed ? CHANGED : {},
        flagged.has(f.id) ? FLAGGED : {}, f.id === this.selected ? SELECTED : {}),
      onEachFeature: (feature, layer) => {
        layer.feature = feature;
        layer.on("click", () => this.tapped(feature.id));
        const p = feature.properties;
        const text = p.kind === "unit" ? (p.name || feature.id)
          : t("{key} · {count} households", { key: feature.id, count: formatNumber(p.households) });
        // a label at the grid's inner point, taking no taps (a tap reaches the grid)
        const icon = L.divIcon({ className: "edit-label-anchor", iconSize: null,
                                 html: `<span class="edit-label">${escapeHtml(text)}</span>` });
        L.marker([p.label_point[1], p.label_point[0]], { icon, interactive: false, keyboard: false })
          .addTo(this.marks);
      },
    }).eachLayer((layer) => this.group.addLayer(layer));
    this.moving.forEach((shape) => L.geoJSON(shape, { style: BUILDING }).addTo(this.marks));
  }

  layerOf(key) {
    return this.group.getLayers().find((layer) => layer.feature.id === key);
  }

  setTool(tool) {
    this.disableDrawing();
    if (tool !== "select" && tool !== "move" && !this.selected) {
      this.hint(t("Tap a grid first, then choose the edit."));
      return;
    }
    this.tool = tool;
    if (tool !== "move") { this.moving.clear(); }
    this.map.getContainer().classList.toggle("grid-editing-move", tool === "move");
    this.section.querySelectorAll("[data-tool]").forEach((b) => {
      b.setAttribute("aria-pressed", String(b.dataset.tool === tool));
    });
    this.el("edit-finish").hidden = !(tool === "split" || tool === "redraw");
    this.el("edit-cancel").hidden = tool === "select";
    this.draw();
    if (tool === "split") {
      this.map.pm.enableDraw("Line", { finishOn: null });
    } else if (tool === "redraw") {
      const layer = this.layerOf(this.selected);
      layer.pm.enable({ allowSelfIntersection: false, draggable: false });
      this.redrawing = layer;
    }
    this.hint(HINTS[tool]);
  }

  disableDrawing() {
    if (this.map.pm && this.map.pm.globalDrawModeEnabled()) { this.map.pm.disableDraw(); }
    if (this.redrawing) {
      if (this.redrawing.pm) { this.redrawing.pm.disable(); }
      this.redrawing = null;
    }
  }

  hint(text) { this.el("edit-hint").textContent = text; }

  showError(message) {
    const box = this.el("edit-error");
    box.hidden = !message;
    box.textContent = message || "";
  }

  /** A tap on a grid: choose it, or finish a merge or a move. */
  tapped(key) {
    if (this.tool === "merge" && key !== this.selected) {
      this.refresh({ op: "merge", grids: [this.selected, key] });
    } else if (this.tool === "move" && this.moving.size) {
      this.refresh({ op: "move", buildings: [...this.moving.keys()], to: key });
    } else if (this.tool === "select" || this.tool === "merge") {
      this.selected = key;
      this.tool = "select";
      this.hint(HINTS.select);
      this.draw();
      this.el("edit-result").textContent = "";
    }
  }

  /** A tap on a building while moving: add it to the buildings to move, or take it out. */
  toggleBuilding(id, shape) {
    if (this.moving.has(id)) { this.moving.delete(id); } else { this.moving.set(id, shape); }
    this.hint(t("{count} buildings chosen: tap the grid that takes them.",
      { count: this.moving.size }));
    this.draw();
  }

  /** Geoman finished a shape: the split line. */
  drawn(layer) {
    const coords = layer.toGeoJSON().geometry.coordinates;
    layer.remove();
    if (this.tool === "split") {
      this.refresh({ op: "split", grid: this.selected, line: coords });
    }
  }

  finish() {
    if (this.tool === "split") {
      const line = this.map.pm.Draw.Line;
      if (line._layer && line._layer.getLatLngs().length >= 2) {
        line._finishShape();
      } else {
        this.hint(t("Tap at least two points of the line first."));
      }
    } else if (this.tool === "redraw" && this.redrawing) {
      const geometry = this.redrawing.toGeoJSON().geometry;
      this.refresh({ op: "redraw", grid: this.selected, geometry });
    }
  }

  undo() {
    this.edits = this.edits.slice(0, -1);
    this.refresh();
  }

  async save() {
    this.setState("busy");
    try {
      const plan = await post("/api/plans/edits",
        Object.assign(this.body(this.edits), { title: t("Map edits") }), this.csrf);
      this.plan = plan.id;
      this.version = plan.base_version;
      this.edits = [];
      this.selected = null;
      await this.refresh();
      this.el("edit-result").textContent = t("Saved as draft plan {plan}.", { plan: plan.id });
    } catch (err) {
      this.showError(err.message);
      this.setState("ready");
    }
  }

  async apply() {
    const comment = this.el("edit-comment").value.trim();
    if (!comment) {
      this.showError(t("Say why the grids change before applying."));
      return;
    }
    this.setState("busy");
    try {
      const done = await post(`/api/plans/${this.plan}/apply`, { comment }, this.csrf);
      this.stop(true);
      this.table.showApplied(document.getElementById("edit-result"), done);
      this.setState("applied");
    } catch (err) {
      this.showError(err.message);
      this.setState("ready");
    }
  }
}
