/* flowdash: charts load Plotly's basic bundle (scatter and bar, a quarter of the full one),
   on demand and in parallel with the first numbers. Dash's graph loader fetches the file named
   by window._dashPlotlyJSURL when the first chart mounts; Dash sets that to the full bundle, so
   the name is pinned here (writes are ignored). The bundle itself is in this folder and is
   excluded from the page's blocking scripts (assets_ignore in callbacks/dashboard_app.py). */
(function () {
  var url = document.currentScript.src.replace(/plotly-basic-loader\.js.*$/, "plotly-basic-4.1.1.min.js?v=4.1.1");
  Object.defineProperty(window, "_dashPlotlyJSURL", {
    get: function () { return url; },
    set: function () {},
    configurable: true,
  });
})();
