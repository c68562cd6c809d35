// Link previews: resting the pointer on a link to another post or a tag, or focusing it with
// the keyboard, shows a card, fetched once from /posts/<slug>/preview/ (or /tags/…/preview/).
// The link stays a plain link: a click or a tap follows it, touch never opens a card, and
// Escape closes it.
(() => {
  "use strict";
  const SHOW_DELAY = 350;
  const HIDE_DELAY = 250;
  // Posts, and tags (a tag's card lists its newest posts).
  const PREVIEWED = /^\/(posts|tags)\/[^/+]+\/$/;
  const fragments = new Map();
  let card = null;
  let current = null;
  let showTimer = 0;
  let hideTimer = 0;
  let lastTouch = 0;

  function previewAddress(link) {
    if (!(link instanceof HTMLAnchorElement) || link.closest(".preview-card")) return null;
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin || !PREVIEWED.test(url.pathname)) return null;
    if (url.pathname === location.pathname) return null;
    const section = url.hash.startsWith("#h-") ? `?section=${encodeURIComponent(url.hash.slice(1))}` : "";
    return `${url.pathname}preview/${section}`;
  }

  function fetchFragment(address) {
    if (!fragments.has(address)) {
      const request = fetch(address, { headers: { Accept: "text/html" } })
        .then((response) => (response.ok ? response.text() : null))
        .catch(() => null);
      fragments.set(address, request);
    }
    return fragments.get(address);
  }

  function theCard() {
    if (card) return card;
    card = document.createElement("div");
    card.className = "preview-card";
    card.id = "link-preview";
    card.setAttribute("role", "tooltip");
    card.hidden = true;
    card.addEventListener("pointerenter", () => clearTimeout(hideTimer));
    card.addEventListener("pointerleave", scheduleHide);
    document.body.append(card);
    return card;
  }

  function place(link) {
    const box = link.getBoundingClientRect();
    const width = card.offsetWidth;
    const height = card.offsetHeight;
    const viewportWidth = document.documentElement.clientWidth;
    const left = Math.max(8, Math.min(box.left, viewportWidth - width - 8));
    const below = box.bottom + height + 12 <= window.innerHeight || box.top < height + 12;
    const top = below ? box.bottom + 6 : box.top - height - 6;
    card.style.left = `${left + window.scrollX}px`;
    card.style.top = `${top + window.scrollY}px`;
  }

  async function show(link) {
    const address = previewAddress(link);
    if (!address) return;
    const markup = await fetchFragment(address);
    if (!markup || current !== link) return;
    const parsed = new DOMParser().parseFromString(markup, "text/html");
    // The page already has these ids (headings, footnotes): the copy must not take them.
    parsed.querySelectorAll("[id]").forEach((element) => element.removeAttribute("id"));
    parsed.querySelectorAll("a").forEach((element) => element.setAttribute("tabindex", "-1"));
    const target = theCard();
    target.replaceChildren(...parsed.body.childNodes);
    target.hidden = false;
    place(link);
    link.setAttribute("aria-describedby", target.id);
  }

  function hide() {
    clearTimeout(showTimer);
    if (card) card.hidden = true;
    if (current) current.removeAttribute("aria-describedby");
    current = null;
  }

  function scheduleShow(link) {
    clearTimeout(hideTimer);
    if (current === link) return;
    hide();
    current = link;
    showTimer = setTimeout(() => show(link), SHOW_DELAY);
  }

  function scheduleHide() {
    clearTimeout(showTimer);
    clearTimeout(hideTimer);
    hideTimer = setTimeout(hide, HIDE_DELAY);
  }

  const linkIn = (event) => event.target instanceof Element && event.target.closest("a[href]");

  document.addEventListener("pointerdown", (event) => {
    if (event.pointerType !== "mouse") lastTouch = Date.now();
  });
  document.addEventListener("pointerover", (event) => {
    const link = linkIn(event);
    if (event.pointerType !== "mouse" || !link || !previewAddress(link)) return;
    scheduleShow(link);
  });
  document.addEventListener("pointerout", (event) => {
    const link = linkIn(event);
    if (link && link === current && !link.contains(event.relatedTarget)) scheduleHide();
  });
  document.addEventListener("focusin", (event) => {
    const link = linkIn(event);
    if (!link || !previewAddress(link) || Date.now() - lastTouch < 1000) return;
    scheduleShow(link);
  });
  document.addEventListener("focusout", (event) => {
    if (linkIn(event) === current) scheduleHide();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && current) hide();
  });
})();
