/*
 * Leaflet path styles from a layer definition's "style":
 *   color, weight, fill, fillColor, fillOpacity, opacity, dashArray — the base style;
 *   by + kinds — overrides by the value of a property (kinds: {value: {color, weight…}});
 *   fill_by + fills — overrides by the value of a second property (the grids' load);
 *   flags — overrides when a boolean property is true (flags: {tunnel: {opacity: 0.35}});
 *   color_by — a fill colour hashed from a property (neighbouring values differ).
 */
// Warm and neutral tones only: blues are kept for water, so a building never looks like a lake.
const PALETTE = ["#e6994a", "#c05a5a", "#8f6bb3", "#6a9a3c", "#b5894f", "#d17bb0", "#7d7d7d",
                 "#a6a23a", "#9c5b3b", "#5c8c6a", "#b36b8f", "#c9a227", "#6b6b9a", "#a0522d"];
// radius: points drawn as circles (incidents) — an overdue case is drawn larger
const KEYS = ["color", "weight", "opacity", "fill", "fillColor", "fillOpacity", "dashArray",
              "radius"];

function colourOf(key) {
  if (key === null || key === undefined) { return "#bbbbbb"; }
  const s = String(key);
  let h = 0;
  for (let i = 0; i < s.length; i += 1) { h = (h * 31 + s.charCodeAt(i)) >>> 0; }
  return PALETTE[h % PALETTE.length];
}

function pick(source) {
  const out = {};
  KEYS.forEach((k) => { if (source && source[k] !== undefined) { out[k] = source[k]; } });
  return out;
}

/** A function feature → Leaflet path options for the layer definition def. */
export function styleFor(def) {
  const base = def.style || {};
  const defaults = { weight: 1, fill: true, fillOpacity: 0.2 };
  return (feature) => {
    const props = feature.properties || {};
    const s = Object.assign({}, defaults, pick(base));
    if (base.by && base.kinds && base.kinds[props[base.by]] !== undefined) {
      const over = base.kinds[props[base.by]];
      Object.assign(s, typeof over === "string" ? { color: over } : pick(over));
    }
    if (base.fill_by && base.fills && base.fills[props[base.fill_by]] !== undefined) {
      Object.assign(s, pick(base.fills[props[base.fill_by]]));
    }
    Object.keys(base.flags || {}).forEach((flag) => {
      if (props[flag]) { Object.assign(s, pick(base.flags[flag])); }
    });
    if (base.color_by) { s.fillColor = colourOf(props[base.color_by]); }
    return s;
  };
}

/** Whether the layer's features take taps (style.interactive, default true). */
export function isInteractive(def) {
  return !(def.style && def.style.interactive === false);
}
