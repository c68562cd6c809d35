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
})();
