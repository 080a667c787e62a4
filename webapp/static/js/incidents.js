/*
 * Incidents on the map page: an incident's panel (its class, stage, grids, department,
 * deadline, photos, history, and buttons for exactly the actions the server says the
 * signed-in person may take now), a grid's open incidents, a unit's counts per grid and
 * department, and the stage filter of the incidents layer. Reporting is in report.js.
 *
 * Everything the person may do comes from the server (/api/incidents/<id> "your_actions",
 * the page's config "may_report"); the scripts never guess from a role.
 */
import { escapeHtml, fetchJson } from "./util.js";
import { formatDate, formatNumber, language, t } from "./i18n.js";

export const STAGES = {
  reported: t("Reported"), registered: t("Registered"), dispatched: t("Dispatched"),
  handled: t("Handled"), verified: t("Verified"), closed: t("Closed"),
  rejected: t("Rejected"), deferred: t("Deferred"),
};
const ACTIONS = {
  report: t("Report"), register: t("Register"), reject: t("Reject"), dispatch: t("Dispatch"),
  defer: t("Defer"), resume: t("Resume"), handle: t("Mark handled"), verify: t("Verify"),
  send_back: t("Send back"), close: t("Close the case"),
};
const FINISHED = ["closed", "rejected"];
const PHOTO = t("Photo");
const ZH = language.toLowerCase().startsWith("zh");

/** A {zh, en} pair in the page's language. */
export function named(pair) { return pair ? (ZH ? pair.zh : pair.en) : null; }

function stageBadge(stage) {
  return `<span class="stage stage-${escapeHtml(stage)}">${escapeHtml(STAGES[stage] || stage)}</span>`;
}

function overdueBadge() { return `<span class="overdue-badge">${escapeHtml(t("Overdue"))}</span>`; }

function row(label, html) { return `<tr><th>${escapeHtml(label)}</th><td>${html}</td></tr>`; }

/** POST JSON with the page's CSRF token; rejects with the API's detail and status. */
export function postJson(url, body, csrf) {
  return fetchJson(url, {
    method: "POST", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
  });
}

export class IncidentView {
  /**
   * @param {Panel} panel the page's panel (its #info section shows the incident)
   * @param {object} options csrf; onChanged(incident) after an action (the map redraws)
   */
  constructor(panel, { csrf, onChanged }) {
    this.panel = panel;
    this.csrf = csrf;
    this.onChanged = onChanged;
    this.shown = null;
    this.loading = Promise.resolve();
  }

  /** Open incident ``id`` in the panel; ``notice`` (text) is shown over it. */
  show(id, notice) {
    this.loading = this.load(id, notice);
    return this.loading;
  }

  async load(id, notice) {
    try {
      this.render(await fetchJson(`/api/incidents/${encodeURIComponent(id)}`), notice);
    } catch (err) {
      this.panel.showMessage(`<p class="load-error" role="alert">${escapeHtml(err.message)}</p>`);
    }
  }

