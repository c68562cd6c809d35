// The graph, enhanced: pointing at a post lights it and its links up; the whole graph also
// pans (drag) and zooms (wheel, or the + and - keys). Without this script it is a plain
// drawing whose dots are links.
(() => {
  "use strict";
  for (const svg of document.querySelectorAll(".graph-svg")) {
    const near = new Map();
    const lines = [...svg.querySelectorAll(".graph-edges line")];
    for (const line of lines) {
      for (const [a, b] of [[line.dataset.s, line.dataset.t], [line.dataset.t, line.dataset.s]]) {
        if (!near.has(a)) near.set(a, new Set());
        near.get(a).add(b);
      }
    }
    const nodes = new Map([...svg.querySelectorAll(".graph-node")].map((n) => [n.dataset.pk, n]));
    const clear = () => {
      svg.classList.remove("highlighting");
      svg.querySelectorAll(".near").forEach((element) => element.classList.remove("near"));
    };
    const light = (node) => {
      clear();
      const pk = node.dataset.pk;
      const around = near.get(pk) || new Set();
      svg.classList.add("highlighting");
      node.classList.add("near");
      around.forEach((other) => nodes.get(other)?.classList.add("near"));
      lines.forEach((line) => {
        if (line.dataset.s === pk || line.dataset.t === pk) line.classList.add("near");
      });
    };
    svg.addEventListener("pointerover", (event) => {
      const node = event.target.closest(".graph-node");
      if (node) light(node);
    });
    svg.addEventListener("focusin", (event) => {
      const node = event.target.closest(".graph-node");
      if (node) light(node);
    });
    svg.addEventListener("pointerleave", clear);
    svg.addEventListener("focusout", clear);

    const frame = svg.closest("[data-graph-zoom]");
    if (frame) zoomable(frame, svg);
  }

  function zoomable(frame, svg) {
    frame.classList.add("zoomable");
    const full = svg.viewBox.baseVal;
    const home = { x: full.x, y: full.y, width: full.width, height: full.height };
    let view = { ...home };
    const apply = () => svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.width} ${view.height}`);
    const zoom = (factor, cx, cy) => {
      const width = Math.min(home.width * 2, Math.max(home.width / 20, view.width * factor));
      const scale = width / view.width;
      view = { x: cx - (cx - view.x) * scale, y: cy - (cy - view.y) * scale, width, height: view.height * scale };
      apply();
    };
    const toGraph = (event) => {
      const box = svg.getBoundingClientRect();
      return [
        view.x + ((event.clientX - box.left) / box.width) * view.width,
        view.y + ((event.clientY - box.top) / box.height) * view.height,
      ];
    };
    frame.addEventListener("wheel", (event) => {
      event.preventDefault();
      zoom(event.deltaY > 0 ? 1.15 : 1 / 1.15, ...toGraph(event));
    }, { passive: false });
    let drag = null;
    let moved = false;
    frame.addEventListener("pointerdown", (event) => {
      drag = { x: event.clientX, y: event.clientY, view: { ...view } };
      moved = false;
    });
    frame.addEventListener("pointermove", (event) => {
      if (!drag) return;
      const box = svg.getBoundingClientRect();
      const dx = event.clientX - drag.x;
      const dy = event.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 4) moved = true;
      view = { ...drag.view, x: drag.view.x - (dx / box.width) * view.width, y: drag.view.y - (dy / box.height) * view.height };
      apply();
    });
    const stop = () => { drag = null; };
    frame.addEventListener("pointerup", stop);
    frame.addEventListener("pointercancel", stop);
    // A drag that ends on a dot must not open its post.
    frame.addEventListener("click", (event) => { if (moved) event.preventDefault(); }, true);
    frame.addEventListener("keydown", (event) => {
      const centre = [view.x + view.width / 2, view.y + view.height / 2];
      if (event.key === "+" || event.key === "=") zoom(1 / 1.25, ...centre);
      else if (event.key === "-") zoom(1.25, ...centre);
      else if (event.key === "0") { view = { ...home }; apply(); }
    });
  }
})();
