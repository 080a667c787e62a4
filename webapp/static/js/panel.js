/*
 * The side panel (landscape) or bottom sheet (portrait): the chooser, the details of what was
 * tapped, the layer switches. In portrait the sheet starts collapsed to its header — one line
 * saying what is chosen or tapped — so the map keeps most of the screen; the toggle opens it.
 */
import { escapeHtml, fetchJson } from "./util.js";
import { formatNumber, t } from "./i18n.js";

const PORTRAIT = "(orientation: portrait), (max-width: 700px)";

function fieldLabel(def, name) {
  const field = (def.fields || []).find((f) => f.name === name);
  return field ? field.label || name : name;
}

/** A popup value: numbers in the page's language, except codes and ids, which are names. */
function formatValue(name, value) {
  return /code|_id$|^id$/.test(name) ? value : formatNumber(value);
}

export class Panel {
  constructor(map) {
    this.map = map;
    this.app = document.getElementById("app");
    this.info = document.getElementById("info");
    this.status = document.getElementById("status");
    this.summary = document.getElementById("summary");
    this.toggle = document.getElementById("panel-toggle");
    this.portrait = window.matchMedia(PORTRAIT);
    this.toggle.addEventListener("click", () => this.setOpen(!this.isOpen()));
    this.portrait.addEventListener("change", () => this.setOpen(!this.portrait.matches));
    this.setOpen(!this.portrait.matches);
  }

  isOpen() { return !this.app.classList.contains("sheet-closed"); }

  setOpen(open) {
    this.app.classList.toggle("sheet-closed", !open);
    this.toggle.setAttribute("aria-expanded", String(open));
    this.toggle.textContent = open ? `${t("Hide")} ▾` : `${t("Details")} ▴`;
    this.toggle.title = open ? t("Hide the panel") : t("Show the panel");
    // The map's box changed size: let Leaflet measure it again.
    requestAnimationFrame(() => this.map.invalidateSize({ pan: false }));
  }

  setSummary(text) { this.summary.textContent = text; }

  showFeature(def, props) {
    const title = props.name ? `${props.name} · ${props.code || ""}` : props.code || "";
    const rows = (def.popup || []).map((name) => `<tr><th>${escapeHtml(fieldLabel(def, name))}` +
      `</th><td>${escapeHtml(formatValue(name, props[name]))}</td></tr>`).join("");
    this.info.innerHTML = `<h2>${escapeHtml(def.title)} ${escapeHtml(title)}</h2>` +
      `<table>${rows}</table>`;
    const count = t("{count} households", { count: formatNumber(props.households) });
    const households = props.kind === "residential" ? ` · ${count}` : "";
    this.setSummary(`${title}${households}`);
  }

  /**
   * The residential grids of the chosen unit whose households lie outside the district's
   * bounds, fullest first, in a table under the unit's details (the grids' "load").
   */
  async showLoad(unit) {
    const section = document.createElement("section");
    section.className = "load";
    this.info.appendChild(section);
    let body;
    try {
      body = await fetchJson(`/api/grids?${unit.level}=${encodeURIComponent(unit.code)}`);
    } catch (err) {
      section.innerHTML = `<p class="load-error">${escapeHtml(err.message)}</p>`;
      return;
    }
    const grids = body.features.map((f) => f.properties).filter((p) => p.kind === "residential");
    const out = grids.filter((p) => p.load === "under" || p.load === "over")
      .sort((a, b) => b.households - a.households);
    const bounds = grids.length ? grids[0].bounds : "";
    const heading = t("Grids outside the household bounds ({bounds})", { bounds });
    if (!out.length) {
      section.innerHTML = `<h3>${escapeHtml(heading)}</h3><p class="hint">` +
        `${escapeHtml(t("Every residential grid is within the bounds."))}</p>`;
      return;
    }
    const rows = out.map((p) => `<tr class="load-${escapeHtml(p.load)}" data-code="` +
      `${escapeHtml(p.code)}"><td>${escapeHtml(p.code)}</td><td>` +
      `${escapeHtml(formatNumber(p.households))}</td><td>` +
      `${escapeHtml(p.load === "over" ? t("over") : t("under"))}</td></tr>`).join("");
    section.innerHTML = `<h3>${escapeHtml(heading)}</h3><table class="load-table"><thead><tr>` +
      `<th>${escapeHtml(t("Grid"))}</th><th>${escapeHtml(t("Households"))}</th>` +
      `<th>${escapeHtml(t("Load"))}</th></tr></thead><tbody>${rows}</tbody></table>`;
  }

  showUnit(unit) {
    const rows = [[t("Code"), unit.code], [t("Households"), formatNumber(unit.households)],
                  [unit.childLabel, formatNumber(unit.children.length)]];
    this.info.innerHTML = `<h2>${escapeHtml(unit.name)}</h2><table>` +
      rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
        .join("") + `</table><p class='hint'>${escapeHtml(t("Tap a grid for its details"))}</p>`;
    this.loadShown = this.showLoad(unit);
  }

  showMessage(html) { this.info.innerHTML = html; }

  setStatus(message) {
    this.status.hidden = !message;
    this.status.textContent = message || "";
  }
}
