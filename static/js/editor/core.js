/*
 * The post editor's shared parts: finding the editor on the page, editing the text so that
 * undo still works, working out where a character sits, and the status line. The other files in
 * this folder each add one behaviour through window.kbEditor.ready(callback).
 */
(function () {
  "use strict";

  var waiting = [];
  var editor = null;

  function insert(textarea, start, end, text, selectFrom, selectTo) {
    textarea.focus();
    textarea.setSelectionRange(start, end);
    // execCommand keeps the browser's undo history; setRangeText is the fallback.
    var done = false;
    try {
      done = document.execCommand("insertText", false, text);
    } catch (error) {
      done = false;
    }
    if (!done || textarea.value.slice(start, start + text.length) !== text) {
      textarea.setRangeText(text, start, end, "end");
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }
    var from = selectFrom === undefined ? start + text.length : selectFrom;
    textarea.setSelectionRange(from, selectTo === undefined ? from : selectTo);
  }

  // Where characters sit inside the textarea, worked out rather than laid out: the font is
  // monospaced, so wrapping can be followed word by word as the browser does (pre-wrap,
  // break-word). Laying out a hidden copy of a 20,000-word text takes hundreds of ms; this, a
  // few. (Wide characters and tabs make it approximate, which scrolling in step tolerates.)
  function metrics(textarea, probe) {
    var style = window.getComputedStyle(textarea);
    probe.textContent = "0123456789".repeat(10);
    var charWidth = probe.getBoundingClientRect().width / 100 || 8;
    var inner =
      textarea.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return {
      cols: Math.max(Math.floor(inner / charWidth), 1),
      charWidth: charWidth,
      lineHeight: parseFloat(style.lineHeight) || 20,
      top: parseFloat(style.paddingTop),
      left: parseFloat(style.paddingLeft),
    };
  }

  // The rows a line of `text` wraps into at `cols` columns, and the row and column `upTo`
  // characters into it ends at.
  function wrap(text, cols, upTo) {
    var row = 0;
    var col = 0;
    var parts = text.slice(0, upTo === undefined ? text.length : upTo).split(/( +)/);
    parts.forEach(function (part) {
      if (!part) {
        return;
      }
      if (part.charAt(0) === " ") {
        col += part.length; // spaces may hang past the edge; the next word wraps
        return;
      }
      if (col + part.length <= cols) {
        col += part.length;
        return;
      }
      if (col > 0) {
        row += 1;
        col = 0;
      }
      row += Math.floor(Math.max(part.length - 1, 0) / cols);
      col = part.length - Math.floor(Math.max(part.length - 1, 0) / cols) * cols;
    });
    return { rows: row + 1, row: row, col: col };
  }

  function positions(textarea, probe, offsets) {
    var m = metrics(textarea, probe);
    var text = textarea.value;
    var wanted = offsets.slice().sort(function (a, b) {
      return a - b;
    });
    var found = {};
    var rows = 0;
    var lineStart = 0;
    var next = 0;
    while (next < wanted.length) {
      var lineEnd = text.indexOf("\n", lineStart);
      if (lineEnd < 0) {
        lineEnd = text.length;
      }
      while (next < wanted.length && wanted[next] <= lineEnd) {
        var spot = wrap(text.slice(lineStart, lineEnd), m.cols, wanted[next] - lineStart);
        found[wanted[next]] = {
          top: m.top + (rows + spot.row) * m.lineHeight,
          left: m.left + spot.col * m.charWidth,
          height: m.lineHeight,
        };
        next += 1;
      }
      if (lineEnd >= text.length) {
        break;
      }
      rows += wrap(text.slice(lineStart, lineEnd), m.cols).rows;
      lineStart = lineEnd + 1;
    }
    return offsets.map(function (offset) {
      return found[offset] || { top: m.top + rows * m.lineHeight, left: m.left, height: 0 };
    });
  }

  function setStatus(element, message, kind) {
    element.textContent = message;
    element.className = element.className.replace(/\s*is-\w+/g, "") + (kind ? " is-" + kind : "");
  }

  function start() {
    var root = document.querySelector(".kb-editor");
    if (!root) {
      return;
    }
    var form = root.closest("form");
    var statusLine = root.querySelector(".kb-editor-status");
    editor = {
      root: root,
      form: form,
      textarea: root.querySelector("textarea"),
      frame: root.querySelector(".kb-editor-preview"),
      probe: root.querySelector(".kb-editor-probe"),
      saveState: document.querySelector(".kb-save-state"),
      csrf: function () {
        var field = form.querySelector("[name=csrfmiddlewaretoken]");
        return field ? field.value : "";
      },
      insert: function (start, end, text, selectFrom, selectTo) {
        insert(editor.textarea, start, end, text, selectFrom, selectTo);
      },
      positions: function (offsets) {
        return positions(editor.textarea, editor.probe, offsets);
      },
      status: function (message, kind) {
        setStatus(statusLine, message, kind);
        statusLine.setAttribute("role", kind === "error" ? "alert" : "status");
      },
      // The action bar's word on saving: "Saved 12:04", "Unsaved changes", "Not saved: …".
      say: function (message, kind) {
        if (editor.saveState) {
          editor.saveState.textContent = message;
          editor.saveState.className = "kb-save-state" + (kind ? " is-" + kind : "");
        }
      },
    };
    waiting.forEach(function (callback) {
      callback(editor);
    });
    waiting = [];
  }

  window.kbEditor = {
    ready: function (callback) {
      if (editor) {
        callback(editor);
      } else {
        waiting.push(callback);
      }
    },
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
