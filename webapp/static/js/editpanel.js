/*
 * What the grid editor shows in the panel: the preview of the edited grids (households and
 * buildings per grid, the validator's findings) and, once a draft is applied, the codes it
 * issued and the ones it retired.
 */
import { escapeHtml } from "./util.js";
import { formatNumber, t } from "./i18n.js";

function cells(values) {
  return values.map((v) => `<td>${escapeHtml(v)}</td>`).join("");
}

function codeList(title, codes, className) {
  const items = codes.map((c) => `<li><code>${escapeHtml(c)}</code></li>`).join("");
  return `<h3>${escapeHtml(title)}</h3><ul class="${className}">${items ||
    `<li>${escapeHtml(t("none"))}</li>`}</ul>`;
}

export class PreviewTable {
  constructor(element) { this.element = element; }

  /** The edited grids and the findings (preview from /api/plans/preview). */
  show(preview, editCount) {
    const { comparison } = preview;
    const flagged = new Set();
    comparison.violations.forEach((v) => v.codes.forEach((c) => flagged.add(c)));
    const rows = preview.grids.features.map((f) => {
      const p = f.properties;
      const kind = p.kind === "unit" ? t("unit") : t("residential");
      return `<tr data-key="${escapeHtml(f.id)}" class="${p.changed ? "changed" : ""}` +
        `${flagged.has(f.id) ? " flagged" : ""}">` +
        cells([f.id, kind, formatNumber(p.households), formatNumber(p.buildings)]) + "</tr>";
    }).join("");
    const before = comparison.current.reduce((sum, g) => sum + g.households, 0);
    const after = preview.grids.features.reduce((sum, f) => sum + f.properties.households, 0);
    const findings = comparison.violations.length
      ? `<ul class="findings">${comparison.violations.map((v) =>
        `<li>${escapeHtml(v.detail)}</li>`).join("")}</ul>`
      : `<p class="no-findings">${escapeHtml(t("The validator finds nothing wrong."))}</p>`;
    this.element.innerHTML =
      `<p class="hint">${escapeHtml(editCount ? t("{count} edits, not saved", { count: editCount })
        : t("No unsaved edits"))} · ` +
      `${escapeHtml(t("households {before} → {after}", {
        before: formatNumber(before), after: formatNumber(after) }))}</p>` +
      `<table class="edit-table"><thead><tr><th>${escapeHtml(t("Grid"))}</th>` +
      `<th>${escapeHtml(t("Kind"))}</th><th>${escapeHtml(t("Households"))}</th>` +
      `<th>${escapeHtml(t("Buildings"))}</th></tr></thead><tbody>${rows}</tbody></table>` +
      `<h3>${escapeHtml(t("Findings"))}</h3>${findings}`;
  }

  /** The codes an applied draft issued and retired (/api/plans/ID/apply). */
  showApplied(element, done) {
    element.innerHTML = `<p>${escapeHtml(t("Plan {plan} applied.", { plan: done.id }))}</p>` +
      codeList(t("New codes"), done.issued, "issued") +
      codeList(t("Retired codes"), done.retired, "retired");
  }
}
