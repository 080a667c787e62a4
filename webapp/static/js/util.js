/* Small helpers shared by the map's modules. */

const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" };

/** Text made safe to put into HTML; null and undefined show as a dash. */
export function escapeHtml(value) {
  return String(value === null || value === undefined ? "—" : value)
    .replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

function isEmpty(value) {
  return value === null || value === undefined || value === "";
}

/**
 * Fill "{field}" placeholders from props. A line whose placeholders are all empty is left out,
 * so "{name}\n{code}" is just the code for a grid without a name.
 */
export function fillTemplate(template, props) {
  return template.split("\n").map((line) => {
    let used = 0;
    let empty = 0;
    const text = line.replace(/\{(\w+)\}/g, (_, key) => {
      used += 1;
      if (isEmpty(props[key])) { empty += 1; return ""; }
      return String(props[key]);
    });
    return used > 0 && empty === used ? null : text.trim();
  }).filter((line) => line !== null && line !== "").join("\n");
}

/** Send the visitor to sign in, and back here afterwards. */
export function signInAgain() {
  const here = window.location.pathname + window.location.search + window.location.hash;
  window.location.assign(`/login?next=${encodeURIComponent(here)}`);
}

/**
 * GET a JSON document; rejects with the API's "detail" (or the status) on an error. A 401 means
 * the session has ended (idle too long, password changed elsewhere): go and sign in again.
 */
export async function fetchJson(url, options) {
  const response = await fetch(url, options);
  if (response.status === 401) signInAgain();
  let body = null;
  try { body = await response.json(); } catch (err) { body = null; }
  if (!response.ok) {
    const detail = body && body.detail ? body.detail : `HTTP ${response.status}`;
    const error = new Error(detail);
    error.status = response.status;
    throw error;
  }
  return body;
}
