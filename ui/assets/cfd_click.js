/* Cumulative flow (ui/flow_analytics.py, graph "fa-cfd"): a click names the band under the
   pointer. The chart's unified hover hands every band of the day to a click, so only the
   pointer's height tells which band was meant: it is read here, against the stacked counts
   (traces stacked in data order, the first at the bottom), and written to the store
   "fa-cfd-pick" as {band, day, at}; callbacks/flow_analytics.py does the rest. */
(function () {
  "use strict";

  function bandAt(gd, points, value) {
    var index = points[0].pointNumber;
    var top = 0;
    var last = null;
    for (var i = 0; i < gd.data.length; i++) {
      var trace = gd.data[i];
      if (trace.visible === "legendonly" || trace.visible === false) continue;
      top += Number(trace.y[index]) || 0;
      last = trace.name;
      if (value <= top) return trace.name;
    }
    return last;
  }

  function attach(gd) {
    if (gd.__flowdashCfdClick || typeof gd.on !== "function") return;
    gd.__flowdashCfdClick = true;
    gd.on("plotly_click", function (event) {
      var points = (event && event.points) || [];
      if (!points.length || !event.event || !gd._fullLayout) return;
      var layout = gd._fullLayout;
      var box = gd.getBoundingClientRect();
      var value = layout.yaxis.p2l(event.event.clientY - box.top - layout._size.t);
      var band = bandAt(gd, points, value);
      if (band === null || !window.dash_clientside) return;
      window.dash_clientside.set_props("fa-cfd-pick", {
        data: { band: band, day: String(points[0].x).slice(0, 10), at: Date.now() },
      });
    });
  }

  function scan() {
    var gd = document.querySelector("#fa-cfd .js-plotly-plot");
    if (gd) attach(gd);
  }

  new MutationObserver(scan).observe(document.documentElement, { childList: true, subtree: true });
})();
