// Adds a "Copy" button to each highlighted code block.
// Stored post HTML stays free of buttons: they only exist where this script
// runs, and the code is still selectable by hand where it doesn't. Load it
// with <script src=".../copy-code.js" defer>; it needs no inline script, so it
// works under a Content-Security-Policy of script-src 'self'.
(function () {
  "use strict";

  var RESET_AFTER_MS = 2000;

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain-http pages (local development) have no async clipboard API.
    return new Promise(function (resolve, reject) {
      var scratch = document.createElement("textarea");
      scratch.value = text;
      scratch.setAttribute("readonly", "");
      scratch.style.position = "fixed";
      scratch.style.opacity = "0";
      document.body.appendChild(scratch);
      scratch.select();
      var copied = document.execCommand("copy");
      document.body.removeChild(scratch);
      if (copied) {
        resolve();
      } else {
        reject(new Error("copy refused"));
      }
    });
  }

  function showState(button, label) {
    button.textContent = label;
    window.clearTimeout(button._copyReset);
    button._copyReset = window.setTimeout(function () {
      button.textContent = "Copy";
    }, RESET_AFTER_MS);
  }

  function addButton(pre) {
    var code = pre.querySelector("code");
    if (!code || pre.querySelector(".copy-code")) {
      return;
    }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy-code";
    button.textContent = "Copy";
    var language = pre.getAttribute("data-lang");
    button.setAttribute(
      "aria-label",
      language ? "Copy " + language + " code" : "Copy code"
    );
    button.addEventListener("click", function () {
      copyText(code.textContent).then(
        function () {
          showState(button, "Copied");
        },
        function () {
          showState(button, "Press Ctrl+C");
          var range = document.createRange();
          range.selectNodeContents(code);
          var selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
        }
      );
    });
    pre.classList.add("has-copy-button");
    pre.insertBefore(button, pre.firstChild);
  }

  function enhance() {
    var blocks = document.querySelectorAll("pre.highlight");
    for (var i = 0; i < blocks.length; i++) {
      addButton(blocks[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhance);
  } else {
    enhance();
  }
})();
