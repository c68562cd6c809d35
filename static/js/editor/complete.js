/*
 * `[[` completion: after `[[` and a letter or two, a list of posts whose address starts so,
 * or whose title has words starting with those typed ("[[diff mod"), drafts marked, opens
 * under the caret; the arrow keys choose, Enter or Tab inserts `[[slug|Title]]`, Escape
 * closes. The list comes from a staff-only JSON endpoint, which ranks it.
 */
(function () {
  "use strict";

  var OPEN = /\[\[([^\[\]|#\n]{1,80})$/;
  var DELAY_MS = 80;

  window.kbEditor.ready(function (editor) {
    var textarea = editor.textarea;
    var list = editor.root.querySelector(".kb-complete");
    var url = editor.root.dataset.completeUrl;
    var postId = (window.location.pathname.match(/\/(\d+)\/change\/$/) || [])[1] || "";
    var results = [];
    var active = -1;
    var from = -1;
    var timer = null;
    var asked = 0;

    function close() {
      list.hidden = true;
      list.textContent = "";
      results = [];
      active = -1;
      textarea.removeAttribute("aria-activedescendant");
    }

    function choose(index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (item, i) {
        item.setAttribute("aria-selected", String(i === index));
      });
      if (index >= 0) {
        textarea.setAttribute("aria-activedescendant", "kb-complete-" + index);
      }
    }

    function insert(result) {
      var end = textarea.selectionStart;
      var after = textarea.value.slice(end, end + 2) === "]]" ? 2 : 0;
      var link = "[[" + result.slug + "|" + result.title + "]]";
      close();
      editor.insert(from, end + after, link);
    }

    function open(found, start) {
      results = found;
      from = start;
      list.textContent = "";
      if (!found.length) {
        close();
        return;
      }
      found.forEach(function (result, i) {
        var item = document.createElement("li");
        item.id = "kb-complete-" + i;
        item.setAttribute("role", "option");
        item.appendChild(document.createTextNode(result.title + " "));
        var slug = document.createElement("span");
        slug.className = "kb-complete-slug";
        slug.textContent = result.slug + (result.draft ? " · draft" : "");
        item.appendChild(slug);
        item.addEventListener("mousedown", function (event) {
          event.preventDefault();
          insert(result);
        });
        list.appendChild(item);
      });
      var spot = editor.positions([start])[0];
      list.style.top = spot.top - textarea.scrollTop + spot.height + 4 + "px";
      list.style.left = Math.min(spot.left, textarea.clientWidth - 260) + "px";
      list.hidden = false;
      choose(0);
    }

    function ask() {
      var before = textarea.value.slice(Math.max(textarea.selectionStart - 100, 0), textarea.selectionStart);
      var match = OPEN.exec(before);
      if (!match || textarea.selectionStart !== textarea.selectionEnd) {
        close();
        return;
      }
      var start = textarea.selectionStart - match[0].length;
      var number = ++asked;
      var query = "?q=" + encodeURIComponent(match[1]) + "&exclude=" + postId;
      fetch(url + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.ok ? response.json() : { results: [] };
        })
        .then(function (data) {
          if (number === asked) {
            open(data.results || [], start);
          }
        })
        .catch(close);
    }

    editor.completing = function () {
      return !list.hidden;
    };

    textarea.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, DELAY_MS);
    });
    textarea.addEventListener("blur", close);
    textarea.addEventListener("keydown", function (event) {
      if (list.hidden) {
        return;
      }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        var step = event.key === "ArrowDown" ? 1 : -1;
        choose((active + step + results.length) % results.length);
      } else if ((event.key === "Enter" || event.key === "Tab") && active >= 0) {
        insert(results[active]);
      } else if (event.key === "Escape") {
        close();
      } else {
        return;
      }
      event.preventDefault();
    });
  });
})();