  render(incident, notice) {
    this.shown = incident;
    const className = named(incident.class_name);
    const deadline = incident.deadline
      ? `${escapeHtml(formatDate(incident.deadline))}${incident.overdue ? ` ${overdueBadge()}` : ""}`
      : escapeHtml(incident.stage === "deferred" ? t("stopped (deferred)") : t("not yet dispatched"));
    const outside = escapeHtml(t("outside every grid"));
    const moved = incident.grid_now !== incident.grid
      ? ` <small class="moved">${escapeHtml(t("(grids were redrawn)"))}</small>` : "";
    const department = incident.department
      ? escapeHtml(named(incident.department_name) || incident.department) : escapeHtml(t("not yet dispatched"));
    const rows = [
      row(t("Event class"), `${escapeHtml(incident.class)} ${escapeHtml(className)}`),
      row(t("Stage"), stageBadge(incident.stage)),
      row(t("Reported in grid"), incident.grid ? escapeHtml(incident.grid) : outside),
      row(t("Grid now"), `${incident.grid_now ? escapeHtml(incident.grid_now) : outside}${moved}`),
      row(t("Department"), department),
      row(t("Deadline"), deadline),
      row(t("Reported"), `${escapeHtml(formatDate(incident.reported_at))} · ${escapeHtml(incident.reported_by)}`),
    ].join("");
    const photos = incident.attachments.map((a) => {
      const url = `/api/incidents/${incident.id}/attachments/${encodeURIComponent(a.sha256)}`;
      return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener"><img class="thumb" src="${escapeHtml(url)}" alt="${escapeHtml(a.name || PHOTO)}" loading="lazy"></a>`;
    }).join("");
    const steps = incident.steps.map((s) => `<li><span class="when">${escapeHtml(formatDate(s.at))}</span> ` +
      `<span class="who">${escapeHtml(s.by.replace(/^person:/, ""))}</span> ` +
      `<span class="action">${escapeHtml(ACTIONS[s.action] || s.action)}</span>: ` +
      `${s.from ? `${escapeHtml(STAGES[s.from] || s.from)} → ` : ""}${escapeHtml(STAGES[s.to] || s.to)}` +
      `${s.comment ? `<q>${escapeHtml(s.comment)}</q>` : ""}</li>`).join("");
    const actions = incident.your_actions.length ? `<section class="incident-actions">` +
      `<h3>${escapeHtml(t("Your next step"))}</h3>` +
      `<label>${escapeHtml(t("Comment (optional)"))}<textarea rows="2" maxlength="2000" class="action-comment"></textarea></label>` +
      `<div class="action-row">${incident.your_actions.map((a) => `<button type="button" data-action="${escapeHtml(a)}"` +
        `${a === "reject" || a === "send_back" ? " class=\"secondary\"" : ""}>${escapeHtml(ACTIONS[a] || a)}</button>`).join("")}</div>` +
      `</section>` : (FINISHED.includes(incident.stage) ? ""
      : `<p class="hint">${escapeHtml(t("Nothing for you to do at this stage."))}</p>`);
    this.panel.showMessage(`<article class="incident" data-id="${incident.id}" data-stage="${escapeHtml(incident.stage)}">` +
      `<h2>${escapeHtml(t("Incident {id}", { id: incident.id }))} · ${escapeHtml(className)}</h2>` +
      `<p class="action-error load-error" role="alert"${notice ? "" : " hidden"}>${escapeHtml(notice || "")}</p>` +
      `<table>${rows}</table>` +
      `<p class="description">${escapeHtml(incident.description)}</p>` +
      `${photos ? `<div class="thumbs">${photos}</div>` : ""}` +
      `${actions}` +
      `<h3>${escapeHtml(t("History ({count} steps)", { count: incident.steps.length }))}</h3>` +
      `<ol class="steps">${steps}</ol></article>`);
    this.panel.setSummary(`${t("Incident {id}", { id: incident.id })} · ${STAGES[incident.stage] || incident.stage}`);
    this.panel.setOpen(true);
    this.panel.info.querySelector("article.incident").scrollIntoView({ block: "start" });
    this.panel.info.querySelectorAll(".incident-actions button").forEach((button) => {
      button.addEventListener("click", () => this.act(button.dataset.action));
    });
  }

