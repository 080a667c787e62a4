/*
 * The page's language in the scripts: t(msgid, {field: value}) gives the English msgid in
 * the page's locale from the catalogue exported by `make translations`
 * (static/i18n/<locale>.json), which the server embeds in every page as JSON data
 * (<script id="i18n-catalogue" type="application/json">: data, not script, so the CSP holds
 * and nothing waits for a fetch). formatNumber/formatDate format per locale with Intl.
 * Without the catalogue the English msgids are shown.
 */
const root = document.documentElement;
export const language = root.lang || "zh-CN";

function readCatalogue() {
  const element = document.getElementById("i18n-catalogue");
  try {
    return element ? JSON.parse(element.textContent) : {};
  } catch (err) {
    return {};
  }
}

const catalogue = readCatalogue();

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
