/*
 * District → street → community chooser, and the URL that says what the map shows:
 *   ?district=420111&street=420111002&community=420111002023&map=16.25/30.50770/114.39510
 * Choosing a unit fits the map to that unit only and adds a history entry (back and forward
 * return to the previous choice); panning and zooming only rewrite the current entry's map=.
 */
import { fetchJson } from "./util.js";
import { t } from "./i18n.js";

const LEVELS = ["district", "street", "community"];
const DIGITS = { district: 6, street: 9, community: 12 };

/** The unit and view a URL's query selects: {unit: code|null, view: [z, lat, lon]|null}. */
export function parseLocation(search) {
  const params = new URLSearchParams(search);
  let unit = null;
  LEVELS.forEach((level) => { if (params.get(level)) { unit = params.get(level); } });
  const raw = params.get("map");
  const view = raw ? raw.split("/").map(Number) : null;
  return { unit, view: view && view.length === 3 && view.every(Number.isFinite) ? view : null };
}

/** The query for a unit code (its ancestors included) and a map view. */
export function queryFor(unit, view) {
  const params = new URLSearchParams();
  if (unit) {
    LEVELS.forEach((level) => {
      if (unit.length >= DIGITS[level]) { params.set(level, unit.slice(0, DIGITS[level])); }
    });
  }
  if (view) {
    params.set("map", `${Number(view[0].toFixed(2))}/${view[1].toFixed(5)}/${view[2].toFixed(5)}`);
  }
  const text = params.toString().replace(/%2F/g, "/");
  return text ? `?${text}` : location.pathname;
}

function bounds(bbox) {
  return L.latLngBounds([bbox[1], bbox[0]], [bbox[3], bbox[2]]);
}

export class Chooser {
  /**
   * @param {L.Map} map
   * @param {object} hooks onUnit(tree) when a unit is shown, onError(message)
   */
  constructor(map, hooks) {
    this.map = map;
    this.hooks = hooks;
    this.unit = null;
    this.busy = false;
    this.districts = [];
    this.selects = {};
    LEVELS.forEach((level) => {
      const select = document.getElementById(`choose-${level}`);
      this.selects[level] = select;
      select.addEventListener("change", () => this.chosen(level));
    });
    map.on("moveend", () => this.remember());
    window.addEventListener("popstate", () => this.restore());
  }

  /** Load the districts, then show the unit and view of the page's URL. */
  async start(initial) {
    const root = await fetchJson("/api/hierarchy");
    this.districts = root.children;
    this.fill("district", this.districts, t("Choose a district"));
    const unit = initial.unit || (this.districts.length ? this.districts[0].code : null);
    if (!unit) { return null; }
    return this.show(unit, initial.view);
  }

  fill(level, units, placeholder) {
    const select = this.selects[level];
    select.replaceChildren();
    const first = document.createElement("option");
    first.value = "";
    first.textContent = placeholder;
    select.appendChild(first);
    units.forEach((u) => {
      const option = document.createElement("option");
      option.value = u.code;
      const code = level === "district" ? u.code : u.code.slice(-3);
      option.textContent = u.name ? `${u.name} · ${code}` : u.code;
      select.appendChild(option);
    });
    select.disabled = units.length === 0;
  }

  /** Show a unit: fill the selects down to it, fit the map to it (or set view). */
  async show(code, view) {
    this.busy = true;
    try {
      return await this.showUnit(code, view);
    } finally {
      this.busy = false;
    }
  }

  async showUnit(code, view) {
    let tree;
    try {
      tree = await fetchJson(`/api/hierarchy/${encodeURIComponent(code)}`);
    } catch (err) {
      this.hooks.onError(err.message);
      return null;
    }
    this.unit = code;
    const path = [...tree.parents, tree];
    const district = path[0];
    const street = path.find((u) => u.level === "street");
    const streetTree = tree.level === "district" ? tree
      : await fetchJson(`/api/hierarchy/${district.code}`);
    this.selects.district.value = district.code;
    this.fill("street", streetTree.children, t("All streets"));
    if (street) {
      const communities = tree.level === "street" ? tree
        : await fetchJson(`/api/hierarchy/${street.code}`);
      this.fill("community", communities.children, t("All communities"));
      this.selects.street.value = street.code;
    } else {
      this.fill("community", [], t("All communities"));
    }
    this.selects.community.value = tree.level === "community" ? tree.code : "";
    this.hooks.onUnit(tree, path);
    if (view) {
      this.map.setView([view[1], view[2]], view[0]);
    } else if (tree.bbox) {
      this.map.fitBounds(bounds(tree.bbox), { padding: [12, 12] });
    }
    this.hooks.onShown(tree);
    return tree;
  }

  /** A select changed: the deepest chosen unit, or the parent when "all" was chosen. */
  chosen(level) {
    const index = LEVELS.indexOf(level);
    let code = this.selects[level].value;
    for (let i = index - 1; !code && i >= 0; i -= 1) { code = this.selects[LEVELS[i]].value; }
    if (code) { this.choose(code); }
  }

  /** Show a unit as if chosen in the selects (a new history entry). */
  choose(code) {
    this.unit = code;
    history.pushState({ unit: code }, "", queryFor(code, null));
    return this.show(code, null);
  }

  view() {
    const c = this.map.getCenter();
    return [this.map.getZoom(), c.lat, c.lng];
  }

  remember() {
    history.replaceState({ unit: this.unit }, "", queryFor(this.unit, this.view()));
  }

  restore() {
    const state = parseLocation(location.search);
    const unit = state.unit || (this.districts.length ? this.districts[0].code : null);
    if (unit) { this.show(unit, state.view); }
  }
}
