/*
 * Today's route (GET /api/routes/GRID) on the map page: the path along the streets, the
 * community's service station and a numbered marker per stop (done stops greyed), and in
 * the panel the stops in walking order — expected arrival, reason, label, late — each with a
 * "Done" button that records the visit (POST /api/routes/GRID/visits, with the tablet's
 * position when it gives one quickly) and then plans the route again.
 *
 * Which grid: a grid worker's own (the page's config "route_grids"); others choose among the
 * grids of the community shown, or tap a grid. Opening the "Today's route" section shows the
 * route; closing it takes the route off the map.
 */
import { escapeHtml, fetchJson } from "./util.js";
import { formatNumber, t } from "./i18n.js";
import { postJson } from "./incidents.js";

const REASONS = {
  building_visit: t("Building visit"),
  facility_inspection: t("Facility inspection"),
  incident_verification: t("Incident verification"),
};
const PROBLEMS = {
  far: t("far from every street"),
  unreachable: t("not connected to the station by the walking network"),
};
const POSITION_WAIT_MS = 3000;
const PATH_STYLE = { color: "#1565c0", weight: 5, opacity: 0.75, interactive: false };

/** Seconds as H:MM. */
function hoursMinutes(seconds) {
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, "0")}`;
}

/** The wall-clock time HH:MM of an ISO time as the server wrote it (the station's zone). */
function clock(iso) { return iso ? iso.slice(11, 16) : ""; }

/** HH:MM of an instant in the zone of ``like`` (an ISO time ending with its offset): a
 * visit's time in the same zone as the arrivals, whatever the tablet's zone. */
function clockLike(iso, like) {
  const offset = /([+-])(\d\d):(\d\d)$/.exec(like || "");
  const minutes = offset ? (offset[1] === "-" ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) : 0;
  const shifted = new Date(new Date(iso).getTime() + minutes * 60000);
  return Number.isNaN(shifted.getTime()) ? "" : shifted.toISOString().slice(11, 16);
}

/** The tablet's position if it gives one within POSITION_WAIT_MS, else null. */
function position() {
  if (!navigator.geolocation) { return Promise.resolve(null); }
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), POSITION_WAIT_MS);
    const done = (coords) => { clearTimeout(timer); resolve(coords); };
    navigator.geolocation.getCurrentPosition((p) => done(p.coords), () => done(null),
      { enableHighAccuracy: true, timeout: POSITION_WAIT_MS, maximumAge: 60000 });
  });
}

/** An id for a visit, so that sending it twice records it once. */
function clientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `web-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function stopIcon(stop) {
  const classes = ["route-marker", `kind-${stop.kind}`];
  if (stop.done_at) { classes.push("done"); }
  if (stop.late) { classes.push("late"); }
  return L.divIcon({ className: classes.join(" "), html: `<span>${stop.seq}</span>`,
                     iconSize: [28, 28], iconAnchor: [14, 14] });
}

function stopItem(stop, mayVisit) {
  const late = stop.late ? ` <span class="late-badge">${escapeHtml(t("Late"))}</span>` : "";
  const action = stop.done_at
    ? `<span class="done-at">${escapeHtml(t("Done {time}", { time: clockLike(stop.done_at, stop.arrival) }))}</span>`
    : (mayVisit ? `<button type="button" class="stop-done">${escapeHtml(t("Done"))}</button>` : "");
  return `<li class="route-stop kind-${escapeHtml(stop.kind)}${stop.done_at ? " done" : ""}" ` +
    `data-seq="${stop.seq}" data-stop="${escapeHtml(stop.stop)}">` +
    `<span class="stop-number">${stop.seq}</span>` +
    `<span class="stop-text"><span class="stop-time">${escapeHtml(clock(stop.arrival))}</span> ` +
    `<span class="stop-reason">${escapeHtml(REASONS[stop.reason] || stop.reason)}</span>${late}` +
    `<br><span class="stop-label">${escapeHtml(stop.label)}</span></span>${action}</li>`;
}

function leftOut(route) {
  const items = route.unplanned.map((i) => `<li>${escapeHtml(i.label)} · ` +
    `${escapeHtml(REASONS[i.reason] || i.reason)} · ${escapeHtml(t("not planned in the coming days"))}</li>`)
    .concat(route.problems.map((p) => `<li>${escapeHtml(p.label)} · ` +
      `${escapeHtml(REASONS[p.reason] || p.reason)} · ${escapeHtml(PROBLEMS[p.problem] || p.problem)}` +
      `${p.problem === "far" ? ` (${escapeHtml(formatNumber(Math.round(p.distance_m)))} m)` : ""}</li>`));
  return items.length ? `<h3>${escapeHtml(t("Not on the route ({count})", { count: items.length }))}</h3>` +
    `<ul class="route-left-out">${items.join("")}</ul>` : "";
}

export class RouteView {
  /**
   * @param {L.Map} map
   * @param {Panel} panel
   * @param {object} options csrf; grids, the grid worker's own grids; mayVisit
   */
  constructor(map, panel, { csrf, grids, mayVisit }) {
    this.map = map;
    this.panel = panel;
    this.csrf = csrf;
    this.own = grids || [];
    this.mayVisit = mayVisit;
    this.route = null;
    this.drawn = null;
    this.busy = false;
    this.loading = Promise.resolve();
    this.section = document.getElementById("route");
    this.select = document.getElementById("route-grid");
    this.status = this.section.querySelector(".route-status");
    this.body = document.getElementById("route-body");
    map.createPane("route");
    this.setGrids(this.own);
    document.getElementById("route-load").addEventListener("click", () => this.show());
    this.select.addEventListener("change", () => this.show());
    this.section.addEventListener("toggle", () => {
      if (!this.section.open) {
        this.clear();
      } else if (!this.route && !this.busy) {
        this.show();
      }
    });
  }

