/* belimo dashboard: draws the pages' charts from the JSON endpoints (no inline script). */
(function () {
  "use strict";
  var body = document.body;
  var page = body.dataset.page;
  var deviceId = body.dataset.device || "";
  var COLOR = { heating: "#c05621", cooling: "#2b6cb0", flagged: "#d69e2e", ok: "#2f855a",
                bad: "#c53030", warn: "#b7791f", muted: "#9aa5b1", line2: "#805ad5" };
  var first = false;
  /* This script runs before Plotly's (so the data is on its way while Plotly parses);
     drawing waits for Plotly, which has run by DOMContentLoaded. */
  var queue = new Promise(function (resolve) {
    if (window.Plotly) { resolve(); return; }
    document.addEventListener("DOMContentLoaded", function () { resolve(); });
  });

  function api(path) {
    return fetch(path, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) { throw new Error(path + " answered " + r.status); }
        return r.json();
      });
  }

  function layout(extra) {
    var base = {
      margin: { l: 60, r: 16, t: 10, b: 40 },
      font: { family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 12 },
      paper_bgcolor: "#fff", plot_bgcolor: "#fff", height: 300,
      legend: { orientation: "h", y: -0.18 }, hovermode: "closest"
    };
    return Object.assign(base, extra || {});
  }
  var CONFIG = { responsive: true, displaylogo: false };

  function chartEl(id) { return document.getElementById("chart-" + id); }

  function draw(id, traces, extra) {
    var el = chartEl(id);
    if (!el) { return Promise.resolve(null); }
    /* One chart at a time, each in its own task, so the first shows before the rest draw. */
    var turn = queue.then(function () {
      return new Promise(function (resolve) { setTimeout(resolve, 0); });
    }).then(function () {
      return Plotly.react(el, traces, layout(extra), CONFIG);
    });
    queue = turn.catch(function () { return null; });
    return turn.then(function (gd) {
      gd.dataset.drawn = "1";
      gd.dataset.traces = String(traces.length);
      if (!first) { first = true; performance.mark("first-chart"); }
      document.dispatchEvent(new CustomEvent("chart-drawn", { detail: id }));
      return gd;
    });
  }

  function drawEmpty(id, text) {
    return draw(id, [], {
      xaxis: { visible: false }, yaxis: { visible: false }, height: 160,
      annotations: [{ text: text, showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5,
                      font: { color: COLOR.muted, size: 14 } }]
    });
  }

  function fail(err) {
    var note = document.createElement("p");
    note.className = "banner warn";
    note.textContent = String(err.message || err);
    var main = document.querySelector("h1");
    if (main && main.parentNode) { main.parentNode.insertBefore(note, main.nextSibling); }
  }

  /* -- exports of what is on screen ---------------------------------------------------- */

  function inRange(x, range) {
    if (!range) { return true; }
    if (typeof x === "number") { return x >= range[0] && x <= range[1]; }
    var s = String(x);
    return s >= String(range[0]).slice(0, s.length) && s <= String(range[1]).slice(0, s.length);
  }

  function csvCell(v) {
    if (v === null || v === undefined) { return ""; }
    var s = String(v);
    return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  function exportCsv(id) {
    var gd = chartEl(id);
    if (!gd || !gd.data) { return; }
    var xa = gd.layout.xaxis || {};
    var range = xa.autorange === true || !xa.range ? null : xa.range;
    var lines = ["series,x,y"];
    gd.data.forEach(function (t) {
      var xs = t.x || [], ys = t.y || [];
      for (var i = 0; i < xs.length; i++) {
        if (inRange(xs[i], range)) {
          lines.push([csvCell(t.name || ""), csvCell(xs[i]), csvCell(ys[i])].join(","));
        }
      }
    });
    var blob = new Blob([lines.join("\n") + "\n"], { type: "text/csv" });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = (deviceId ? deviceId + "-" : "fleet-") + id + ".csv";
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest ? ev.target.closest("button[data-export]") : null;
    if (!btn) { return; }
    var id = btn.dataset.chart;
    if (btn.dataset.export === "csv") { exportCsv(id); return; }
    var gd = chartEl(id);
    if (gd && gd.data) {
      Plotly.downloadImage(gd, { format: "png", filename: (deviceId || "fleet") + "-" + id,
                                 width: gd.offsetWidth, height: gd.offsetHeight });
    }
  });

  /* -- energy bars (fleet and device) --------------------------------------------------- */

  function energyTraces(d, direction) {
    var clean = d.consumption.map(function (v, i) {
      return v === null ? null : v - (d.flagged[i] || 0);
    });
    var hover = d.quality.map(function (q) { return "quality: " + q; });
    return [
      { type: "bar", name: direction, x: d.period, y: clean, marker: { color: COLOR[direction] },
        customdata: hover,
        hovertemplate: "%{x}<br>%{y:,.1f} kWh<br>%{customdata}<extra>" + direction + "</extra>" },
      { type: "bar", name: direction + " (flagged)", x: d.period, y: d.flagged,
        marker: { color: COLOR.flagged }, customdata: hover,
        hovertemplate: "%{x}<br>%{y:,.1f} kWh flagged<br>%{customdata}<extra></extra>" }
    ];
  }

  /* -- fleet page ----------------------------------------------------------------------- */

  function fleetCharts() {
    api("/api/fleet").then(function (s) {
      draw("connectivity", [{ type: "pie", hole: 0.55, sort: false,
        labels: ["online", "offline"], values: [s.connectivity.online, s.connectivity.offline],
        marker: { colors: [COLOR.ok, COLOR.bad] }, textinfo: "label+value" }],
        { margin: { l: 10, r: 10, t: 10, b: 10 }, height: 260, showlegend: false });
      var keys = Object.keys(s.health);
      var colors = { ok: COLOR.ok, warning: COLOR.warn, error: COLOR.bad, unknown: COLOR.muted };
      draw("health", [{ type: "bar", x: keys, y: keys.map(function (k) { return s.health[k]; }),
        marker: { color: keys.map(function (k) { return colors[k] || COLOR.muted; }) } }],
        { height: 260, yaxis: { title: { text: "devices" }, rangemode: "tozero" } });
    }).catch(fail);
    var select = document.getElementById("energy-by");
    function energy() {
      api("/api/fleet/energy?by=" + encodeURIComponent(select.value)).then(function (e) {
        ["heating", "cooling"].forEach(function (dir) {
          var d = e.directions[dir];
          if (!d) { drawEmpty("energy-" + dir, "No " + dir + " energy in the store"); return; }
          draw("energy-" + dir, energyTraces(d, dir), { barmode: "stack",
            xaxis: { type: "date" }, yaxis: { title: { text: "kWh" } } });
        });
      }).catch(fail);
    }
    select.addEventListener("change", energy);
    energy();
  }

  function deviceTable() {
    var table = document.getElementById("device-table");
    if (!table) { return; }
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.rows);
    var search = document.getElementById("device-search");
    var filters = ["kind", "health", "profile"].map(function (k) {
      return [k, document.getElementById("filter-" + k)];
    });
    var count = document.getElementById("device-count");
    var none = document.getElementById("device-none");
    function apply() {
      var q = (search.value || "").trim().toLowerCase();
      var shown = 0;
      rows.forEach(function (tr) {
        var text = (tr.dataset.name + " " + tr.dataset.profile + " " + tr.dataset.status + " " +
                    tr.dataset.kind + " " + tr.dataset.health).toLowerCase();
        var ok = !q || text.indexOf(q) >= 0;
        filters.forEach(function (f) {
          if (f[1] && f[1].value && tr.dataset[f[0]] !== f[1].value) { ok = false; }
        });
        tr.hidden = !ok;
        if (ok) { shown++; }
      });
      count.textContent = shown + " of " + rows.length + " devices";
      none.hidden = shown > 0;
    }
    search.addEventListener("input", apply);
    filters.forEach(function (f) { if (f[1]) { f[1].addEventListener("change", apply); } });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.addEventListener("click", function () {
        var key = th.dataset.sort, num = th.dataset.type === "num";
        var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
        Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
        rows.sort(function (a, b) {
          var x = a.dataset[key] || "", y = b.dataset[key] || "";
          if (num) {
            var fx = x === "" ? -Infinity : parseFloat(x), fy = y === "" ? -Infinity : parseFloat(y);
            return (fx - fy) * dir;
          }
          return x.localeCompare(y) * dir;
        });
        rows.forEach(function (tr) { tbody.appendChild(tr); });
      });
    });
    apply();
  }

  /* -- device page ---------------------------------------------------------------------- */

  var CHARTS = {
    power: ["AbsPower_Fb_W"], flow: ["AbsFlow_Fb_m3s"],
    temperatures: ["T1_remote_K", "T2_embeded_K"], dt: ["DeltaT_K", "SpDeltaT_applied_K"]
  };
  var TIME_CHARTS = ["power", "flow", "temperatures", "dt", "timeline"];
  var syncing = false;
  var refetch = null;

  function plotWidth() {
    var el = chartEl("power");
    return Math.max(200, Math.round((el && el.clientWidth) || 1000));
  }

  function seriesTraces(data, names) {
    var colors = [COLOR.heating, COLOR.cooling];
    return names.filter(function (n) { return data.series[n] && data.series[n].x.length; })
      .map(function (n, i) {
        var s = data.series[n];
        var dash = n === "SpDeltaT_applied_K" ? "dash" : "solid";
        return { type: "scatter", mode: "lines", name: s.label + " [" + s.unit + "]", x: s.x, y: s.y,
                 line: { width: 1.2, color: colors[i % 2], dash: dash },
                 hovertemplate: "%{x}<br>%{y:.3f} " + s.unit + "<extra>" + s.label + "</extra>" };
      });
  }

  function drawSeries(data, range) {
    var jobs = Object.keys(CHARTS).map(function (id) {
      var traces = seriesTraces(data, CHARTS[id]);
      if (!traces.length) { return drawEmpty(id, "Not in the store"); }
      var unit = data.series[CHARTS[id][0]].unit;
      var xaxis = { type: "date" };
      if (range) { xaxis.range = range; xaxis.autorange = false; }
      var points = CHARTS[id].map(function (n) {
        var s = data.series[n];
        return s ? s.shown + " of " + s.points : "";
      }).filter(Boolean).join(", ");
      chartEl(id).dataset.points = points;
      return draw(id, traces, { xaxis: xaxis, yaxis: { title: { text: unit } }, hovermode: "x unified" });
    });
    return Promise.all(jobs);
  }

  function loadSeries(range) {
    var q = "/api/devices/" + encodeURIComponent(deviceId) + "/series?width=" + plotWidth();
    if (range) { q += "&start=" + encodeURIComponent(range[0]) + "&end=" + encodeURIComponent(range[1]); }
    return api(q).then(function (d) { return drawSeries(d, range); });
  }

  function onZoom(source, ev) {
    if (syncing) { return; }
    var range = null;
    if (ev["xaxis.range[0]"] !== undefined) { range = [ev["xaxis.range[0]"], ev["xaxis.range[1]"]]; }
    else if (ev["xaxis.range"]) { range = ev["xaxis.range"]; }
    else if (!ev["xaxis.autorange"]) { return; }
    syncing = true;
    var jobs = TIME_CHARTS.filter(function (id) { return id !== source; }).map(function (id) {
      var gd = chartEl(id);
      if (!gd || !gd.data) { return null; }
      return Plotly.relayout(gd, range ? { "xaxis.range": range } : { "xaxis.autorange": true });
    });
    Promise.all(jobs).then(function () { syncing = false; });
    clearTimeout(refetch);
    refetch = setTimeout(function () {
      syncing = true;
      loadSeries(range).then(function () { syncing = false; }, function (e) { syncing = false; fail(e); });
    }, 250);
  }

  function linkAxes() {
    TIME_CHARTS.forEach(function (id) {
      var gd = chartEl(id);
      if (gd && gd.on && !gd.dataset.linked) {
        gd.dataset.linked = "1";
        gd.on("plotly_relayout", function (ev) { onZoom(id, ev); });
      }
    });
  }

  function timeline(range) {
    return api("/api/devices/" + encodeURIComponent(deviceId) + "/timeline").then(function (t) {
      var dated = t.items.filter(function (it) { return it.start; });
      if (!dated.length) { return drawEmpty("timeline", "No dated events or findings"); }
      var traces = dated.map(function (it) {
        var text = it.label + (it.direction ? " (" + it.direction + ")" : "") + "<br>" +
          it.start + " to " + it.end + "<br>" + it.detail + "<br>→ " + it.recommendation;
        return { type: "scatter", mode: "lines+markers", name: it.label, showlegend: false,
                 x: [it.start, it.end], y: [it.label, it.label],
                 line: { width: 8, color: COLOR.warn }, marker: { size: 9, color: COLOR.bad },
                 customdata: [text, text], hovertemplate: "%{customdata}<extra></extra>" };
      });
      var xaxis = { type: "date" };
      if (range) { xaxis.range = range; }
      var kinds = {};
      dated.forEach(function (it) { kinds[it.label] = 1; });
      return draw("timeline", traces, { xaxis: xaxis, yaxis: { type: "category", automargin: true },
        height: 120 + 30 * Object.keys(kinds).length });
    });
  }

  function deviceEnergy() {
    var select = document.getElementById("energy-by");
    function go() {
      api("/api/devices/" + encodeURIComponent(deviceId) + "/energy?by=" + select.value)
        .then(function (e) {
          var traces = [];
          ["heating", "cooling"].forEach(function (dir) {
            if (e.directions[dir]) { traces = traces.concat(energyTraces(e.directions[dir], dir)); }
          });
          if (!traces.length) { return drawEmpty("energy", "No energy counters in the store"); }
          return draw("energy", traces, { barmode: "stack", xaxis: { type: "date" },
                                          yaxis: { title: { text: "kWh" } } });
        }).catch(fail);
    }
    select.addEventListener("change", go);
    go();
  }

  function scatter() {
    return api("/api/devices/" + encodeURIComponent(deviceId) + "/scatter").then(function (s) {
      if (!s.points) { return drawEmpty("scatter", "Needs flow and dT in the store"); }
      return draw("scatter", [{ type: "scatter", mode: "markers", name: "dT vs flow", x: s.x, y: s.y,
        customdata: s.t, marker: { size: 4, color: s.c, colorscale: "Viridis", opacity: 0.7,
                             colorbar: { title: { text: "days" }, thickness: 12 } },
        hovertemplate: "%{customdata}<br>flow %{x:.3f} " + s.x_unit + "<br>dT %{y:.2f} " + s.y_unit + "<extra></extra>" }],
        { xaxis: { title: { text: "Flow [" + s.x_unit + "]" } },
          yaxis: { title: { text: "dT [" + s.y_unit + "]" } }, height: 360 });
    });
  }

  function live() {
    var tbody = document.querySelector("#live-table tbody");
    var source = document.getElementById("live-source");
    var when = document.getElementById("live-when");
    var status = document.getElementById("live-status");
    function poll() {
      api("/api/devices/" + encodeURIComponent(deviceId) + "/live").then(function (s) {
        var rows = s.values.map(function (v) {
          var tr = document.createElement("tr");
          tr.dataset.name = v.name;
          [v.label, v.value === null ? "" : v.value.toLocaleString("en", { maximumFractionDigits: 3 }), v.unit]
            .forEach(function (text, i) {
              var td = document.createElement("td");
              if (i === 1) { td.className = "num"; }
              td.textContent = text;
              tr.appendChild(td);
            });
          return tr;
        });
        tbody.replaceChildren.apply(tbody, rows);
        source.textContent = s.source === "live" ? "(live)" : "(latest stored)";
        source.dataset.source = s.source;
        when.textContent = s.timestamp ? "taken " + s.timestamp + (s.events ? " · " + s.events + " live events" : "") : "";
        when.dataset.timestamp = s.timestamp || "";
        if (status) { status.textContent = "live: " + s.status; }
      }).catch(function () { /* the next poll tries again */ });
    }
    poll();
    setInterval(poll, 2000);
  }

  function devicePage() {
    live();
    deviceEnergy();
    loadSeries(null).then(function () {
      var gd = chartEl("power");
      var range = gd && gd.layout && gd.layout.xaxis && gd.layout.xaxis.range;
      return timeline(range ? range.slice() : null);
    }).then(linkAxes).catch(fail);
    scatter().catch(fail);
  }

  /* -- compare page --------------------------------------------------------------------- */

  function comparePage() {
    var search = document.getElementById("device-search");
    var labels = Array.prototype.slice.call(document.querySelectorAll(".picker label"));
    search.addEventListener("input", function () {
      var q = search.value.trim().toLowerCase();
      labels.forEach(function (l) { l.hidden = q && l.dataset.name.toLowerCase().indexOf(q) < 0; });
    });
    var ids = labels.map(function (l) { return l.querySelector("input"); })
      .filter(function (i) { return i.checked; }).map(function (i) { return i.value; });
    if (!ids.length) { return; }
    var q = ids.map(function (i) { return "ids=" + encodeURIComponent(i); }).join("&");
    api("/api/compare?" + q).then(function (c) {
      var tbody = document.querySelector("#compare-table tbody");
      var rows = [];
      ["heating", "cooling"].forEach(function (dir) {
        var list = c.directions[dir] || [];
        list.forEach(function (s) {
          var tr = document.createElement("tr");
          tr.dataset.device = s.device_id;
          [s.name, dir, s.energy_kwh, s.peak_kw, s.full_load_hours].forEach(function (v, i) {
            var td = document.createElement("td");
            if (i >= 2) { td.className = "num"; v = Number(v).toLocaleString("en", { maximumFractionDigits: 1 }); }
            td.textContent = v;
            tr.appendChild(td);
          });
          rows.push(tr);
        });
        if (!list.length) {
          drawEmpty("norm-" + dir, "No " + dir + " energy among the picked valves");
          drawEmpty("flh-" + dir, "No " + dir + " energy among the picked valves");
          return;
        }
        draw("norm-" + dir, list.map(function (s) {
          return { type: "bar", name: s.name, x: s.period, y: s.kwh_per_kw,
                   hovertemplate: "%{x}<br>%{y:.1f} kWh/kW<extra>" + s.name + "</extra>" };
        }), { barmode: "group", xaxis: { type: "date" }, yaxis: { title: { text: "kWh per kW peak" } },
              height: 340 });
        draw("flh-" + dir, [{ type: "bar", x: list.map(function (s) { return s.name; }),
          y: list.map(function (s) { return s.full_load_hours; }), marker: { color: COLOR[dir] },
          hovertemplate: "%{x}<br>%{y:,.0f} h<extra></extra>" }],
          { yaxis: { title: { text: "h" } }, xaxis: { automargin: true }, height: 340 });
      });
      tbody.replaceChildren.apply(tbody, rows);
    }).catch(fail);
  }

  if (page === "fleet") { fleetCharts(); deviceTable(); }
  else if (page === "device") { devicePage(); }
  else if (page === "compare") { comparePage(); }
})();
