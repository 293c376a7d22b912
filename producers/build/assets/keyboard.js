/* The theme's menu button and the drawer's title are <label for="__drawer">: a pointer toggles the
   hidden checkbox behind them, a keyboard cannot reach them at all. This makes them buttons: in the
   Tab order, named, Enter and Space open and close the drawer, Escape closes it, and focus goes
   into the drawer when it opens and back to the menu button when it closes. */
(function () {
  "use strict";
  var toggle = document.getElementById("__drawer");
  var drawer = document.querySelector(".md-sidebar--primary");
  if (!toggle || !drawer) return;
  var menu = document.querySelector('label.md-header__button[for="__drawer"]');
  var nav = drawer.querySelector("nav[aria-label]");

  document.querySelectorAll('label[for="__drawer"]:not(.md-overlay)').forEach(function (label) {
    label.setAttribute("role", "button");
    label.tabIndex = 0;
    label.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        label.click();
      }
    });
  });
  if (menu) {
    if (!menu.textContent.trim() && nav) menu.setAttribute("aria-label", nav.getAttribute("aria-label"));
    menu.setAttribute("aria-expanded", String(toggle.checked));
  }

  toggle.addEventListener("change", function () {
    if (menu) menu.setAttribute("aria-expanded", String(toggle.checked));
    if (toggle.checked) {
      var first = drawer.querySelector('a[href], label[role="button"]');
      if (first) first.focus();
    } else if (menu && drawer.contains(document.activeElement)) {
      menu.focus();
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && toggle.checked) {
      toggle.click();
    }
  });
})();
