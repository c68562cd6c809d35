// The light/dark toggle in the header. The button ships hidden so readers without JavaScript
// never see a control that does nothing; their theme follows the system preference.
(function () {
  "use strict";

  var STORAGE_KEY = "kb-theme"; // read before first paint by theme-init.js
  var root = document.documentElement;
  var systemDark = window.matchMedia("(prefers-color-scheme: dark)");

  function activeTheme() {
    return root.getAttribute("data-theme") || (systemDark.matches ? "dark" : "light");
  }

  // The icon (styled from <html>'s data-theme) and the button's name both say which theme
  // is on, and the name also says what pressing it does.
  function showState(button) {
    var dark = activeTheme() === "dark";
    var label = button.querySelector(".theme-toggle-label");
    var text = dark ? "Dark theme is on: switch to light" : "Light theme is on: switch to dark";
    if (label) {
      label.textContent = text;
    }
    button.title = text;
  }

  function setUp() {
    var button = document.querySelector(".theme-toggle");
    if (!button) {
      return;
    }
    showState(button);
    button.hidden = false;
    button.addEventListener("click", function () {
      var chosen = activeTheme() === "dark" ? "light" : "dark";
      root.setAttribute("data-theme", chosen);
      try {
        window.localStorage.setItem(STORAGE_KEY, chosen);
      } catch (blocked) {
        // Without storage the choice lasts for this page only.
      }
      showState(button);
    });
    // Until the reader chooses, the button mirrors the system setting as it changes.
    systemDark.addEventListener("change", function () {
      showState(button);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
