// "/" anywhere on a page (outside a text field) puts the cursor in the search box: the search
// page's own box, else the header's. On a phone-width header, where the box is hidden, it opens
// the search page instead.
(function () {
  "use strict";

  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    var target = event.target;
    if (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) {
      return;
    }
    var box = document.getElementById("search-page-q") || document.getElementById("site-search-q");
    if (!box) {
      return;
    }
    event.preventDefault();
    if (box.offsetParent === null) {
      box.form.submit();
      return;
    }
    box.focus();
    box.select();
  });
})();
