/* cell35 slideshow: turns every [data-c35-slideshow] block into a one-slide-at-a-time viewer.
   Pages without such a block are untouched. Without script the slides stay stacked and readable. */
(function () {
  "use strict";

  var TYPING = /^(INPUT|TEXTAREA|SELECT)$/;
  var shows = [];

  function setup(root) {
    if (root.getAttribute("data-c35-ready")) return;
    root.setAttribute("data-c35-ready", "1");
    var slides = Array.prototype.slice.call(root.querySelectorAll(".c35-slide"));
    if (!slides.length) return;
    var controls = root.querySelector(".c35-slideshow__controls");
    var counter = root.querySelector("[data-c35-counter]");
    var notesButton = root.querySelector("[data-c35-notes]");
    var fullButton = root.querySelector("[data-c35-fullscreen]");
    var current = 0;

    function show(index, updateHash) {
      index = Math.max(0, Math.min(slides.length - 1, index));
      current = index;
      slides.forEach(function (slide, i) {
        slide.hidden = i !== index;
        if (i === index) slide.setAttribute("aria-current", "true");
        else slide.removeAttribute("aria-current");
      });
      // The pictures wait in data-src: load the current one, and the next early so paging on a slow
      // link does not show a blank slide; the rest stay unfetched.
      [slides[index], slides[index + 1]].forEach(function (slide) {
        var img = slide && slide.querySelector("img[data-src]");
        if (!img || img.getAttribute("src")) return;
        // srcset first, so the browser picks its width before any src is fetched
        if (img.getAttribute("data-srcset")) img.setAttribute("srcset", img.getAttribute("data-srcset"));
        img.setAttribute("src", img.getAttribute("data-src"));
      });
      if (counter) counter.textContent = (index + 1) + " / " + slides.length;
      if (updateHash && window.history && history.replaceState) {
        history.replaceState(null, "", "#slide-" + (index + 1));
      }
    }

    var show_ = { root: root, next: function () { show(current + 1, true); },
                  prev: function () { show(current - 1, true); },
                  first: function () { show(0, true); },
                  last: function () { show(slides.length - 1, true); } };
    shows.push(show_);

    root.classList.add("c35-slideshow--js");
    if (controls) controls.hidden = false;
    root.querySelector("[data-c35-next]").addEventListener("click", show_.next);
    root.querySelector("[data-c35-prev]").addEventListener("click", show_.prev);

    if (notesButton) {
      notesButton.addEventListener("click", function () {
        var on = root.classList.toggle("c35-slideshow--notes");
        notesButton.setAttribute("aria-pressed", on ? "true" : "false");
      });
    }

    var canFull = root.requestFullscreen || root.webkitRequestFullscreen;
    if (fullButton && !canFull) fullButton.hidden = true;
    if (fullButton && canFull) {
      fullButton.addEventListener("click", function () {
        var active = document.fullscreenElement || document.webkitFullscreenElement;
        if (active) (document.exitFullscreen || document.webkitExitFullscreen).call(document);
        else canFull.call(root);
      });
      // In full screen a slide is as wide as the screen: its sizes hint follows, so the browser takes
      // the full-size picture rather than stretching the column-sized one; back out, the hint returns.
      var fitSizes = function () {
        var full = (document.fullscreenElement || document.webkitFullscreenElement) === root;
        Array.prototype.forEach.call(root.querySelectorAll(".c35-slide__image[sizes]"), function (img) {
          if (!img.getAttribute("data-sizes")) img.setAttribute("data-sizes", img.getAttribute("sizes"));
          img.setAttribute("sizes", full ? "100vw" : img.getAttribute("data-sizes"));
        });
      };
      root.addEventListener("fullscreenchange", fitSizes);
      root.addEventListener("webkitfullscreenchange", fitSizes);
    }

    // Tap the right part of a slide for the next one, the left part for the previous one.
    root.querySelector(".c35-slideshow__stage").addEventListener("click", function (event) {
      if (event.target.tagName !== "IMG") return;
      var box = event.target.getBoundingClientRect();
      if (event.clientX - box.left > box.width / 3) show_.next(); else show_.prev();
    });

    var startX = null, startY = null;
    root.addEventListener("touchstart", function (event) {
      if (event.touches.length !== 1) { startX = null; return; }
      startX = event.touches[0].clientX; startY = event.touches[0].clientY;
    }, { passive: true });
    root.addEventListener("touchend", function (event) {
      if (startX === null) return;
      var dx = event.changedTouches[0].clientX - startX, dy = event.changedTouches[0].clientY - startY;
      startX = null;
      if (Math.abs(dx) > 40 && Math.abs(dx) > 1.5 * Math.abs(dy)) {
        if (dx < 0) show_.next(); else show_.prev();
      }
    }, { passive: true });

    var match = /^#slide-(\d+)$/.exec(window.location.hash);
    show(match ? parseInt(match[1], 10) - 1 : 0, false);
  }

  function target(event) {
    // The slideshow holding focus, else the page's only (or first) one.
    for (var i = 0; i < shows.length; i++) {
      if (shows[i].root.contains(event.target)) return shows[i];
    }
    return shows.length ? shows[0] : null;
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) return;
    var el = event.target;
    if (el && (TYPING.test(el.tagName) || el.isContentEditable)) return;
    var show = target(event);
    if (!show || !document.body.contains(show.root)) return;
    var inside = show.root.contains(el);
    switch (event.key) {
      case "ArrowRight": case "PageDown": show.next(); break;
      case "ArrowLeft": case "PageUp": show.prev(); break;
      case "Home": if (!inside) return; show.first(); break;
      case "End": if (!inside) return; show.last(); break;
      case " ": if (!inside || el.tagName === "BUTTON") return; show.next(); break;
      default: return;
    }
    event.preventDefault();
  });

  function init() {
    shows = shows.filter(function (s) { return document.body.contains(s.root); });
    var roots = document.querySelectorAll("[data-c35-slideshow]");
    for (var i = 0; i < roots.length; i++) setup(roots[i]);
  }

  // mkdocs-material's instant navigation swaps pages without a reload: it announces each page on document$.
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(init);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
