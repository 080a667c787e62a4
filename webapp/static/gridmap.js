/* gridmap map page: draws the layers described by /api/layers from the feature API. */
(function () {
  "use strict";
  var layers = JSON.parse(document.getElementById("layer-config").textContent);
  var map = L.map("map", { zoomControl: true, zoomSnap: 0.25 });
  map.attributionControl.addAttribution("© OpenStreetMap contributors (ODbL)");
  var palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                 "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39"];
  function colourOf(key) {
    if (key === null || key === undefined) { return "#bbbbbb"; }
    var s = String(key), h = 0;
    for (var i = 0; i < s.length; i++) { h = (h * 31 + s.charCodeAt(i)) >>> 0; }
    return palette[h % palette.length];
  }
  function fieldLabel(def, name) {
    for (var i = 0; i < def.fields.length; i++) {
      if (def.fields[i].name === name) { return def.fields[i].label || name; }
    }
    return name;
  }
  function escapeHtml(v) {
    return String(v === null || v === undefined ? "—" : v).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }[c];
    });
  }
  function showInfo(def, props) {
    var rows = (def.popup || []).map(function (name) {
      return "<tr><th>" + escapeHtml(fieldLabel(def, name)) + "</th><td>" +
        escapeHtml(props[name]) + "</td></tr>";
    }).join("");
    document.getElementById("info").innerHTML = "<h2>" + escapeHtml(def.title) + " " +
      escapeHtml(props.code || props.name || "") + "</h2><table>" + rows + "</table>";
  }
  function styleFor(def) {
    var base = def.style || {};
    return function (feature) {
      var s = { color: base.color, weight: base.weight || 1, fill: base.fill !== false,
                fillOpacity: base.fillOpacity === undefined ? 0.2 : base.fillOpacity,
                dashArray: base.dashArray };
      if (base.kinds && feature.properties.kind) { s.color = base.kinds[feature.properties.kind]; }
      if (base.color_by) { s.fillColor = colourOf(feature.properties[base.color_by]); }
      return s;
    };
  }
  function labelText(template, props) {
    return template.replace(/\{(\w+)\}/g, function (_, k) { return props[k]; });
  }
  var groups = {};
  function load(def) {
    var group = groups[def.name];
    if (def.min_zoom && map.getZoom() < def.min_zoom) { group.clearLayers(); return; }
    var b = map.getBounds();
    var url = "/api/layers/" + def.name + "/features?bbox=" + [b.getWest(), b.getSouth(),
      b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(",");
    fetch(url).then(function (r) {
      if (!r.ok) { return r.json().then(function (e) { throw new Error(e.detail); }); }
      return r.json();
    }).then(function (data) {
      group.clearLayers();
      L.geoJSON(data, {
        style: styleFor(def),
        onEachFeature: function (feature, layer) {
          if (def.popup) { layer.on("click", function () { showInfo(def, feature.properties); }); }
          if (def.label) {
            // At a point on the surface (from PostGIS): a concave grid's centre may lie
            // outside it, and a tap on the label must reach the grid under it.
            var at = feature.properties.label_point;
            var tip = L.tooltip({ permanent: true, direction: "center", className: "grid-label" })
              .setContent(labelText(def.label, feature.properties));
            if (at) { tip.setLatLng([at[1], at[0]]).addTo(group); } else { layer.bindTooltip(tip); }
          }
        }
      }).addTo(group);
      document.getElementById("map").dataset["loaded" + def.name] = String(data.features.length);
    }).catch(function (err) {
      document.getElementById("info").innerHTML =
        "<p class='load-error'>" + escapeHtml(def.title) + ": " + escapeHtml(err.message) + "</p>";
    });
  }
  var list = document.getElementById("layer-list");
  layers.forEach(function (def) {
    groups[def.name] = L.featureGroup();
    if (def.visible !== false) { groups[def.name].addTo(map); }
    var label = document.createElement("label");
    var box = document.createElement("input");
    box.type = "checkbox"; box.checked = def.visible !== false; box.dataset.layer = def.name;
    box.addEventListener("change", function () {
      if (box.checked) { groups[def.name].addTo(map); load(def); } else { map.removeLayer(groups[def.name]); }
    });
    label.appendChild(box);
    label.appendChild(document.createTextNode(def.title));
    list.appendChild(label);
  });
  function refresh() {
    layers.forEach(function (def) { if (map.hasLayer(groups[def.name])) { load(def); } });
  }
  fetch("/api/districts").then(function (r) { return r.json(); }).then(function (data) {
    if (data.features && data.features.length) {
      map.fitBounds(L.geoJSON(data).getBounds(), { padding: [10, 10] });
    } else {
      map.setView([30.5, 114.3], 12);
      document.getElementById("info").innerHTML = "<p class='hint'>尚未加载任何区 · No district loaded (run gridmap demo)</p>";
    }
    map.on("moveend", refresh);
    refresh();
  });
}());
