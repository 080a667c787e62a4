/*
 * Reporting an incident on the map (for people whose role may report: the page's config says
 * so, the server decides): "Report incident" → tap the place → a form (event class grouped
 * by major class, description, photos) → POST /api/incidents as one multipart request, so
 * the incident and its photos are saved together or not at all. While reporting, taps on
 * the map move the place instead of opening what was tapped.
 */
import { escapeHtml, fetchJson } from "./util.js";
import { language, t } from "./i18n.js";

const ZH = language.toLowerCase().startsWith("zh");
const PLACE = { radius: 10, color: "#e0115f", weight: 3, fillColor: "#ffffff", fillOpacity: 0.9 };

export class ReportControl {
  /**
   * @param {L.Map} map
   * @param {Panel} panel
   * @param {object} options csrf; onReported(incident) once it is saved
   */
  constructor(map, panel, { csrf, onReported }) {
    this.map = map;
    this.panel = panel;
    this.csrf = csrf;
    this.onReported = onReported;
    this.picking = false;
    this.place = null;
    this.marker = null;
    this.classes = null;
    this.onClick = (event) => this.choose(event.latlng);
    const Control = L.Control.extend({
      onAdd: () => {
        const button = L.DomUtil.create("button", "report-button");
        button.type = "button";
        button.id = "report-start";
        button.textContent = t("Report incident");
        L.DomEvent.disableClickPropagation(button);
        L.DomEvent.on(button, "click", () => (this.picking ? this.stop() : this.start()));
        this.button = button;
        return button;
      },
    });
    new Control({ position: "topright" }).addTo(map);
  }

  start() {
    this.picking = true;
    this.button.setAttribute("aria-pressed", "true");
    this.map.getContainer().classList.add("picking-place");
    this.map.on("click", this.onClick);
    this.panel.showMessage(`<section class="report"><h2>${escapeHtml(t("Report incident"))}</h2>` +
      `<p class="hint">${escapeHtml(t("Tap the place of the incident on the map."))}</p>` +
      `<button type="button" class="report-cancel">${escapeHtml(t("Cancel"))}</button></section>`);
    this.panel.info.querySelector(".report-cancel").addEventListener("click", () => this.stop());
    this.panel.setSummary(t("Report incident"));
  }

  stop(message) {
    this.picking = false;
    this.place = null;
    this.button.setAttribute("aria-pressed", "false");
    this.map.getContainer().classList.remove("picking-place");
    this.map.off("click", this.onClick);
    if (this.marker) { this.marker.remove(); this.marker = null; }
    if (message !== false) {
      this.panel.showMessage(`<p class="hint">${escapeHtml(t("Tap a grid for its details"))}</p>`);
    }
  }

  async choose(latlng) {
    this.place = latlng;
    if (this.marker) {
      this.marker.setLatLng(latlng);
    } else {
      this.marker = L.circleMarker(latlng, Object.assign({ interactive: false }, PLACE)).addTo(this.map);
    }
    const form = this.panel.info.querySelector("form.report-form");
    if (form) {  // a second tap moves the place; what was typed stays
      form.querySelector(".report-place").textContent = this.placeText();
      return;
    }
    try {
      await this.showForm();
    } catch (err) {
      this.panel.showMessage(`<p class="load-error" role="alert">${escapeHtml(err.message)}</p>`);
    }
  }

  placeText() {
    return t("Place: {lat}, {lon} (tap the map to move it)",
      { lat: this.place.lat.toFixed(6), lon: this.place.lng.toFixed(6) });
  }

  async loadClasses() {
    if (!this.classes) {
      this.classes = (await fetchJson("/api/event-classes")).event_classes;
    }
    return this.classes;
  }

  async showForm() {
    const classes = await this.loadClasses();
    const groups = new Map();
    classes.forEach((c) => {
      if (!groups.has(c.major)) { groups.set(c.major, { label: ZH ? c.major_zh : c.major_en, items: [] }); }
      groups.get(c.major).items.push(c);
    });
    const options = [...groups.entries()].map(([major, g]) => `<optgroup label="${escapeHtml(`${major} ${g.label}`)}">` +
      g.items.map((c) => `<option value="${escapeHtml(c.code)}">${escapeHtml(c.code)} ${escapeHtml(ZH ? c.name_zh : c.name_en)}</option>`).join("") +
      "</optgroup>").join("");
    this.panel.showMessage(`<form class="report-form" novalidate><h2>${escapeHtml(t("Report incident"))}</h2>` +
      `<p class="report-place hint">${escapeHtml(this.placeText())}</p>` +
      `<label>${escapeHtml(t("Event class"))}<select name="class" required>` +
      `<option value="">${escapeHtml(t("Choose the event class"))}</option>${options}</select></label>` +
      `<label>${escapeHtml(t("Description"))}<textarea name="description" rows="3" maxlength="2000" required></textarea></label>` +
      `<label>${escapeHtml(t("Photos (optional; JPEG, PNG or HEIC)"))}<input type="file" name="photo" accept="image/jpeg,image/png,image/heic" multiple></label>` +
      `<p class="form-error" role="alert" hidden></p>` +
      `<div class="action-row"><button type="submit">${escapeHtml(t("Send report"))}</button>` +
      `<button type="button" class="report-cancel secondary">${escapeHtml(t("Cancel"))}</button></div></form>`);
    this.panel.setOpen(true);
    const form = this.panel.info.querySelector("form.report-form");
    form.scrollIntoView({ block: "start" });  // in portrait the sheet is short
    form.querySelector(".report-cancel").addEventListener("click", () => this.stop());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit(form);
    });
  }

  async submit(form) {
    const problem = form.querySelector(".form-error");
    const send = form.querySelector("button[type=submit]");
    const body = new FormData();
    body.append("class", form.elements.class.value);
    body.append("description", form.elements.description.value);
    body.append("lon", String(this.place.lng));
    body.append("lat", String(this.place.lat));
    [...form.elements.photo.files].forEach((file) => body.append("photo", file, file.name));
    send.disabled = true;
    problem.hidden = true;
    try {
      const incident = await fetchJson("/api/incidents", {
        method: "POST", body, headers: { "X-CSRFToken": this.csrf },
      });
      this.stop(false);
      this.onReported(incident);
    } catch (err) {
      problem.textContent = err.message;
      problem.hidden = false;
      send.disabled = false;
    }
  }
}
