/*
 * The action bar: Publish asks first for a draft, Schedule… takes the author to the date,
 * and a save by a button (or Ctrl+S on a new post; see save.js) brings the author back to where
 * they were typing, with the bar saying "Saved", "Unsaved changes" or that someone else saved
 * in between.
 */
(function () {
  "use strict";

  var RESUME = "kb-editor-resume";

  function store() {
    try {
      return window.sessionStorage;
    } catch (error) {
      return null;
    }
  }

  window.kbEditor.ready(function (editor) {
    var textarea = editor.textarea;
    var say = editor.say;
    var sessions = store();
    var failed = document.querySelector(".errornote");
    var saved = document.querySelector(".messagelist .success");

    // Looked up each time: a save in place (save.js) adds or removes them.
    function unresolved() {
      return document.getElementById("edit-conflict") || document.querySelector(".errornote");
    }

    if (document.getElementById("edit-conflict")) {
      say("Not saved: someone else saved this post after you opened it (see below).", "error");
    } else if (failed) {
      say("Not saved: see the errors below.", "error");
    } else if (saved) {
      say("Saved", "done");
    }

    editor.form.addEventListener("input", function () {
      if (!unresolved()) {
        say("Unsaved changes", "dirty");
      }
    });

    var publish = document.querySelector(".kb-publish");
    if (publish) {
      publish.addEventListener("click", function (event) {
        if (!window.confirm(publish.dataset.confirm)) {
          event.preventDefault();
        }
      });
    }

    var schedule = document.querySelector(".kb-schedule");
    if (schedule) {
      schedule.addEventListener("click", function () {
        var date = document.getElementById(schedule.getAttribute("aria-controls"));
        if (date) {
          date.scrollIntoView({ block: "center" });
          date.focus();
          editor.status("Pick a date in the future, then Publish: the post goes out then.");
        }
      });
    }

    // After a save as a page the page reloads; come back to the same place in the text.
    editor.remember = function () {
      if (sessions) {
        sessions.setItem(
          RESUME,
          JSON.stringify({
            start: textarea.selectionStart,
            end: textarea.selectionEnd,
            scroll: textarea.scrollTop,
            focused: document.activeElement === textarea,
            at: Date.now(),
          })
        );
      }
    };
    editor.form.addEventListener("submit", function () {
      say("Saving…", "busy");
      editor.remember();
    });

    var resume = null;
    try {
      resume = sessions && JSON.parse(sessions.getItem(RESUME));
    } catch (error) {
      resume = null;
    }
    if (sessions) {
      sessions.removeItem(RESUME);
    }
    if (resume && Date.now() - resume.at < 60000) {
      textarea.setSelectionRange(resume.start, resume.end);
      textarea.scrollTop = resume.scroll;
      if (resume.focused && !failed) {
        textarea.focus({ preventScroll: true });
      }
    }
  });
})();
