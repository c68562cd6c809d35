// Old anchors keep landing. A post may claim no id of its own (kb's are "h-" and "fn-"), so
// the ids a heading had under Jekyll, Hugo or GitHub, and an author's <a name="…">, are kept
// as data-anchor marks. When the address names one of them (…/post/#old-id), scroll to it.
(function () {
  "use strict";

  function land() {
    var name;
    try {
      name = decodeURIComponent(window.location.hash.slice(1));
    } catch (error) {
      return;
    }
    if (!name || document.getElementById(name)) {
      return;
    }
    var selector = '[data-anchor="' + name.replace(/["\\]/g, "\\$&") + '"]';
    var mark = document.querySelector(selector);
    if (mark) {
      mark.scrollIntoView();
    }
  }

  window.addEventListener("hashchange", land);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", land);
  } else {
    land();
  }
})();
