/* Photo-series lightbox. Loaded on every page; acts only where a [data-c35-gallery] element exists.
 *
 * Without JavaScript each thumbnail is a plain link to the full-size JPEG. With it, a modal
 * <dialog> shows the photo (WebP where the browser takes it), its caption and credit, and the
 * same alt text as the thumbnail. Keys: Escape closes, ArrowLeft/ArrowRight move. Clicks are
 * delegated from the document, so pages swapped in by the theme's instant navigation work too.
 */
(function () {
  "use strict";

  var state = { dialog: null, gallery: null, links: [], index: 0, opener: null };

  function links(gallery) {
    return Array.prototype.slice.call(gallery.querySelectorAll("a.c35-gallery__link"));
  }

  function text(element, selector) {
    var found = element && element.querySelector(selector);
    return found ? found.textContent : "";
  }

  function build(gallery) {
    var dialog = document.createElement("dialog");
    dialog.className = "c35-lightbox";
    dialog.innerHTML =
      '<figure class="c35-lightbox__figure">' +
      '<picture><source type="image/webp"><img class="c35-lightbox__image" alt=""></picture>' +
      '<figcaption class="c35-lightbox__caption"><span class="c35-lightbox__position"></span> ' +
      '<span class="c35-lightbox__text"></span> <span class="c35-lightbox__credit"></span></figcaption>' +
      "</figure>" +
      '<button type="button" class="c35-lightbox__close"></button>' +
      '<button type="button" class="c35-lightbox__previous"></button>' +
      '<button type="button" class="c35-lightbox__next"></button>';
    var labels = { close: "\u00d7", previous: "\u2039", next: "\u203a" };
    Object.keys(labels).forEach(function (name) {
      var button = dialog.querySelector(".c35-lightbox__" + name);
      button.textContent = labels[name];
      button.setAttribute("aria-label", gallery.getAttribute("data-label-" + name) || name);
      button.title = button.getAttribute("aria-label");
    });
    dialog.querySelector(".c35-lightbox__close").addEventListener("click", close);
    dialog.querySelector(".c35-lightbox__previous").addEventListener("click", function () { move(-1); });
    dialog.querySelector(".c35-lightbox__next").addEventListener("click", function () { move(1); });
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) { close(); }      // a click on the backdrop
    });
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "ArrowRight") { move(1); event.preventDefault(); }
      else if (event.key === "ArrowLeft") { move(-1); event.preventDefault(); }
      else if (event.key === "Escape") { close(); event.preventDefault(); }
    });
    dialog.addEventListener("close", function () {
      if (state.opener && document.contains(state.opener)) { state.opener.focus(); }
    });
    document.body.appendChild(dialog);
    return dialog;
  }

  function show(index) {
    var count = state.links.length;
    state.index = (index + count) % count;
    var link = state.links[state.index];
    var figure = link.closest("figure");
    var thumb = link.querySelector("img");
    var dialog = state.dialog;
    var image = dialog.querySelector(".c35-lightbox__image");
    dialog.querySelector("source").setAttribute("srcset", link.getAttribute("data-webp") || "");
    image.src = link.getAttribute("href");
    image.alt = thumb ? thumb.alt : "";
    if (link.getAttribute("data-width")) {
      image.width = +link.getAttribute("data-width");
      image.height = +link.getAttribute("data-height");
    }
    var template = state.gallery.getAttribute("data-label-position") || "{n} / {total}";
    var position = template.replace("{n}", state.index + 1).replace("{total}", count);
    dialog.querySelector(".c35-lightbox__position").textContent = position;
    dialog.setAttribute("aria-label", position);
    dialog.querySelector(".c35-lightbox__text").textContent = text(figure, ".c35-gallery__caption");
    dialog.querySelector(".c35-lightbox__credit").textContent = text(figure, ".c35-gallery__credit");
    var single = count < 2;
    dialog.querySelector(".c35-lightbox__previous").hidden = single;
    dialog.querySelector(".c35-lightbox__next").hidden = single;
  }

  function open(gallery, link) {
    if (state.dialog && state.gallery !== gallery) { state.dialog.remove(); state.dialog = null; }
    state.gallery = gallery;
    state.links = links(gallery);
    state.opener = link;
    state.dialog = state.dialog && document.contains(state.dialog) ? state.dialog : build(gallery);
    show(state.links.indexOf(link));
    if (!state.dialog.open) { state.dialog.showModal(); }
    state.dialog.querySelector(".c35-lightbox__close").focus();
  }

  function move(step) { if (state.dialog && state.dialog.open) { show(state.index + step); } }

  function close() { if (state.dialog && state.dialog.open) { state.dialog.close(); } }

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) { return; }
    var link = event.target.closest && event.target.closest("a.c35-gallery__link");
    var gallery = link && link.closest("[data-c35-gallery]");
    if (!gallery || typeof HTMLDialogElement === "undefined") { return; }   // old browsers: follow the link
    event.preventDefault();
    open(gallery, link);
  });
})();
