// The reading column: the side contents mark the section being read, and on narrow screens a
// footnote number opens its note in place instead of jumping to the end of the page.
(() => {
  "use strict";
  const wide = window.matchMedia("(min-width: 75rem)");
  const links = new Map();
  document.querySelectorAll(".post-toc-side a[href^='#']").forEach((link) => {
    links.set(decodeURIComponent(link.hash.slice(1)), link);
  });
  const headings = [...document.querySelectorAll(".prose > :is(h2, h3, h4)[id]")].filter((h) =>
    links.has(h.id),
  );

  let marked = null;
  let pending = false;
  function markCurrent() {
    pending = false;
    let found = headings[0];
    for (const heading of headings) {
      if (heading.getBoundingClientRect().top > window.innerHeight * 0.3) break;
      found = heading;
    }
    const link = found && links.get(found.id);
    if (link === marked) return;
    if (marked) marked.removeAttribute("aria-current");
    if (link) link.setAttribute("aria-current", "true");
    marked = link;
  }
  if (headings.length) {
    window.addEventListener("scroll", () => {
      if (!pending) {
        pending = true;
        requestAnimationFrame(markCurrent);
      }
    }, { passive: true });
    markCurrent();
  }

  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element && event.target.closest(".footnote-ref a");
    if (!link || wide.matches) return;
    const note = link.parentElement.nextElementSibling;
    if (!note || !note.classList.contains("sidenote")) return;
    event.preventDefault();
    const open = note.classList.toggle("open");
    note.setAttribute("aria-hidden", open ? "false" : "true");
    link.setAttribute("aria-expanded", open ? "true" : "false");
  });
})();
