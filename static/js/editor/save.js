/*
 * Ctrl/Cmd+S on a post that exists: the form is sent as "Save draft"/"Update" would send it,
 * with fetch, and the page stays as it is (text, caret, scroll, preview). The server saves it
 * the same way (the same form and services) and answers in JSON: the bar then says "Saved
 * 12:04" and the form takes the new version, so the next Ctrl+S saves over this one and not
 * over someone else's. An edit conflict shows its message and the difference above the form,
 * keeping the author's text; other errors are shown the usual way, by sending the form again
 * as a page, which renders each error on its field.
 *
 * A new post, or a change to the cross-link or update-note rows, is saved as a page: their
 * rows need the ids only a fresh page carries (a second save in place would add them again).
 * When the save itself removed a row the page shows (the cross-link of a [[wikilink]] taken
 * out of the body), the server says so and the page is fetched again, the caret kept.
 */
(function () {
  "use strict";

  var CHANGE_PAGE = /\/\d+\/change\/$/;

  window.kbEditor.ready(function (editor) {
    var form = editor.form;
    var version = form.querySelector("[name=base_version]");
    var rowsChanged = false;
    var busy = false;
    var again = false;
    var edits = 0;

    if (!CHANGE_PAGE.test(window.location.pathname) || !version || !window.fetch) {
      return; // keys.js clicks the save button instead
    }

    Array.prototype.forEach.call(form.querySelectorAll(".inline-group"), function (group) {
      ["input", "change", "click"].forEach(function (type) {
        group.addEventListener(type, function (event) {
          if (type !== "click" || event.target.closest("a, button")) {
            rowsChanged = true;
          }
        });
      });
    });
    form.addEventListener("input", function () {
      edits += 1;
    });

    function asPage() {
      var button = document.querySelector(".kb-save");
      if (button) {
        button.click();
      }
    }

    function clearStale() {
      var gone = document.querySelectorAll("#edit-conflict, .errornote, .errorlist");
      Array.prototype.forEach.call(gone, function (element) {
        element.remove();
      });
    }

    function showConflict(data) {
      clearStale();
      var holder = document.createElement("div");
      holder.innerHTML = data.conflict_html; // rendered and escaped by the server's template
      var module = holder.firstElementChild;
      var top = form.querySelector("fieldset") || form.firstChild;
      top.parentNode.insertBefore(module, top);
      // As the message says: saving again, having seen this, replaces the other version.
      version.value = String(data.version);
      editor.say("Not saved: someone else saved this post after you opened it (see above).", "error");
      editor.status(data.errors.join(" "), "error");
    }

    // The page's heading and the tab name the post as the page was loaded: a new title shows
    // there once it is saved, as it would on the next page.
    var heading = document.querySelector("#content > h2");
    var shownTitle = heading ? heading.textContent : "";
    function showTitle(title) {
      if (!heading || !title || title === shownTitle) {
        return;
      }
      heading.textContent = title;
      if (shownTitle && document.title.indexOf(shownTitle) !== -1) {
        document.title = document.title.replace(shownTitle, title);
      }
      shownTitle = title;
    }

    function saved(data, editsBefore) {
      if (data.reload) {
        // The save removed a row the page shows (a cross-link made from a [[wikilink]] that
        // is gone): only a fresh page can be sent again. Everything on this one is saved.
        editor.say("Saved " + data.at + "; showing the cross-links as they are now…", "busy");
        if (editor.remember) {
          editor.remember();
        }
        window.location.replace(window.location.href);
        return;
      }
      clearStale();
      version.value = String(data.version);
      var slug = form.querySelector("[name=slug]");
      if (slug && !slug.value) {
        slug.value = data.slug;
      }
      var onSite = document.querySelector(".kb-on-site");
      if (onSite) {
        onSite.href = data.url; // a new slug is a new address
      }
      showTitle(data.title);
      if (edits === editsBefore) {
        editor.say("Saved " + data.at, "done");
      } else {
        editor.say("Saved " + data.at + "; changes since then are not saved yet", "dirty");
      }
      editor.status(data.warnings.join(" "), data.warnings.length ? "error" : "");
      form.dispatchEvent(new CustomEvent("kb:saved", { detail: data }));
    }

    function failed(message) {
      editor.say("Not saved: " + message + " Your text is still here.", "error");
    }

    function send() {
      busy = true;
      var editsBefore = edits;
      var data = new FormData(form);
      data.append("_continue", "1"); // what the Save/Update button sends
      editor.say("Saving…", "busy");
      fetch(form.action, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: {
          Accept: "application/json",
          "X-KB-Save": "in-place",
          "X-CSRFToken": editor.csrf(),
        },
      })
        .then(function (response) {
          var type = response.headers.get("Content-Type") || "";
          if (type.indexOf("application/json") !== 0) {
            // A login page after the session ended, a refusal, a server error: not JSON.
            throw new Error("the server did not take it (signed out, or an error).");
          }
          return response.json();
        })
        .then(function (answer) {
          if (answer.saved) {
            saved(answer, editsBefore);
          } else if (answer.conflict) {
            showConflict(answer);
          } else {
            editor.say("Not saved: " + answer.errors.join(" "), "error");
            asPage(); // the page puts each error on its field
          }
        })
        .catch(function (error) {
          failed(error && error.message ? error.message : "the server could not be reached.");
        })
        .then(function () {
          busy = false;
          if (again) {
            again = false;
            send();
          }
        });
    }

    editor.save = function () {
      if (rowsChanged) {
        asPage();
      } else if (busy) {
        again = true; // once this one is done, save what is there then
      } else {
        send();
      }
    };
  });
})();
