/* Offline map labels for Leaflet (no plugin, no tiles): road, place, district and facility names
   drawn as text that appears with zoom, with a white halo, skipping any label whose screen box
   overlaps one already drawn (lower rank first). Label features come from the bundle's basemap
   (properties kind="label", class, sub, name, name_zh, name_en, minzoom, rank, angle; see
   geoservice/bundle/labels.py).

   Use:
     BasemapLabels.add(map, fc, {lang})        takes the label features out of the basemap fc
                                               (before L.geoJSON draws the rest) and draws them;
                                               {group: "name"} hides them while the layer
                                               window[name] is switched off (also in addAreas
                                               and, per item, addPoints)
     BasemapLabels.addAreas(map, unitsFc, {})  admin unit names at a point inside each unit
     BasemapLabels.addPoints(map, items)       e.g. facility names beside their markers
     BasemapLabels.setLang(map, "zh"|"en")     switch language (name_zh / name_en, else name)
     BasemapLabels.localizeControls(lang, maps) metric scale bar (米 / 公里 in zh), zoom button titles, both ways
   Styles are inline (style="" attributes): the pages' CSP allows those, not <style> elements. */
(function () {
  "use strict";

  var PANE = "gsLabels";
  var METRIC_EN = L.Control.Scale.prototype._updateMetric; /* Leaflet's own, before any translation */
  var METRIC_ZH = function (maxMeters) {
    var meters = this._getRoundNum(maxMeters);
    var label = meters < 1000 ? meters + " 米" : meters / 1000 + " 公里";
    this._updateScale(this._mScale, label, meters / maxMeters);
  };
  var HALO = "text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff,1px 1px 1px #fff,-1px -1px 1px #fff,1px -1px 1px #fff,-1px 1px 1px #fff;";
  var FAMILY = "system-ui,'Noto Sans CJK SC','Noto Sans SC','Microsoft YaHei','PingFang SC',sans-serif"; /* single quotes: it goes into style="" */
  /* font (size px, weight), colour and extra CSS per class/sub; the size also measures the box */
  var STYLE = {
    road: { size: 11, weight: 500, color: "#4a4238", css: "" },
    "road:motorway": { size: 12, weight: 600, color: "#6b3b12", css: "" },
    "road:trunk": { size: 12, weight: 600, color: "#6b3b12", css: "" },
    "road:primary": { size: 11.5, weight: 600, color: "#5a4326", css: "" },
    place: { size: 12, weight: 600, color: "#2f3440", css: "" },
    "place:city": { size: 17, weight: 700, color: "#1f2430", css: "letter-spacing:.04em;" },
    "place:town": { size: 15, weight: 700, color: "#1f2430", css: "" },
    "place:borough": { size: 14, weight: 700, color: "#2f3440", css: "" },
    "place:suburb": { size: 13.5, weight: 600, color: "#2f3440", css: "" },
    "place:village": { size: 13, weight: 600, color: "#2f3440", css: "" },
    "place:hamlet": { size: 11.5, weight: 500, color: "#3e4452", css: "" },
    "place:locality": { size: 11, weight: 500, color: "#555b66", css: "font-style:italic;" },
    admin: { size: 15, weight: 700, color: "#6d3f69", css: "letter-spacing:.12em;" },
    facility: { size: 12.5, weight: 700, color: "#111", css: "" },
    obstacle: { size: 0, weight: 400, color: "#000", css: "" },
  };
  var NOTE_SIZE = 10.5;
  var PAD = 3; /* px kept free around every label */
  var SAME_NAME_PX = 250;
  var OBSTACLES = ".leaflet-control, .gs-legend, .gs-notice, [data-gs-obstacle]";

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function styleOf(item) {
    return STYLE[item.cls + ":" + item.sub] || STYLE[item.cls] || STYLE.road;
  }

  var ctx = null;
  function textWidth(text, size, weight) {
    if (!ctx) ctx = document.createElement("canvas").getContext("2d");
    ctx.font = weight + " " + size + "px " + FAMILY;
    return ctx.measureText(text).width;
  }

  function pick(item, lang) {
    if (lang === "zh") return item.name_zh || item.name;
    if (lang === "en") return item.name_en || item.name;
    return item.name;
  }

  /* oriented boxes {cx, cy, hw, hh, a}: separating axis test */
  function overlaps(p, q) {
    var rp = Math.max(p.hw, p.hh) * 1.5, rq = Math.max(q.hw, q.hh) * 1.5;
    if (Math.abs(p.cx - q.cx) > rp + rq || Math.abs(p.cy - q.cy) > rp + rq) return false;
    var axes = [p.a, p.a + Math.PI / 2, q.a, q.a + Math.PI / 2];
    for (var i = 0; i < 4; i++) {
      var ux = Math.cos(axes[i]), uy = Math.sin(axes[i]);
      var d = Math.abs((q.cx - p.cx) * ux + (q.cy - p.cy) * uy);
      var ep = p.hw * Math.abs(Math.cos(p.a) * ux + Math.sin(p.a) * uy) + p.hh * Math.abs(-Math.sin(p.a) * ux + Math.cos(p.a) * uy);
      var eq = q.hw * Math.abs(Math.cos(q.a) * ux + Math.sin(q.a) * uy) + q.hh * Math.abs(-Math.sin(q.a) * ux + Math.cos(q.a) * uy);
      if (d > ep + eq) return false;
    }
    return true;
  }

  function Manager(map, opts) {
    this.map = map;
    this.lang = (opts && opts.lang) || "local";
    this.items = [];
    if (!map.getPane(PANE)) {
      var pane = map.createPane(PANE);
      pane.style.zIndex = 450; /* above areas and roads, below markers and popups */
      pane.style.pointerEvents = "none";
    }
    this.layer = L.layerGroup().addTo(map);
    var self = this;
    this.redraw = function () { self.draw(); };
    map.on("zoomend moveend resize overlayadd overlayremove", this.redraw);
  }

  Manager.prototype.push = function (items) {
    for (var i = 0; i < items.length; i++) {
      var it = items[i];
      it.order = this.items.length;
      this.items.push(it);
    }
    this.schedule();
  };

  Manager.prototype.schedule = function () {
    var self = this;
    if (this.pending) return;
    this.pending = true;
    setTimeout(function () { self.pending = false; if (self.map._loaded) self.draw(); else self.map.whenReady(self.redraw); }, 0);
  };

  Manager.prototype.box = function (it, pt, text) {
    var st = styleOf(it);
    if (it.cls === "obstacle") return { cx: pt.x + (it.dx || 0), cy: pt.y + (it.dy || 0), hw: it.w / 2 + 1, hh: it.h / 2 + 1, a: 0 };
    var w = textWidth(text, st.size, st.weight);
    var h = st.size * 1.25;
    if (it.note) {
      w = Math.max(w, textWidth(it.note, NOTE_SIZE, 600));
      h += NOTE_SIZE * 1.25;
    }
    if (st.css.indexOf("letter-spacing") >= 0) w += text.length * st.size * 0.12;
    var a = ((it.angle || 0) * Math.PI) / 180;
    var hw = w / 2 + PAD, hh = h / 2 + PAD;
    if (it.side === "right" || it.side === "left") {
      /* text starts dx px right (left) of the point; no padding on that side: its own marker is there */
      var sign = it.side === "right" ? 1 : -1;
      return { cx: pt.x + sign * ((it.dx || 14) + (w + PAD) / 2), cy: pt.y + (it.dy || 0), hw: (w + PAD) / 2, hh: hh, a: 0 };
    }
    return { cx: pt.x, cy: pt.y, hw: hw, hh: hh, a: a };
  };

  Manager.prototype.html = function (it, text) {
    var st = styleOf(it);
    var font = "font:" + st.weight + " " + st.size + "px/1.25 " + FAMILY + ";color:" + st.color + ";" + st.css;
    var body = esc(text);
    if (it.note) {
      body += '<br><span style="font:600 ' + NOTE_SIZE + "px/1.25 " + FAMILY + ";color:" + (it.noteColor || "#a04000") + ';">' + esc(it.note) + "</span>";
    }
    var place = it.side === "right"
      ? "transform:translate(" + (it.dx || 14) + "px,-50%);"
      : it.side === "left"
        ? "transform:translate(calc(-100% - " + (it.dx || 14) + "px),-50%);text-align:right;"
        : "transform:translate(-50%,-50%) rotate(" + (it.angle || 0) + "deg);text-align:center;";
    return '<span class="gs-bl-text" style="position:absolute;left:0;top:' + (it.dy || 0) + "px;white-space:nowrap;" + HALO + font + place + '">' + body + "</span>";
  };

  /* boxes of what lies over the map (controls, legend, notice, anything marked data-gs-obstacle):
     no label is drawn under them */
  Manager.prototype.panels = function () {
    var c = this.map.getContainer().getBoundingClientRect();
    var out = [];
    document.querySelectorAll(OBSTACLES).forEach(function (el) {
      var r = el.getBoundingClientRect();
      if (!r.width || !r.height || r.right < c.left || r.left > c.right || r.bottom < c.top || r.top > c.bottom) return;
      out.push({ cx: (r.left + r.right) / 2 - c.left, cy: (r.top + r.bottom) / 2 - c.top, hw: r.width / 2, hh: r.height / 2, a: 0 });
    });
    return out;
  };

  /* inside the map and clear of every label drawn; the same name again close by (a town and its
     district, two carriageways) is not shown twice */
  Manager.prototype.fits = function (b, text, placed, size) {
    var ex = Math.abs(Math.cos(b.a)) * b.hw + Math.abs(Math.sin(b.a)) * b.hh;
    var ey = Math.abs(Math.sin(b.a)) * b.hw + Math.abs(Math.cos(b.a)) * b.hh;
    if (b.cx - ex < 0 || b.cx + ex > size.x || b.cy - ey < 0 || b.cy + ey > size.y) return false;
    for (var j = 0; j < placed.length; j++) {
      var o = placed[j];
      if (overlaps(b, o) || (o.text === text && Math.abs(o.cx - b.cx) + Math.abs(o.cy - b.cy) < SAME_NAME_PX)) return false;
    }
    return true;
  };

  Manager.prototype.draw = function () {
    var map = this.map;
    if (!map._loaded) return;
    this.layer.clearLayers();
    var z = map.getZoom();
    var view = map.getBounds().pad(0.1);
    var size = map.getSize();
    var cands = [];
    for (var i = 0; i < this.items.length; i++) {
      var it = this.items[i];
      if (z < (it.minzoom || 0) || (it.maxzoom != null && z > it.maxzoom)) continue;
      if (it.group && window[it.group] && !map.hasLayer(window[it.group])) continue; /* its layer is switched off */
      if (!view.contains(it.latlng)) continue;
      cands.push(it);
    }
    cands.sort(function (p, q) { return (p.rank - q.rank) || (p.order - q.order); });
    var placed = this.panels();
    var shown = 0;
    for (var k = 0; k < cands.length; k++) {
      var c = cands[k];
      var text = c.cls === "obstacle" ? "" : pick(c, this.lang);
      if (c.cls !== "obstacle" && !text) continue;
      var pt = map.latLngToContainerPoint(c.latlng);
      var b = this.box(c, pt, text);
      if (c.cls === "obstacle") {
        placed.push(b);
        continue;
      }
      if (!this.fits(b, text, placed, size) && c.side === "right") {
        c = Object.assign({}, c, { side: "left" }); /* a name beside a marker may go to its left */
        b = this.box(c, pt, text);
      }
      if (!this.fits(b, text, placed, size)) continue;
      b.text = text;
      placed.push(b);
      shown++;
      L.marker(c.latlng, {
        pane: PANE,
        interactive: false,
        keyboard: false,
        icon: L.divIcon({ className: "gs-bl gs-bl-" + c.cls, html: this.html(c, text), iconSize: [0, 0], iconAnchor: [0, 0] }),
      }).addTo(this.layer);
    }
    this.shown = shown;
    map.getContainer().setAttribute("data-gs-labels", String(shown));
  };

  function manager(map, opts) {
    if (!map._gsLabels) map._gsLabels = new Manager(map, opts);
    else if (opts && opts.lang) map._gsLabels.lang = opts.lang;
    return map._gsLabels;
  }

  function fromFeature(f, group) {
    var p = f.properties || {};
    var c = f.geometry.coordinates;
    return {
      latlng: L.latLng(c[1], c[0]),
      cls: p.class || "place",
      sub: p.sub || "",
      name: p.name,
      name_zh: p.name_zh,
      name_en: p.name_en,
      minzoom: p.minzoom || 0,
      maxzoom: p.maxzoom,
      rank: p.rank == null ? 50 : p.rank,
      angle: p.angle || 0,
      note: p.note,
      group: group,
    };
  }

  /* a point well inside a polygon: the middle of the widest inside run of a few horizontal scan lines */
  function insidePoint(rings) {
    var outer = rings[0], y0 = Infinity, y1 = -Infinity;
    for (var i = 0; i < outer.length; i++) { y0 = Math.min(y0, outer[i][1]); y1 = Math.max(y1, outer[i][1]); }
    var best = null, bestW = -1;
    for (var s = 1; s <= 9; s++) {
      var y = y0 + ((y1 - y0) * s) / 10, xs = [];
      rings.forEach(function (r) {
        for (var k = 0, n = r.length; k < n; k++) {
          var a = r[k], b = r[(k + 1) % n];
          if ((a[1] > y) !== (b[1] > y)) xs.push(a[0] + ((y - a[1]) * (b[0] - a[0])) / (b[1] - a[1]));
        }
      });
      xs.sort(function (p, q) { return p - q; });
      for (var m = 0; m + 1 < xs.length; m += 2) {
        var w = (xs[m + 1] - xs[m]) * (1 - Math.abs(s - 5) / 10); /* prefer runs near the middle */
        if (w > bestW) { bestW = w; best = [(xs[m] + xs[m + 1]) / 2, y]; }
      }
    }
    return best;
  }

  function ringArea(r) {
    var a = 0;
    for (var i = 0, n = r.length; i < n; i++) { var p = r[i], q = r[(i + 1) % n]; a += p[0] * q[1] - q[0] * p[1]; }
    return Math.abs(a / 2);
  }

  window.BasemapLabels = {
    add: function (map, fc, opts) {
      var m = manager(map, opts);
      var keep = [], items = [];
      (fc.features || []).forEach(function (f) {
        if ((f.properties || {}).kind === "label" && f.geometry && f.geometry.type === "Point") items.push(fromFeature(f, opts && opts.group));
        else keep.push(f);
      });
      fc.features = keep;
      m.push(items);
      return m;
    },
    addAreas: function (map, fc, opts) {
      var o = opts || {};
      var m = manager(map, opts);
      var items = [];
      (fc.features || []).forEach(function (f) {
        var g = f.geometry, p = f.properties || {};
        if (!g || !p.name) return;
        var pt = null;
        if (p.label_lon != null && p.label_lat != null) pt = [p.label_lon, p.label_lat];
        else {
          var polys = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
          var big = null;
          polys.forEach(function (q) { if (!big || ringArea(q[0]) > ringArea(big[0])) big = q; });
          if (big) pt = insidePoint(big);
        }
        if (!pt) return;
        items.push({
          latlng: L.latLng(pt[1], pt[0]), cls: "admin", sub: "", name: p.name, name_zh: p.name_zh || p["name:zh"],
          name_en: p.name_en || p["name:en"], minzoom: o.minzoom == null ? 9 : o.minzoom, maxzoom: o.maxzoom == null ? 16 : o.maxzoom,
          rank: o.rank == null ? 12 : o.rank, angle: 0, group: o.group,
        });
      });
      m.push(items);
      return m;
    },
    /* items: {lat, lon, name[, name_zh, name_en], note, side:"right", dx, dy, minzoom, rank}
       or obstacles {lat, lon, obstacle:[w, h]} (a marker's box that labels keep clear of) */
    addPoints: function (map, items, opts) {
      var m = manager(map, opts);
      m.push(items.map(function (it) {
        var o = {
          latlng: L.latLng(it.lat, it.lon), cls: it.obstacle ? "obstacle" : it.cls || "facility", sub: it.sub || "",
          name: it.name, name_zh: it.name_zh, name_en: it.name_en, note: it.note, noteColor: it.noteColor,
          minzoom: it.minzoom || 0, maxzoom: it.maxzoom, rank: it.rank == null ? (it.obstacle ? -10 : 0) : it.rank,
          side: it.side, dx: it.dx, dy: it.dy, angle: 0, group: it.group,
        };
        if (it.obstacle) { o.w = it.obstacle[0]; o.h = it.obstacle[1]; }
        return o;
      }));
      return m;
    },
    setLang: function (map, lang) {
      var m = manager(map);
      m.lang = lang;
      m.draw();
    },
    localizeControls: function (lang, maps) {
      var zh = lang === "zh";
      L.Control.Scale.prototype.options.imperial = false; /* metric only: the maps are for China */
      L.Control.Scale.prototype._updateMetric = zh ? METRIC_ZH : METRIC_EN;
      L.Control.Zoom.prototype.options.zoomInTitle = zh ? "放大" : "Zoom in";
      L.Control.Zoom.prototype.options.zoomOutTitle = zh ? "缩小" : "Zoom out";
      (maps || []).forEach(function (m) { /* maps already drawn: relabel their controls now */
        if (m.zoomControl) {
          m.zoomControl._zoomInButton.title = L.Control.Zoom.prototype.options.zoomInTitle;
          m.zoomControl._zoomOutButton.title = L.Control.Zoom.prototype.options.zoomOutTitle;
        }
        if (m._loaded) m.fire("move"); /* a map without a view yet has nothing to relabel */
      });
    },
  };
})();
