/* The theme's menu button is a <label for="__drawer">: a pointer toggles the hidden checkbox behind
   it, a keyboard cannot reach it (and a label may not play a button). It becomes a real <button>,
   named after the navigation it opens; Escape closes the drawer; focus goes into the drawer when it
   opens, stays in it while it is open, and goes back to the button when it closes. Without scripts the label stays and works by pointer. */
(function () {
  "use strict";
  var toggle = document.getElementById("__drawer");
  var drawer = document.querySelector(".md-sidebar--primary");
  var label = document.querySelector('label.md-header__button[for="__drawer"]');
  if (!toggle || !drawer || !label) return;
  var nav = drawer.querySelector("nav[aria-label]");

  var menu = document.createElement("button");
  menu.type = "button";
  menu.className = label.className + " c35-menu";
  if (nav) menu.setAttribute("aria-label", nav.getAttribute("aria-label"));
  menu.setAttribute("aria-expanded", String(toggle.checked));
  while (label.firstChild) menu.appendChild(label.firstChild);
  label.replaceWith(menu);
  menu.addEventListener("click", function () { toggle.click(); });

  toggle.addEventListener("change", function () {
    menu.setAttribute("aria-expanded", String(toggle.checked));
    if (toggle.checked) {
      var first = drawer.querySelector("a[href]");
      if (first) first.focus();
    } else if (drawer.contains(document.activeElement)) {
      menu.focus();
    }
  });
  // While the drawer covers the page, Tab and Shift+Tab go round its links (the page behind is
  // under the overlay, out of sight); on wide screens the navigation is no drawer.
  var narrow = window.matchMedia("(max-width: 76.234375em)");
  document.addEventListener("keydown", function (event) {
    if (!toggle.checked) return;
    if (event.key === "Escape") {
      toggle.click();
      return;
    }
    if (event.key !== "Tab" || !narrow.matches) return;
    var items = Array.prototype.filter.call(drawer.querySelectorAll("a[href], button, input:not([hidden])"),
                                            function (item) { return item.getClientRects().length > 0; });
    if (!items.length) return;
    var first = items[0], last = items[items.length - 1], inside = drawer.contains(document.activeElement);
    if (event.shiftKey && (!inside || document.activeElement === first)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (!inside || document.activeElement === last)) {
      event.preventDefault();
      first.focus();
    }
  });
})();
