/*
 * The map's export form: a layer of the area shown, in a format and a coordinate system.
 * POST /api/export/<layer> answers a small export with its download address (followed at
 * once) and a large one with a background job, whose progress is polled from /api/jobs/ID
 * until its file can be downloaded.
 */
import { fetchJson } from "./util.js";
import { formatNumber, t } from "./i18n.js";

const POLL_MS = 1000;

export class ExportForm {
  /**
   * @param {HTMLFormElement} form
   * @param {object} options csrf; layers, the layer definitions the caller may read
   */
  constructor(form, { csrf, layers }) {
    this.form = form;
    this.csrf = csrf;
    this.unit = null;
    this.status = form.querySelector(".export-status");
    this.bar = form.querySelector("progress");
    this.area = form.querySelector(".export-area");
    const select = form.elements.layer;
    layers.forEach((def) => {
      const option = document.createElement("option");
      option.value = def.name;
      option.textContent = def.title;
      select.appendChild(option);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.run().catch((err) => this.say(err.message, true));
    });
  }

  /** The unit (district, street or community) the export is cut to. */
  setUnit(level, code, name) {
    this.unit = { level, code };
    this.area.textContent = t("Area: {name}", { name: name || code });
  }

  say(text, failed = false) {
    this.status.textContent = text;
    this.status.classList.toggle("load-error", failed);
  }

  query() {
    const data = new FormData(this.form);
    const query = new URLSearchParams({ format: data.get("format") });
    if (data.get("crs")) { query.set("crs", data.get("crs")); }
    if (this.unit) { query.set(this.unit.level, this.unit.code); }
    return `/api/export/${encodeURIComponent(data.get("layer"))}?${query}`;
  }

  async run() {
    const button = this.form.querySelector("button");
    button.disabled = true;
    this.say(t("Preparing the export…"));
    try {
      const answer = await fetchJson(this.query(), {
        method: "POST", headers: { "X-CSRFToken": this.csrf }, credentials: "same-origin",
      });
      if (answer.download) {
        this.say(t("{count} features: downloading", { count: formatNumber(answer.count) }));
        this.offer(answer.download, null);
        return;
      }
      await this.follow(answer);
    } finally {
      button.disabled = false;
      this.bar.hidden = true;
    }
  }

  /** Poll a background export until it ends; then offer its file. */
  async follow(answer) {
    this.bar.hidden = false;
    this.bar.removeAttribute("value");
    for (;;) {
      const job = await fetchJson(answer.status, { credentials: "same-origin" });
      if (job.status === "succeeded") {
        this.say(t("{count} features exported", { count: formatNumber(job.result.count) }));
        this.offer(answer.file, job.result.file);
        return;
      }
      if (job.status === "failed") { throw new Error(job.error); }
      if (job.total) {
        this.bar.max = job.total;
        this.bar.value = job.done || 0;
        this.say(t("Exporting: {done} of {total} features", {
          done: formatNumber(job.done || 0), total: formatNumber(job.total) }));
      } else {
        this.say(t("Waiting for the job worker…"));
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** A download link for the file, clicked once. */
  offer(href, name) {
    let link = this.form.querySelector("a.export-download");
    if (!link) {
      link = document.createElement("a");
      link.className = "export-download";
      this.form.appendChild(link);
    }
    link.href = href;
    link.textContent = name ? t("Download {name}", { name }) : t("Download again");
    link.setAttribute("download", name || "");
    link.click();
  }
}