  async act(action) {
    const incident = this.shown;
    const box = this.panel.info.querySelector(".action-comment");
    const buttons = this.panel.info.querySelectorAll(".incident-actions button");
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const changed = await postJson(`/api/incidents/${incident.id}/actions`, {
        action, comment: box && box.value.trim() ? box.value.trim() : null,
        expected_stage: incident.stage,
      }, this.csrf);
      this.render(changed);
      this.onChanged(changed);
    } catch (err) {
      if (err.status === 409) {
        // someone acted meanwhile: show what happened over the incident as it is now
        await this.show(incident.id, t("Someone acted on this incident meanwhile; it is shown as it is now. ({detail})",
          { detail: err.message }));
        this.onChanged(incident);
      } else {
        const shown = this.panel.info.querySelector(".action-error");
        if (shown) { shown.hidden = false; shown.textContent = err.message; }
        buttons.forEach((b) => { b.disabled = false; });
      }
    }
  }

  /** A section added under the panel's details, and the JSON of ``url`` to fill it with
   * (null, and the error shown in the section, when the request fails). The section is added
   * before the request: if the panel shows something else meanwhile, it is filled unseen. */
  async section(className, url) {
    const section = document.createElement("section");
    section.className = className;
    this.panel.info.appendChild(section);
    try {
      return [section, await fetchJson(url)];
    } catch (err) {
      section.innerHTML = `<p class="load-error">${escapeHtml(err.message)}</p>`;
      return [section, null];
    }
  }

  /** Under a grid's details: its open incidents (count, overdue count, a link to each). */
  async showGrid(code) {
    const [section, body] = await this.section("grid-incidents",
      `/api/incidents?grid=${encodeURIComponent(code)}&open=1`);
    if (!body) { return; }
    const found = body.incidents;
    const overdue = found.filter((i) => i.overdue).length;
    const heading = t("Open incidents: {count}, overdue: {overdue}",
      { count: formatNumber(found.length), overdue: formatNumber(overdue) });
    const items = found.map((i) => `<li><a href="#" data-incident="${i.id}">#${i.id} ` +
      `${escapeHtml(named(i.class_name))}</a> ${stageBadge(i.stage)}${i.overdue ? ` ${overdueBadge()}` : ""}</li>`).join("");
    section.innerHTML = `<h3>${escapeHtml(heading)}</h3>` +
      (items ? `<ul class="incident-list">${items}</ul>` : `<p class="hint">${escapeHtml(t("No open incidents."))}</p>`);
    this.linkIncidents(section);
  }

  linkIncidents(section) {
    section.querySelectorAll("a[data-incident]").forEach((link) => {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        this.show(link.dataset.incident);
      });
    });
  }

  /** Under a district's, street's or community's details: open and overdue incidents per
   * grid, and the departments holding them. */
  async showCounts(unit) {
    const [section, counts] = await this.section("incident-counts",
      `/api/incidents/counts?unit=${encodeURIComponent(unit.code)}`);
    if (!counts) { return; }
    const heading = t("Open incidents: {count}, overdue: {overdue}",
      { count: formatNumber(counts.open), overdue: formatNumber(counts.overdue) });
    const grids = counts.grids.map((g) => `<tr${g.overdue ? " class=\"has-overdue\"" : ""} data-grid="${escapeHtml(g.grid || "")}">` +
      `<td>${escapeHtml(g.grid || t("outside every grid"))}</td><td>${formatNumber(g.open)}</td>` +
      `<td>${formatNumber(g.overdue)}</td></tr>`).join("");
    const departments = counts.departments.map((d) => `<tr${d.overdue ? " class=\"has-overdue\"" : ""}>` +
      `<td>${escapeHtml(d.department ? named({ zh: d.name_zh, en: d.name_en }) || d.department : t("not yet dispatched"))}</td>` +
      `<td>${formatNumber(d.open)}</td><td>${formatNumber(d.overdue)}</td></tr>`).join("");
    const head = (first) => `<thead><tr><th>${escapeHtml(first)}</th><th>${escapeHtml(t("Open"))}</th>` +
      `<th>${escapeHtml(t("Overdue"))}</th></tr></thead>`;
    section.innerHTML = `<h3>${escapeHtml(heading)}</h3>` + (grids
      ? `<table class="count-table grid-counts">${head(t("Grid"))}<tbody>${grids}</tbody></table>` +
        `<h3>${escapeHtml(t("By department"))}</h3>` +
        `<table class="count-table department-counts">${head(t("Department"))}<tbody>${departments}</tbody></table>`
      : `<p class="hint">${escapeHtml(t("No open incidents."))}</p>`);
  }
}

/** The incidents layer's filter under its legend: open only or all, and one stage. */
export function incidentFilter(onChange) {
  const box = document.createElement("div");
  box.className = "incident-filter";
  const scope = document.createElement("select");
  scope.id = "incident-open";
  [["open", t("Open incidents only")], ["all", t("All incidents")]].forEach(([value, label]) => {
    scope.add(new Option(label, value));
  });
  const stage = document.createElement("select");
  stage.id = "incident-stage";
  stage.add(new Option(t("Every stage"), ""));
  Object.entries(STAGES).forEach(([value, label]) => stage.add(new Option(label, value)));
  const predicate = () => (props) => (scope.value === "all" || !FINISHED.includes(props.stage))
    && (!stage.value || props.stage === stage.value);
  [scope, stage].forEach((select) => select.addEventListener("change", () => onChange(predicate())));
  const wrap = (label, select) => {
    const element = document.createElement("label");
    element.append(document.createTextNode(label), select);
    return element;
  };
  box.append(wrap(t("Show"), scope), wrap(t("Stage"), stage));
  return { element: box, predicate: predicate() };
}
