/*
 * The post editor's shared parts: finding the editor on the page, editing the text so that
 * undo still works, measuring where a character sits, and the status line. The other files in
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

  // Where characters sit inside the textarea: a hidden copy of its text, wrapped the same way,
  // with markers at the wanted offsets. Returns each marker's top and left in pixels.
  function positions(textarea, mirror, offsets) {
    var text = textarea.value;
    mirror.textContent = "";
    mirror.style.width = textarea.clientWidth + "px";
    var markers = [];
    var last = 0;
    offsets.forEach(function (offset) {
      mirror.appendChild(document.createTextNode(text.slice(last, offset)));
      var marker = document.createElement("span");
      marker.textContent = "\u200b";
      mirror.appendChild(marker);
      markers.push(marker);
      last = offset;
    });
    mirror.appendChild(document.createTextNode(text.slice(last) + "\n"));
    return markers.map(function (marker) {
      return { top: marker.offsetTop, left: marker.offsetLeft, height: marker.offsetHeight };
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
      mirror: root.querySelector(".kb-editor-mirror"),
      saveState: document.querySelector(".kb-save-state"),
      csrf: function () {
        var field = form.querySelector("[name=csrfmiddlewaretoken]");
        return field ? field.value : "";
      },
      insert: function (start, end, text, selectFrom, selectTo) {
        insert(editor.textarea, start, end, text, selectFrom, selectTo);
      },
      positions: function (offsets) {
        return positions(editor.textarea, editor.mirror, offsets);
      },
      status: function (message, kind) {
        setStatus(statusLine, message, kind);
        statusLine.setAttribute("role", kind === "error" ? "alert" : "status");
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
