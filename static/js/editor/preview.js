/*
 * The live preview: the body rendered by the server's own pipeline (markdownx's preview
 * endpoint), shown in a frame that loads the public site's stylesheets, so the author sees
 * what readers will. Requests are debounced and only the newest answer is shown. The frame
 * scrolls with the source: headings are matched in order, and positions between two
 * headings are interpolated.
 */
(function () {
  "use strict";

  var DELAY_MS = 150;
  var FENCE = /^(\s{0,3})(`{3,}|~{3,})/;
  var HEADING = /^ {0,3}#{1,6}(\s|$)/;

  // Offsets of the lines that start a heading, outside fenced code and display math.
  function headingOffsets(text) {
    var offsets = [];
    var fence = null;
    var inMath = false;
    var offset = 0;
    text.split("\n").forEach(function (line) {
      var match = FENCE.exec(line);
      if (fence) {
        if (match && match[2].charAt(0) === fence.charAt(0) && match[2].length >= fence.length) {
          fence = null;
        }
      } else if (match) {
        fence = match[2];
      } else if (line.trim() === "$$") {
        inMath = !inMath;
      } else if (!inMath && HEADING.test(line)) {
        offsets.push(offset);
      }
      offset += line.length + 1;
    });
    return offsets;
  }

  function markup(node) {
    return node.nodeType === 1 ? node.outerHTML : node.nodeType + ":" + node.nodeValue;
  }

  // Replace only the blocks that changed (those between the unchanged ones at the start and
  // at the end): after a keystroke the browser lays out one paragraph again, not the post.
  function patch(target, html) {
    var fresh = target.ownerDocument.createElement("template");
    fresh.innerHTML = html;
    var next = Array.prototype.slice.call(fresh.content.childNodes);
    var old = Array.prototype.slice.call(target.childNodes);
    var known = next.map(markup);
    var same = function (oldNode, i) {
      return oldNode.kbMarkup === known[i];
    };
    var start = 0;
    while (start < old.length && start < next.length && same(old[start], start)) {
      start++;
    }
    var endOld = old.length - 1;
    var endNew = next.length - 1;
    while (endOld >= start && endNew >= start && same(old[endOld], endNew)) {
      endOld--;
      endNew--;
    }
    var before = old[endOld + 1] || null;
    for (var i = start; i <= endOld; i++) {
      target.removeChild(old[i]);
    }
    for (var j = start; j <= endNew; j++) {
      next[j].kbMarkup = known[j];
      target.insertBefore(next[j], before);
    }
  }

  window.kbEditor.ready(function (editor) {
    var textarea = editor.textarea;
    var frame = editor.frame;
    var url = editor.root.dataset.previewUrl;
    var timer = null;
    var sent = 0;
    var shown = 0;
    var controller = null;
    var anchors = null; // [[sourceTop, previewTop], ...], measured after each render

    function frameDocument() {
      try {
        return frame.contentDocument;
      } catch (error) {
        return null;
      }
    }

    function body() {
      var doc = frameDocument();
      return doc && doc.getElementById("preview-body");
    }

    function measure() {
      var doc = frameDocument();
      var target = body();
      if (!doc || !target) {
        anchors = null;
        return;
      }
      var offsets = headingOffsets(textarea.value);
      var sources = editor.positions(offsets);
      var headings = target.querySelectorAll("h1, h2, h3, h4, h5, h6");
      var scroller = doc.scrollingElement;
      var count = Math.min(sources.length, headings.length);
      var pairs = [[0, 0]];
      for (var i = 0; i < count; i++) {
        var top = headings[i].getBoundingClientRect().top + scroller.scrollTop;
        pairs.push([sources[i].top, Math.max(0, top - 8)]);
      }
      pairs.push([
        Math.max(textarea.scrollHeight - textarea.clientHeight, 1),
        Math.max(scroller.scrollHeight - scroller.clientHeight, 0),
      ]);
      anchors = pairs;
    }

    function follow() {
      var doc = frameDocument();
      if (!doc) {
        return;
      }
      if (!anchors) {
        measure();
      }
      if (!anchors) {
        return;
      }
      var at = textarea.scrollTop;
      var i = 0;
      while (i < anchors.length - 2 && anchors[i + 1][0] <= at) {
        i++;
      }
      var a = anchors[i];
      var b = anchors[i + 1];
      var share = b[0] > a[0] ? (at - a[0]) / (b[0] - a[0]) : 0;
      share = Math.min(Math.max(share, 0), 1);
      doc.scrollingElement.scrollTop = a[1] + share * (b[1] - a[1]);
    }

    // Links in the preview open in a new tab (or scroll, for this page's headings), so the
    // frame always stays the preview. The frame runs no script of its own (sandbox).
    function keepLinks() {
      var doc = frameDocument();
      if (!doc || doc.kbLinksKept) {
        return;
      }
      doc.kbLinksKept = true;
      // The reader's theme, as the site's theme-init.js would set it (the frame runs no script).
      try {
        var theme = window.localStorage.getItem("kb-theme");
        if (theme === "light" || theme === "dark") {
          doc.documentElement.setAttribute("data-theme", theme);
        }
      } catch (error) {
        // Storage disabled: the frame follows the system's preference.
      }
      doc.addEventListener("click", function (event) {
        var link = event.target.closest && event.target.closest("a[href]");
        if (!link) {
          return;
        }
        event.preventDefault();
        var href = link.getAttribute("href");
        if (href.charAt(0) === "#") {
          var target = doc.getElementById(decodeURIComponent(href.slice(1)));
          if (target) {
            target.scrollIntoView();
          }
        } else if (/^(https?:|\/)/i.test(href)) {
          window.open(link.href, "_blank", "noopener");
        }
      });
    }

    function show(html, number) {
      var target = body();
      if (!target || number < shown) {
        return;
      }
      shown = number;
      keepLinks();
      var started = performance.now();
      patch(target, html);
      // The formulas' stylesheet comes with the preview and changes their size once it
      // loads: measure the headings again then, and keep the place in step.
      Array.prototype.forEach.call(target.querySelectorAll("link[rel=stylesheet]"), function (link) {
        if (!link.kbWatched) {
          link.kbWatched = true;
          link.addEventListener("load", function () {
            anchors = null;
            follow();
          });
        }
      });
      // So does the text face, which the frame may still be loading on the first preview.
      var fonts = frameDocument().fonts;
      if (fonts && !fonts.kbWatched) {
        fonts.kbWatched = true;
        fonts.addEventListener("loadingdone", function () {
          anchors = null;
          follow();
        });
      }
      var title = frameDocument().getElementById("preview-title");
      var titleField = editor.form.querySelector("[name=title]");
      if (title && titleField) {
        title.textContent = titleField.value;
      }
      anchors = null;
      var inserted = performance.now();
      follow();
      editor.root.dataset.previewed = String(number);
      // For bench/preview_bench.py: where the time goes (request, insert, scroll sync).
      editor.root.dataset.previewTiming = [
        Math.round(started - requested),
        Math.round(inserted - started),
        Math.round(performance.now() - inserted),
      ].join(",");
    }

    var requested = 0;

    function render() {
      var number = ++sent;
      requested = performance.now();
      if (controller) {
        controller.abort();
      }
      controller = new AbortController();
      var data = new FormData();
      data.append("content", textarea.value);
      fetch(url, {
        method: "POST",
        body: data,
        headers: { "X-CSRFToken": editor.csrf() },
        credentials: "same-origin",
        signal: controller.signal,
      })
        .then(function (response) {
          return response.text().then(function (text) {
            if (!response.ok) {
              throw new Error(text || "The preview failed (" + response.status + ").");
            }
            show(text, number);
          });
        })
        .catch(function (error) {
          if (error.name !== "AbortError") {
            editor.status("Preview: " + error.message, "error");
          }
        });
    }

    function soon() {
      window.clearTimeout(timer);
      timer = window.setTimeout(render, DELAY_MS);
    }

    textarea.addEventListener("input", soon);
    var titleField = editor.form.querySelector("[name=title]");
    if (titleField) {
      titleField.addEventListener("input", soon);
    }
    textarea.addEventListener("scroll", follow, { passive: true });
    window.addEventListener("resize", function () {
      anchors = null;
      follow();
    });
    editor.previewNow = render;

    if (frameDocument() && frameDocument().readyState === "complete" && body()) {
      render();
    } else {
      frame.addEventListener("load", render, { once: true });
    }

    // Below 1000 px the panes take turns: Write or Preview.
    var showSource = editor.root.querySelector(".kb-show-source");
    var showPreview = editor.root.querySelector(".kb-show-preview");
    function choose(preview) {
      editor.root.classList.toggle("shows-preview", preview);
      showSource.setAttribute("aria-pressed", String(!preview));
      showPreview.setAttribute("aria-pressed", String(preview));
      anchors = null;
    }
    showSource.addEventListener("click", function () {
      choose(false);
    });
    showPreview.addEventListener("click", function () {
      choose(true);
    });
  });
})();
