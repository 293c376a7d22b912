// Pagefind's search UI on the search page only; the index is chunked, so a query downloads a few
// small fragments rather than an index that grows with the site.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("c35-search");
  if (!box || typeof PagefindUI === "undefined") return;
  new PagefindUI({
    element: "#c35-search",
    showSubResults: true,
    showImages: false,
    translations: { placeholder: box.dataset.placeholder || "Search" },
  });
  var params = new URLSearchParams(window.location.search);
  if (params.get("q")) {
    var input = box.querySelector("input");
    if (input) { input.value = params.get("q"); input.dispatchEvent(new Event("input")); }
  }
});
