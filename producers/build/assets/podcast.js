/* Podcast episode pages. Loaded on every page; acts only inside a [data-c35-podcast] element.
 *
 * A chapter or transcript time is a <button data-start="seconds">: a click seeks the episode's
 * <audio> there and plays. While playing, the current chapter gets aria-current="true" so it is
 * highlighted and announced. Clicks are delegated from the document, and the timeupdate
 * listener is captured at the document, so pages swapped in by the theme's instant navigation
 * work without re-running this script. Without JavaScript the player and transcript still work.
 */
(function () {
  "use strict";

  function playerOf(element) {
    var root = element.closest("[data-c35-podcast]");
    return root ? root.querySelector("audio") : null;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-c35-podcast] button[data-start]");
    if (!button) return;
    var player = playerOf(button);
    var start = parseFloat(button.getAttribute("data-start"));
    if (!player || isNaN(start)) return;
    event.preventDefault();
    var seek = function () {
      player.currentTime = start;
      var playing = player.play();
      if (playing && playing.catch) playing.catch(function () { /* autoplay refused: the seek stands */ });
    };
    if (player.readyState >= 1) {
      seek();
    } else {
      // Nothing loaded yet (preload="none" keeps a phone from fetching the episode unasked): fetch
      // the metadata now and seek once it is there.
      player.addEventListener("loadedmetadata", seek, { once: true });
      player.preload = "metadata";
      player.load();
    }
  });

  document.addEventListener("timeupdate", function (event) {
    var player = event.target;
    if (!player || player.tagName !== "AUDIO") return;
    var root = player.closest("[data-c35-podcast]");
    if (!root) return;
    var buttons = root.querySelectorAll(".c35-chapters button[data-start]");
    var current = null;
    for (var i = 0; i < buttons.length; i++) {
      if (parseFloat(buttons[i].getAttribute("data-start")) <= player.currentTime + 0.05) current = buttons[i];
    }
    for (var j = 0; j < buttons.length; j++) {
      if (buttons[j] === current) buttons[j].setAttribute("aria-current", "true");
      else buttons[j].removeAttribute("aria-current");
    }
  }, true);
})();
