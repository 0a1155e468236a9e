/* The cards' figures (ui/cards.py) are static markup; each click target carries the item
   panel's request in `data-open-items` (ui/item_panel.open_items_attrs). A click, or Enter or
   Space on a focused target, writes that request to the store "item-request", which opens
   the panel (callbacks/items.py). */
(function () {
  "use strict";

  function open(target) {
    if (!window.dash_clientside) return;
    var request = JSON.parse(target.getAttribute("data-open-items"));
    window.dash_clientside.set_props("item-request", { data: request });
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest && event.target.closest("[data-open-items]");
    if (target) open(target);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" && event.key !== " ") return;
    var target = event.target.closest && event.target.closest("[data-open-items]");
    if (!target || target.tagName === "BUTTON") return; // a button clicks itself
    event.preventDefault();
    open(target);
  });
})();
