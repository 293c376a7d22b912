/* The theme's menu button is a <label for="__drawer">: a pointer toggles the hidden checkbox behind
   it, a keyboard cannot reach it (and a label may not play a button). It becomes a real <button>,
   named after the navigation it opens; Escape closes the drawer; focus goes into the drawer when it
   opens and back to the button when it closes. Without scripts the label stays and works by pointer. */
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
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && toggle.checked) toggle.click();
  });
})();
