/*
 * Keys anywhere on the editor's page: Ctrl/Cmd+S saves and stays (in place, see save.js),
 * Ctrl/Cmd+Enter publishes. Keys in the source: Enter continues a list, Tab and Shift+Tab
 * indent or outdent list items (elsewhere Tab leaves the field, as it should), Ctrl/Cmd+K
 * makes a link of the selection.
 */
(function () {
  "use strict";

  var ITEM = /^(\s*)([-*+]|(\d+)([.)]))(\s+)(\[[ xX]\]\s+)?/;
  var INDENT = "  ";

  function lineAt(text, index) {
    var start = text.lastIndexOf("\n", index - 1) + 1;
    var end = text.indexOf("\n", index);
    return { start: start, end: end < 0 ? text.length : end };
  }

  window.kbEditor.ready(function (editor) {
    var textarea = editor.textarea;

    function continueList() {
      var text = textarea.value;
      var at = textarea.selectionStart;
      if (at !== textarea.selectionEnd) {
        return false;
      }
      var line = lineAt(text, at);
      var match = ITEM.exec(text.slice(line.start, line.end));
      if (!match || at < line.start + match[0].length) {
        return false;
      }
      if (text.slice(line.start + match[0].length, line.end).trim() === "") {
        // Enter on an empty item ends the list.
        editor.insert(line.start, line.end, "");
        return true;
      }
      var marker = match[3] ? Number(match[3]) + 1 + match[4] : match[2];
      var box = match[6] ? "[ ] " : "";
      editor.insert(at, at, "\n" + match[1] + marker + match[5] + box);
      return true;
    }

    function indent(outdent) {
      var text = textarea.value;
      var from = lineAt(text, textarea.selectionStart).start;
      var to = lineAt(text, textarea.selectionEnd).end;
      var lines = text.slice(from, to).split("\n");
      if (!lines.every(function (l) { return ITEM.test(l) || l.trim() === ""; })) {
        return false;
      }
      var changed = lines.map(function (l) {
        if (!outdent) {
          return l.trim() === "" ? l : INDENT + l;
        }
        return l.replace(/^( {1,2}|\t)/, "");
      });
      var replacement = changed.join("\n");
      var caret = textarea.selectionStart + (changed[0].length - lines[0].length);
      editor.insert(from, to, replacement);
      if (lines.length === 1) {
        textarea.setSelectionRange(Math.max(caret, from), Math.max(caret, from));
      } else {
        textarea.setSelectionRange(from, from + replacement.length);
      }
      return true;
    }

    function makeLink() {
      var start = textarea.selectionStart;
      var end = textarea.selectionEnd;
      var chosen = textarea.value.slice(start, end);
      if (/^https?:\/\/\S+$/.test(chosen)) {
        editor.insert(start, end, "[](" + chosen + ")", start + 1, start + 1);
      } else {
        var text = "[" + chosen + "](https://)";
        var urlStart = start + chosen.length + 3;
        editor.insert(start, end, text, urlStart, urlStart + 8);
      }
    }

    function click(selector) {
      var button = document.querySelector(selector);
      if (button) {
        button.click();
      }
      return Boolean(button);
    }

    document.addEventListener("keydown", function (event) {
      var mod = event.ctrlKey || event.metaKey;
      if (!mod || event.altKey) {
        return;
      }
      var key = event.key.toLowerCase();
      if (key === "s" && !event.shiftKey) {
        event.preventDefault();
        if (editor.save) {
          editor.save();
        } else {
          click(".kb-save");
        }
      } else if (key === "enter") {
        event.preventDefault();
        click(".kb-publish") || click(".kb-save");
      }
    }, true); // capture: widgets such as the tag field stop the keys they handle

    textarea.addEventListener("keydown", function (event) {
      if (editor.completing && editor.completing()) {
        return; // the completion list has the arrow keys, Enter, Tab and Escape
      }
      var mod = event.ctrlKey || event.metaKey;
      var handled = false;
      if (mod && !event.altKey && event.key.toLowerCase() === "k") {
        makeLink();
        handled = true;
      } else if (event.key === "Enter" && !mod && !event.shiftKey && !event.altKey) {
        handled = continueList();
      } else if (event.key === "Tab" && !mod && !event.altKey) {
        handled = indent(event.shiftKey);
      }
      if (handled) {
        event.preventDefault();
      }
    });
  });
})();
