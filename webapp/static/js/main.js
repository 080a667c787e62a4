/*
 * gridmap's map page: layers from /api/layers drawn from the feature API or from vector tiles
 * (grids, buildings), labels that never overlap, a district → street → community chooser
 * kept in the URL, and a panel that is a side bar in landscape and a collapsible bottom sheet
 * in portrait.
 *
 * window.gridmap exposes the map, its layers, the label placer and idle() (resolves once every
 * layer request and label placement has settled) for the browser console and the e2e tests.
 */
import { Chooser, parseLocation } from "./chooser.js";
import { GridEditor } from "./editor.js";
import { Partitioner } from "./partition.js";
import { LabelPlacer } from "./labels.js";
import { LayerSet } from "./layers.js";
import { Panel } from "./panel.js";
import { IncidentView, incidentFilter } from "./incidents.js";
import { ReportControl } from "./report.js";
import { ExportForm } from "./exporter.js";
import { RouteView } from "./route.js";
import { escapeHtml } from "./util.js";
import { t } from "./i18n.js";

const CHILDREN = { district: t("Streets"), street: t("Communities"), community: t("Grids") };
const config = JSON.parse(document.getElementById("map-config").textContent);
const map = L.map("map", { zoomControl: true, zoomSnap: 0.25, maxZoom: 20 });
map.attributionControl.setPrefix(false);
map.attributionControl.addAttribution(t("© OpenStreetMap contributors (ODbL)"));
const panel = new Panel(map);
const labels = new LabelPlacer(map);
let editor = null;
let partitioner = null;
let reporter = null;
let layers = null;
const route = new RouteView(map, panel, {
  csrf: config.csrf, grids: config.route_grids, mayVisit: config.may_visit,
});
const incidents = new IncidentView(panel, {
  csrf: config.csrf,
  onChanged: () => layers.refresh(),
});
layers = new LayerSet(map, config.layers, labels, {
  onSelect: (def, props, layer) => {
    if (reporter && reporter.picking) {
      layers.clearSelection();  // the tap chooses the place of a report
    } else if (def.name === "incidents") {
      incidents.show(props.id);
    } else if (editor && editor.wantsBuildings() && def.name === "buildings") {
      // a building from a vector tile: its whole footprint from the feature API
      Promise.resolve(layer.fetchGeoJSON ? layer.fetchGeoJSON() : layer.toGeoJSON())
        .then((shape) => editor.toggleBuilding(layer.feature.id, shape))
        .catch((err) => panel.setStatus(err.message));
      layers.clearSelection();  // the editor marks every building chosen
    } else {
      panel.showFeature(def, props);
      if (def.name === "grids") {
        incidents.loading = incidents.showGrid(props.code);
        route.pickGrid(props.code);
      }
    }
  },
  onStatus: (message) => panel.setStatus(message),
});
if (config.may_plan) {
  // while editing, the editor draws the community's grids as they would be
  editor = new GridEditor(map, {
    csrf: config.csrf,
    gridLayer: config.layers.find((def) => def.name === "grids") || {},
    onStart: () => layers.setVisible("grids", false),
    onStop: (changed) => {
      if (changed) { layers.refresh(); }  // buildings follow their new grids
      // the grids' tiles asked for again (the browser revalidates each: an applied edit's
      // tiles come back new, the others as 304s) and their label points
      layers.setVisible("grids", true);
    },
  });
}

/** A layer's legend: a swatch and a label per value (the grids' load). */
function legendOf(def) {
  const legend = document.createElement("ul");
  legend.className = "legend";
  legend.dataset.layer = def.name;
  def.legend.forEach((entry) => {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = entry.ring ? "swatch ring" : "swatch";
    if (entry.ring) { swatch.style.borderColor = entry.color; } else { swatch.style.background = entry.color; }
    item.dataset.value = entry.value;
    item.append(swatch, document.createTextNode(entry.label));
    legend.appendChild(item);
  });
  return legend;
}

function layerSwitches() {
  const list = document.getElementById("layer-list");
  [...config.layers].reverse().forEach((def) => {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = def.visible !== false;
    box.dataset.layer = def.name;
    box.addEventListener("change", () => layers.setVisible(def.name, box.checked));
    label.append(box, document.createTextNode(def.title));
    if (def.min_zoom) {
      const note = document.createElement("small");
      note.textContent = ` ≥ z${def.min_zoom}`;
      label.append(note);
    }
    list.appendChild(label);
    if (def.legend) { list.appendChild(legendOf(def)); }
    if (def.name === "incidents") {
      const filter = incidentFilter((predicate) => layers.setFilter("incidents", predicate));
      layers.setFilter("incidents", filter.predicate);
      list.appendChild(filter.element);
    }
  });
}

if (config.may_report) {
  reporter = new ReportControl(map, panel, {
    csrf: config.csrf,
    onReported: (incident) => {
      layers.refresh();
      incidents.render(incident);
    },
  });
}

if (editor) {
  // a proposal is a draft: shown, and edited if need be, in the editor
  partitioner = new Partitioner({
    csrf: config.csrf,
    onDraft: (plan) => editor.start(plan),
    openDraft: async (community, plan) => {
      await chooser.choose(community);
      await editor.start(plan);
    },
  });
}

const exporter = new ExportForm(document.getElementById("export-form"), {
  csrf: config.csrf, layers: config.layers,
});

const chooser = new Chooser(map, {
  onUnit: (tree, path) => {
    layers.setDistrict(path[0].code);
    layers.clearSelection();
    layers.setFocus(tree.level === "district" ? null : tree.code);
    panel.showUnit(Object.assign({}, tree, { childLabel: CHILDREN[tree.level] }));
    incidents.loading = incidents.showCounts(tree);
    panel.setSummary(path.map((u) => u.name || u.code).join(" › "));
    if (editor) { editor.setUnit(tree.level, tree.code); }
    if (partitioner) { partitioner.setUnit(tree.level, tree.code); }
    exporter.setUnit(tree.level, tree.code, tree.name);
    route.setGrids(tree.level === "community" ? tree.children.map((g) => g.code) : []);
  },
  onShown: () => layers.refresh(),
  onError: (message) => panel.showMessage(`<p class="load-error">${escapeHtml(message)}</p>`),
});

map.on("moveend", () => layers.refresh({ moved: true }));

window.gridmap = {
  map,
  layers,
  labels,
  editor,
  incidents,
  route,
  /** Resolves when no layer request is pending and labels are placed. */
  async idle() {
    await started;
    await panel.loadShown;
    await incidents.loading;
    await route.loading;
    return new Promise((resolve) => {
      const check = () => {
        if (layers.pending === 0 && !labels.pending && !chooser.busy) {
          requestAnimationFrame(() => (labels.pending || layers.pending ? check() : resolve(true)));
        } else {
          setTimeout(check, 30);
        }
      };
      check();
    });
  },
};

layerSwitches();
const started = chooser.start({ unit: config.unit, view: config.view || parseLocation(location.search).view })
  .then((tree) => {
    if (!tree && !chooser.unit) {
      map.setView([30.5, 114.3], 12);
      panel.showMessage(`<p class='hint'>${escapeHtml(t("No district loaded (run gridmap demo)"))}</p>`);
    }
  })
  .catch((err) => panel.showMessage(`<p class="load-error">${escapeHtml(err.message)}</p>`));