  /** The grids offered: the worker's own, else those of the community shown. */
  setGrids(codes) {
    const offered = this.own.length ? this.own : codes;
    const chosen = this.select.value;
    this.select.replaceChildren(...offered.map((code) => new Option(code, code)));
    if (offered.includes(chosen)) { this.select.value = chosen; }
    this.say(offered.length ? "" : t("Choose a community or tap a grid"));
  }

  /** A grid was tapped: offer it (anyone but a worker, whose own grids are offered). */
  pickGrid(code) {
    if (this.own.length) { return; }
    if (![...this.select.options].some((o) => o.value === code)) {
      this.select.add(new Option(code, code));
    }
    this.select.value = code;
    this.say("");
  }

  say(text, failed = false) {
    this.status.textContent = text;
    this.status.classList.toggle("load-error", failed);
  }

  show() {
    this.section.open = true;
    this.loading = this.load(true);
    return this.loading;
  }

  async load(fit) {
    const grid = this.select.value;
    if (!grid) { return; }
    this.say(t("Planning the route…"));
    this.busy = true;
    let route;
    try {
      route = await fetchJson(`/api/routes/${encodeURIComponent(grid)}`);
    } catch (err) {
      this.say(err.message, true);
      return;
    } finally {
      this.busy = false;
    }
    if (!this.section.open || this.select.value !== grid) { return; }  // changed meanwhile
    this.route = route;
    this.say("");
    this.render();
    this.draw(fit);
    if (fit) { this.section.scrollIntoView({ block: "start" }); }  // in portrait the sheet is short
  }

  clear() {
    if (this.drawn) { this.drawn.remove(); this.drawn = null; }
    this.body.replaceChildren();
    this.route = null;
  }

  draw(fit) {
    if (this.drawn) { this.drawn.remove(); }
    const route = this.route;
    const day = route.days[0];
    const group = L.featureGroup();
    if (day.path) { L.geoJSON(day.path, { style: PATH_STYLE, pane: "route" }).addTo(group); }
    L.marker([route.station.lat, route.station.lon], {
      icon: L.divIcon({ className: "route-station", html: "<span>⌂</span>", iconSize: [30, 30] }),
      title: t("Service station of community {code}", { code: route.community }),
      keyboard: false,
    }).addTo(group);
    day.stops.forEach((stop) => {
      const marker = L.marker([stop.lat, stop.lon], {
        icon: stopIcon(stop), title: `${stop.seq} · ${stop.label}`, keyboard: false,
        zIndexOffset: stop.done_at ? 0 : 1000 - stop.seq,
      });
      marker.on("click", () => this.focus(stop.seq));
      marker.addTo(group);
    });
    this.drawn = group.addTo(this.map);
    if (fit) { this.map.fitBounds(group.getBounds(), { padding: [24, 24], maxZoom: 18 }); }
  }

  render() {
    const route = this.route;
    const day = route.days[0];
    const rows = [
      [t("Date"), day.date],
      [t("Stops"), t("{done} of {count} done", { done: formatNumber(day.done), count: formatNumber(day.stops.length) })],
      [t("Walk"), `${formatNumber(Math.round(day.walk_m / 100) / 10)} km`],
      [t("Time"), t("{used} of a {day} working day", { used: hoursMinutes(day.total_s), day: hoursMinutes(route.day_length_s) })],
    ];
    const stops = day.stops.map((s) => stopItem(s, this.mayVisit)).join("");
    this.body.innerHTML = `<table class="route-totals">${rows.map(([k, v]) =>
      `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("")}</table>` +
      (stops ? `<ol class="route-stops">${stops}</ol>` : `<p class="hint">${escapeHtml(t("Nothing is due today."))}</p>`) +
      leftOut(route);
    this.body.querySelectorAll("button.stop-done").forEach((button) => {
      button.addEventListener("click", () => this.done(button));
    });
    this.panel.setSummary(t("Today's route: {done} of {count} done · grid {grid}",
      { grid: route.grid, done: day.done, count: day.stops.length }));
  }

  /** A stop's marker was tapped: its line in the panel. */
  focus(seq) {
    this.panel.setOpen(true);
    this.body.querySelectorAll("li.route-stop.focused").forEach((li) => li.classList.remove("focused"));
    const item = this.body.querySelector(`li.route-stop[data-seq="${seq}"]`);
    if (item) {
      item.classList.add("focused");
      item.scrollIntoView({ block: "center" });  // clear of the sticky header
    }
  }

  /** Record the visit of the button's stop, then plan the route again. */
  async done(button) {
    button.disabled = true;
    const body = { stop: button.closest("li").dataset.stop, client_id: clientId() };
    const coords = await position();
    if (coords) {
      Object.assign(body, { lon: coords.longitude, lat: coords.latitude,
                            accuracy_m: Math.min(coords.accuracy, 10000) });
    }
    try {
      await postJson(`/api/routes/${encodeURIComponent(this.route.grid)}/visits`, body, this.csrf);
    } catch (err) {
      this.say(err.message, true);
      button.disabled = false;
      return;
    }
    this.loading = this.load(false);
    await this.loading;
  }
}
