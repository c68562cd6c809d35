// Results as one types on /search/: after a pause, the page at the form's own address
// (/search/?q=…) is fetched and its results replace these, and the address bar shows that
// address, so sharing it or reloading gives the same page. The first change after a page load
// adds a history entry and later ones replace it, so Back leaves the search in one step.
// Without this script the form submits as usual and the server renders the same page.
(function () {
  "use strict";

  var DELAY_MS = 250;
  var form = document.querySelector("form[data-live-search]");
  var region = document.getElementById("search-results");
  if (!form || !region || !window.fetch || !window.DOMParser) {
    return;
  }
  var input = form.querySelector("input[name=q]");
  var timer = null;
  var pending = null;
  var pushed = false;

  function addressFor(text) {
    var params = new URLSearchParams(window.location.search);
    params.delete("page");
    params.set("q", text);
    return form.getAttribute("action") + "?" + params.toString();
  }

  function show(html) {
    var page = new DOMParser().parseFromString(html, "text/html");
    var fresh = page.getElementById("search-results");
    if (fresh) {
      region.replaceChildren.apply(region, Array.prototype.slice.call(fresh.childNodes));
      document.title = page.title;
    }
  }

  function load(address, record) {
    if (pending) {
      pending.abort();
    }
    pending = new AbortController();
    region.setAttribute("aria-busy", "true");
    return fetch(address, { signal: pending.signal, headers: { Accept: "text/html" } })
      .then(function (response) {
        return response.text();
      })
      .then(function (html) {
        show(html);
        if (record === "push") {
          window.history.pushState({ liveSearch: true }, "", address);
        } else if (record === "replace") {
          window.history.replaceState({ liveSearch: true }, "", address);
        }
      })
      .catch(function (error) {
        if (error.name !== "AbortError") {
          window.location.assign(address); // let the server answer the ordinary way
        }
      })
      .finally(function () {
        region.removeAttribute("aria-busy");
      });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      var address = addressFor(input.value.trim());
      if (address === window.location.pathname + window.location.search) {
        return;
      }
      load(address, pushed ? "replace" : "push");
      pushed = true;
    }, DELAY_MS);
  });

  window.addEventListener("popstate", function () {
    var params = new URLSearchParams(window.location.search);
    input.value = params.get("q") || "";
    pushed = false;
    load(window.location.pathname + window.location.search, null);
  });
})();
