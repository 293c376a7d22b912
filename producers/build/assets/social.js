/* Copy-to-clipboard buttons of social-post pages: <button data-c35-copy="<textarea id>">.
 * Loaded on every page; does nothing where no such button exists (clicks are delegated). */
(function () {
  "use strict";

  function copied(button) {
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    button.textContent = button.getAttribute("data-copied") || label;
    button.setAttribute("data-state", "copied");
    window.setTimeout(function () {
      button.textContent = label;
      button.removeAttribute("data-state");
    }, 2000);
  }

  function fallback(box) {
    // Pages served over plain http (a phone on the LAN preview) have no Clipboard API.
    box.focus();
    box.select();
    try { return document.execCommand("copy"); } catch (error) { return false; }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-c35-copy]");
    if (!button) { return; }
    var box = document.getElementById(button.getAttribute("data-c35-copy"));
    if (!box) { return; }
    var text = box.value !== undefined ? box.value : box.textContent;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { copied(button); }, function () {
        if (fallback(box)) { copied(button); }
      });
    } else if (fallback(box)) {
      copied(button);
    }
  });
})();
