/* The region's vector tiles (GET /regions/{name}/tiles/{z}/{x}/{y}.mvt, layers of
   geoservice/bundle/tile_layers.py) drawn on Leaflet canvases by the vendored protomaps-leaflet
   (protomaps-leaflet.js, BSD-3-Clause): water blue, green areas, grey buildings, roads by class,
   boundaries, and labels (places, landmarks, road names) placed without collisions, in Chinese on
   zh pages and in English (name_en, else name) on en pages. Nothing is fetched but the tiles.

   Use:
     BasemapTiles.add(map, regionName, tilejson, lang)   the layer, in the map's tile pane
     BasemapTiles.setLang(map, lang)                     labels in the other language */
(function () {
  "use strict";

  var FAMILY = "system-ui,'Noto Sans CJK SC','Noto Sans SC','Microsoft YaHei','PingFang SC',sans-serif";
  var LAND = "#f4f1ea";
  /* [fill colour, casing colour, width at data zoom 14 (screen 15) in px] */
  var ROADS = {
    motorway: ["#e8925a", "#b86a3a", 7], trunk: ["#f0a868", "#bd7b45", 6.5], primary: ["#f7c77e", "#c79a52", 6],
    secondary: ["#fbe3a4", "#c9b07a", 5], tertiary: ["#ffffff", "#bdb6a8", 4.5], unclassified: ["#ffffff", "#c8c2b6", 3.5],
    residential: ["#ffffff", "#c8c2b6", 3.5], living_street: ["#ffffff", "#c8c2b6", 3], road: ["#ffffff", "#c8c2b6", 3],
    service: ["#ffffff", "#d0cbc0", 2.2],
  };
  var GREEN = { park: "#c5e3b0", forest: "#acd39a", grass: "#d3ebc2" };
  var KIND_COLOUR = {
    station: "#1d5fa8", airport: "#1d5fa8", hospital: "#b3261e", park: "#2f6b2f", school: "#6b4b1f",
    mall: "#7a3d8a", sight: "#8a4b12", square: "#3e4452", government: "#3e4452",
  };
  var PLACE_SIZE = { city: 17, town: 15, borough: 14, suburb: 13.5, quarter: 13, village: 13, neighbourhood: 12 };

  function cls(f) { return String((f.props && f.props["class"]) || "").replace("_link", ""); }
  function road(f) { return ROADS[cls(f)] || ROADS.service; }
  /* a width at display zoom z: full at 15, halving every two zooms below, growing above */
  function width(px, z) { return Math.max(0.5, px * Math.pow(2, (z - 15) / 2)); }
  function labelProps(lang) { return lang === "en" ? ["name_en", "name"] : ["name"]; }

  function paintRules(P) {
    var roadCasing = {   /* from zoom 12: below it the roads are thin and a second pass only costs paint time */
      dataLayer: "roads",
      minzoom: 12,
      symbolizer: new P.LineSymbolizer({
        color: function (z, f) { return road(f)[1]; },
        width: function (z, f) { return width(road(f)[2], z) + (z >= 13 ? 1.5 : 0.6); },
        lineCap: "round", lineJoin: "round",
      }),
    };
    var roadFill = {
      dataLayer: "roads",
      symbolizer: new P.LineSymbolizer({
        color: function (z, f) { return road(f)[0]; },
        width: function (z, f) { return width(road(f)[2], z); },
        lineCap: "round", lineJoin: "round",
      }),
    };
    return [
      { dataLayer: "green", symbolizer: new P.PolygonSymbolizer({ fill: function (z, f) { return GREEN[cls(f)] || GREEN.park; } }) },
      { dataLayer: "water", symbolizer: new P.PolygonSymbolizer({ fill: "#a9cbe8", stroke: "#7fb0dc", width: 0.6 }) },
      {
        dataLayer: "waterway",
        symbolizer: new P.LineSymbolizer({
          color: "#7fb0dc",
          width: function (z, f) { return width(cls(f) === "river" ? 5 : cls(f) === "canal" ? 3 : 1.6, z); },
        }),
      },
      { dataLayer: "buildings", symbolizer: new P.PolygonSymbolizer({ fill: "#dedad2", stroke: "#c9c3b8", width: 0.6, opacity: 0.9 }) },
      {
        dataLayer: "admin",
        symbolizer: new P.LineSymbolizer({ color: "#8e6c8a", width: 1.2, dash: [6, 3, 2, 3], opacity: 0.8 }),
      },
      roadCasing,
      roadFill,
    ];
  }

  function labelRules(P, lang) {
    var props = labelProps(lang);
    return [
      {
        dataLayer: "places",
        symbolizer: new P.CenteredTextSymbolizer({
          labelProps: props,
          fill: function (z, f) { return KIND_COLOUR[f.props.kind] || "#1f2430"; },
          stroke: "#ffffff", width: 2.2,
          fontFamily: FAMILY,
          fontWeight: function (z, f) { return KIND_COLOUR[f.props.kind] ? 600 : 700; },
          fontSize: function (z, f) { return PLACE_SIZE[f.props.kind] || 12; },
          maxLineChars: 14,
        }),
        sort: function (a, b) { return (a.rank || 99) - (b.rank || 99); },
      },
      {
        dataLayer: "roads",
        symbolizer: new P.LineLabelSymbolizer({
          labelProps: props,
          fill: "#4a4238", stroke: "#ffffff", width: 2.5,
          fontFamily: FAMILY, fontWeight: 500,
          fontSize: function (z, f) { return ["motorway", "trunk", "primary"].indexOf(cls(f)) >= 0 ? 12 : 11; },
        }),
        /* road names from zoom 12 (major roads) to 16 (all): at lower zooms they would only crowd
           the map and cost layout time on every pan */
        minzoom: 12,
        filter: function (z, f) {
          var c = cls(f);
          return z >= 16 || ["motorway", "trunk", "primary"].indexOf(c) >= 0 || (z >= 13 && c === "secondary") ||
            (z >= 14 && c === "tertiary");
        },
        sort: function (a, b) { return Object.keys(ROADS).indexOf(a["class"]) - Object.keys(ROADS).indexOf(b["class"]); },
      },
    ];
  }

  function make(region, tj, lang) {
    var P = window.protomapsL;
    var b = tj.bounds;
    return P.leafletLayer({
      url: "/regions/" + encodeURIComponent(region) + "/tiles/{z}/{x}/{y}.mvt",
      maxDataZoom: tj.maxzoom,
      maxZoom: 20,
      bounds: [[b[1], b[0]], [b[3], b[2]]],
      paintRules: paintRules(P),
      labelRules: labelRules(P, lang),
      attribution: "",   /* the map's own attribution says © OpenStreetMap contributors, ODbL */
    });
  }

  function add(map, region, tj, lang) {
    map.getContainer().style.background = LAND;   /* land colour under and around the tiles */
    var layer = make(region, tj, lang).addTo(map);
    map.gsTiles = map.gsTiles || [];
    map.gsTiles.push({ layer: layer, region: region, tj: tj, lang: lang });
    return layer;
  }

  function setLang(map, lang) {
    (map.gsTiles || []).forEach(function (t) {
      if (t.lang === lang) return;
      map.removeLayer(t.layer);
      t.layer = make(t.region, t.tj, lang).addTo(map);
      t.lang = lang;
    });
  }

  window.BasemapTiles = { add: add, setLang: setLang };
})();
