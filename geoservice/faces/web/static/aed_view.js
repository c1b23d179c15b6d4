/* The public AEDs of the map view, one loader for the citizen and planner pages. A province has tens
   of thousands and GET /layers has no cap, so only the view padded by `view.pad` of its size each way
   is asked for (GET /layers/aed?bbox=), again only when the map leaves the box loaded or being loaded,
   each answer replacing what was drawn. Past `view.max` nothing is drawn (a phone cannot draw 50,000
   markers, nor anyone read them): a box expected to hold more (the regions' AED counts spread evenly
   over their boxes, or the density of the last box found too dense) is not asked for, an answer
   holding more is not drawn, and the page is told to say "zoom in". Needs common.js (GS) and Leaflet. */
"use strict";
(function () {
  const area = (b) => Math.max(0, b.getEast() - b.getWest()) * Math.max(0, b.getNorth() - b.getSouth());
  // the area two boxes share: 0 when they do not meet (a LatLngBounds of the two inner corners would
  // swap them, and count the gap between the boxes as shared)
  const shared = (a, b) => Math.max(0, Math.min(a.getEast(), b.getEast()) - Math.max(a.getWest(), b.getWest()))
    * Math.max(0, Math.min(a.getNorth(), b.getNorth()) - Math.max(a.getSouth(), b.getSouth()));
  const boxOf = ([x0, y0, x1, y1]) => L.latLngBounds([y0, x0], [y1, x1]);

  /* What the page decides:
       view      {pad, max}, read at every refresh (a test may lower max)
       layer()   the layer group drawn into; nothing is asked while it is off the map
       regions() [{bbox: [x0, y0, x1, y1], n}]: the AED counts the estimate starts from
       params()  the request's own parameters ({region} on the planner, {at} on the citizen page)
       marker(f) the marker of one AED feature
       onNote(note)  null, or {kind: "zoom", n: AEDs of the regions in the box} before asking, or
                     {kind: "many", n: AEDs in the answer}; called when it is set or cleared
       onError(e)    a request failed (optional; the box is asked again at the next move)
     Returns {refresh, reset}: refresh on every moveend (and when the layer is switched on), reset when
     the page drops what it drew (another region). body[data-aed-box] is the bbox of the last answer. */
  GS.aedView = function (map, opts) {
    let loaded = null;    // the box drawn: a view inside it needs nothing
    let pending = null;   // the box asked for, answer not in yet
    let seq = 0;          // answers to older requests are dropped
    let dense = null;     // the last box answered with too many: {box, per: AEDs per square degree}
    let note = null;

    const setNote = (n) => { if (n || note) { note = n; opts.onNote(n); } };

    /* The AEDs of the regions the box touches, and how many the box may hold: their counts spread
       evenly over their boxes, or the density of the last crowded box where they overlap (a city is
       denser than its region's average). */
    function estimate(box) {
      let n = 0, guess = 0;
      for (const r of opts.regions()) {
        if (!r.n) continue;
        const whole = boxOf(r.bbox);
        if (!whole.intersects(box)) continue;
        n += r.n;
        guess += (r.n * shared(box, whole)) / Math.max(area(whole), 1e-12);
      }
      if (dense) guess = Math.max(guess, dense.per * shared(box, dense.box));
      return { n, guess };
    }

    function refresh() {
      const layer = opts.layer();
      if (!layer || !map.hasLayer(layer)) return;
      const view = map.getBounds();
      if ((loaded && loaded.contains(view)) || (pending && pending.contains(view))) return;
      const box = view.pad(opts.view.pad), max = opts.view.max;
      const { n, guess } = estimate(box);
      if (!n) return;   // no region with AEDs here: nothing to ask
      const s = ++seq;
      loaded = null; pending = null;
      if (n > max && guess > max) {
        layer.clearLayers();
        setNote({ kind: "zoom", n });
        return;
      }
      pending = box;
      const bbox = [box.getWest(), box.getSouth(), box.getEast(), box.getNorth()].map((v) => v.toFixed(5)).join(",");
      GS.json(GS.url("/layers/aed", Object.assign({}, opts.params(), { bbox }))).then((fc) => {
        if (s !== seq) return;   // another view or region was asked for meanwhile
        pending = null;
        layer.clearLayers();
        const k = fc.features.length;
        if (k > opts.view.max) {
          dense = { box, per: k / Math.max(area(box), 1e-12) };
          setNote({ kind: "many", n: k });
        } else {
          for (const f of fc.features) opts.marker(f).addTo(layer);
          loaded = box;
          setNote(null);
        }
        document.body.dataset.aedBox = bbox;
      }).catch((e) => {
        if (s !== seq) return;
        pending = null;
        if (opts.onError) opts.onError(e);
      });
    }

    function reset() {
      seq++;
      loaded = pending = dense = note = null;
      delete document.body.dataset.aedBox;
    }

    return { refresh, reset };
  };
})();
