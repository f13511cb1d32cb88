/*
 * Chart.js (bot/static/vendor/, MIT, vendored unchanged), fetched only when a supervisor opens Insight: agents
 * and trainers never download it. It is added as the classic script its UMD build is, which sets
 * window.Chart; a load that failed is tried again the next time charts are drawn.
 */

var CHART_JS = new URL("../../vendor/chart.umd.min.js", import.meta.url).href;

var loading = null;

/** A promise of the Chart constructor. */
export function loadChartLibrary() {
  if (typeof window.Chart === "function") {
    return Promise.resolve(window.Chart);
  }
  if (!loading) {
    loading = new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = CHART_JS;
      script.addEventListener("load", function () {
        if (typeof window.Chart === "function") {
          resolve(window.Chart);
        } else {
          reject(new Error("Chart.js loaded but defined no Chart."));
        }
      });
      script.addEventListener("error", function () {
        script.remove();
        reject(new Error("Chart.js could not be loaded."));
      });
      document.head.appendChild(script);
    }).catch(function (error) {
      loading = null;
      throw error;
    });
  }
  return loading;
}
