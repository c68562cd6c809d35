/*
 * Autosave for the post form in the admin.
 *
 * While the author types, the title, summary and body are copied into localStorage,
 * keyed by the page's address. If the tab is closed or a save fails, opening the form again
 * shows a prompt to bring the text back. A copy is dropped once the server has saved it.
 * Loaded through PostAdmin.Media on the change form and the post list (where the "added
 * successfully" message confirms a save). An external file, so the CSP needs no inline script.
 */
(function () {
  "use strict";

  var PREFIX = "kb-autosave:";
  var FIELDS = ["title", "summary", "body"];
  var DELAY_MS = 400;

  function storage() {
    try {
      return window.localStorage;
    } catch (error) {
      return null; // Private mode or storage disabled: the form works as before.
    }
  }

  function read(store, key) {
    try {
      return JSON.parse(store.getItem(key));
    } catch (error) {
      return null;
    }
  }

  function write(store, key, record) {
    try {
      store.setItem(key, JSON.stringify(record));
    } catch (error) {
      // Quota full: keeping the form usable matters more than the copy.
    }
  }

  function fieldsOf(form) {
    var found = {};
    FIELDS.forEach(function (name) {
      var element = form.elements.namedItem(name);
      if (element && "value" in element) {
        found[name] = element;
      }
    });
    return found;
  }

  function valuesOf(fields) {
    var values = {};
    Object.keys(fields).forEach(function (name) {
      values[name] = fields[name].value;
    });
    return values;
  }

  function sameValues(a, b) {
    return Object.keys(a).every(function (name) {
      return !(name in b) || a[name] === b[name];
    });
  }

  function successText() {
    var success = document.querySelector(".messagelist .success");
    return success ? success.textContent : "";
  }

  function showPrompt(form, fields, record, onDiscard) {
    var list = document.createElement("ul");
    list.className = "messagelist autosave-prompt";
    var item = document.createElement("li");
    item.className = "warning";
    item.setAttribute("role", "alert");
    var when = new Date(record.savedAt).toLocaleString();
    item.appendChild(
      document.createTextNode("This browser kept text you had not saved (" + when + "). ")
    );
    var restore = document.createElement("button");
    restore.type = "button";
    restore.className = "button autosave-restore";
    restore.textContent = "Restore it";
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "button autosave-discard";
    discard.textContent = "Discard it";
    item.appendChild(restore);
    item.appendChild(document.createTextNode(" "));
    item.appendChild(discard);
    list.appendChild(item);
    form.insertBefore(list, form.firstChild);

    restore.addEventListener("click", function () {
      Object.keys(record.values).forEach(function (name) {
        if (fields[name]) {
          fields[name].value = record.values[name];
          // markdownx refreshes its live preview on input events.
          fields[name].dispatchEvent(new Event("input", { bubbles: true }));
        }
      });
      list.remove();
    });
    discard.addEventListener("click", function () {
      onDiscard();
      list.remove();
    });
  }

  function watchForm(store, form) {
    var key = PREFIX + window.location.pathname;
    var fields = fieldsOf(form);
    var hasErrors = document.querySelector(".errornote") !== null;
    var record = read(store, key);

    if (record && record.values) {
      var savedHere = record.submitted && successText() && !hasErrors;
      if (savedHere || (sameValues(record.values, valuesOf(fields)) && !hasErrors)) {
        store.removeItem(key);
      } else if (!sameValues(record.values, valuesOf(fields))) {
        showPrompt(form, fields, record, function () {
          store.removeItem(key);
        });
      }
    }

    var timer = null;
    function remember(submitted) {
      write(store, key, {
        values: valuesOf(fields),
        savedAt: Date.now(),
        submitted: submitted,
      });
    }
    form.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        remember(false);
      }, DELAY_MS);
    });
    form.addEventListener("submit", function () {
      window.clearTimeout(timer);
      remember(true);
    });
    // Ctrl+S saved the form without leaving the page (js/editor/save.js): the copy is done
    // with; typing again keeps a new one.
    form.addEventListener("kb:saved", function () {
      window.clearTimeout(timer);
      store.removeItem(key);
    });
  }

  // After a save the admin's message names the post that was saved.
  function forgetSaved(store) {
    var message = successText();
    if (!message) {
      return;
    }
    for (var i = store.length - 1; i >= 0; i--) {
      var key = store.key(i);
      if (key && key.indexOf(PREFIX) === 0) {
        var record = read(store, key);
        var title = record && record.values && record.values.title;
        if (record && record.submitted && title && message.indexOf(title.trim()) !== -1) {
          store.removeItem(key);
        }
      }
    }
  }

  function start() {
    var store = storage();
    if (!store) {
      return;
    }
    // A save lands on the post list or back in the editor; either way its message names the
    // post, and the copies kept for it (under the add page's address too) are done with.
    forgetSaved(store);
    var form = document.getElementById("post_form");
    if (form) {
      watchForm(store, form);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
