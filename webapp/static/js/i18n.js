/*
 * The page's language in the scripts: t(msgid, {field: value}) gives the English msgid in
 * the page's locale from the catalogue exported by `make translations`
 * (static/i18n/<locale>.json, named by <html data-catalogue>), and formatNumber/formatDate
 * format per locale with Intl. The catalogue is loaded once, before any module that imports
 * this one runs (top-level await); without it the English msgids are shown.
 */
const root = document.documentElement;
export const language = root.lang || "zh-CN";

async function loadCatalogue() {
  if (!root.dataset.catalogue) { return {}; }
  try {
    const response = await fetch(root.dataset.catalogue);
    return response.ok ? await response.json() : {};
  } catch (err) {
    return {};
  }
}

const catalogue = await loadCatalogue();

/** The message `key` (an English msgid) in the page's language, "{field}"s filled in. */
export function t(key, values) {
  const text = catalogue[key] || key;
  if (!values) { return text; }
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

const numbers = new Intl.NumberFormat(language);
const dates = new Intl.DateTimeFormat(language, { dateStyle: "medium", timeStyle: "short" });

/** A number as the page's language writes it (grouping, decimal sign); others as they are. */
export function formatNumber(value) {
  return typeof value === "number" && Number.isFinite(value) ? numbers.format(value) : value;
}

/** A date (Date or ISO 8601 string) as the page's language writes it. */
export function formatDate(value) {
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? value : dates.format(date);
}
