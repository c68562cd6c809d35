// Loaded as a blocking <script src> in <head>, before the stylesheet, so a reader's saved choice
// is on <html> before the first paint and the other theme never flashes. With no saved choice
// nothing is set and the stylesheet follows prefers-color-scheme.
(function () {
  "use strict";
  try {
    var saved = window.localStorage.getItem("kb-theme");
    if (saved === "light" || saved === "dark") {
      document.documentElement.setAttribute("data-theme", saved);
    }
  } catch (blocked) {
    // Storage can be disabled; the system preference still applies.
  }
  // The home page's listing view (?view=compact or ?view=full) is remembered the same way,
  // before the first paint: a reader who chose compact is taken to it from a plain "/".
  try {
    var params = new URLSearchParams(window.location.search);
    var view = params.get("view");
    if (window.location.pathname === "/") {
      if (view === "compact" || view === "full") {
        window.localStorage.setItem("kb-view", view);
      } else if (!view && window.localStorage.getItem("kb-view") === "compact") {
        params.set("view", "compact");
        window.location.replace("/?" + params.toString());
      }
    }
  } catch (blocked) {
    // Without storage the listing is shown in full unless the address says otherwise.
  }
})();
