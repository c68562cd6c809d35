/*
 * Images pasted or dropped into the source are uploaded through kb's checked, staff-only
 * upload endpoint (markdownx's, routed in kb/urls.py), which re-encodes nothing but accepts
 * only real images; `![](…)` replaces a placeholder at the caret once the upload is done.
 */
(function () {
  "use strict";

  window.kbEditor.ready(function (editor) {
    var textarea = editor.textarea;
    var url = editor.root.dataset.uploadUrl;
    var counter = 0;

    function replacePlaceholder(placeholder, text) {
      var at = textarea.value.indexOf(placeholder);
      if (at >= 0) {
        var caret = textarea.selectionStart;
        editor.insert(at, at + placeholder.length, text);
        var shift = text.length - placeholder.length;
        var back = caret > at ? caret + shift : caret;
        textarea.setSelectionRange(back, back);
      }
    }

    function upload(file) {
      var placeholder = "![Uploading " + (file.name || "image") + " #" + ++counter + "…]()";
      var at = textarea.selectionStart;
      editor.insert(at, textarea.selectionEnd, placeholder);
      editor.status("Uploading " + (file.name || "the image") + "…", "busy");
      var data = new FormData();
      data.append("image", file, file.name || "pasted-image.png");
      var request = new XMLHttpRequest();
      request.open("POST", url);
      request.setRequestHeader("X-CSRFToken", editor.csrf());
      request.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) {
          var share = Math.round((100 * event.loaded) / event.total);
          editor.status("Uploading " + (file.name || "the image") + "… " + share + "%", "busy");
        }
      });
      request.addEventListener("load", function () {
        var answer = {};
        try {
          answer = JSON.parse(request.responseText);
        } catch (error) {
          answer = {};
        }
        if (request.status === 200 && answer.image_code) {
          replacePlaceholder(placeholder, answer.image_code);
          editor.status("Image uploaded.", "done");
        } else {
          replacePlaceholder(placeholder, "");
          var reason = (answer.image && answer.image[0]) || "the server said " + request.status;
          editor.status("The image was not uploaded: " + reason, "error");
        }
      });
      request.addEventListener("error", function () {
        replacePlaceholder(placeholder, "");
        editor.status("The image was not uploaded: the server could not be reached.", "error");
      });
      request.send(data);
    }

    function images(list) {
      return Array.prototype.filter.call(list || [], function (file) {
        return file.type.indexOf("image/") === 0;
      });
    }

    textarea.addEventListener("paste", function (event) {
      var files = images(event.clipboardData && event.clipboardData.files);
      if (files.length) {
        event.preventDefault();
        files.forEach(upload);
      }
    });
    textarea.addEventListener("dragover", function (event) {
      if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0) {
        event.preventDefault();
      }
    });
    textarea.addEventListener("drop", function (event) {
      var files = images(event.dataTransfer && event.dataTransfer.files);
      if (files.length) {
        event.preventDefault();
        files.forEach(upload);
      }
    });
  });
})();
