// In-page filtering of the timeline by actor and tag. Without JavaScript the filter
// links lead to the actor's or tag's own page; with it they filter the cards here and
// keep the choice in the URL (?actor=slug&tag=slug), so a filtered view can be shared.
(function () {
  "use strict";
  var nav = document.querySelector(".filters");
  if (!nav) return;
  var cards = Array.prototype.slice.call(document.querySelectorAll(".card"));
  var status = nav.querySelector(".filter-status");

  function chosen() {
    var params = new URLSearchParams(window.location.search);
    return { actor: params.get("actor"), tag: params.get("tag") };
  }

  function apply() {
    var state = chosen();
    var shown = 0;
    cards.forEach(function (card) {
      var ok = (!state.actor || card.dataset.actors.split(" ").indexOf(state.actor) >= 0) &&
               (!state.tag || card.dataset.tags.split(" ").indexOf(state.tag) >= 0);
      card.hidden = !ok;
      if (ok) shown += 1;
    });
    document.querySelectorAll(".month, .year").forEach(function (section) {
      section.hidden = !section.querySelector(".card:not([hidden])");
    });
    nav.querySelectorAll("[data-filter] a").forEach(function (link) {
      var kind = link.closest("[data-filter]").dataset.filter;
      link.setAttribute("aria-pressed", String(state[kind] === link.dataset.value));
    });
    status.textContent = state.actor || state.tag
      ? shown + " of " + cards.length + " events shown. Choose again to clear the filter."
      : "";
  }

  nav.addEventListener("click", function (event) {
    var link = event.target.closest("[data-filter] a");
    if (!link) return;
    event.preventDefault();
    var kind = link.closest("[data-filter]").dataset.filter;
    var params = new URLSearchParams(window.location.search);
    if (params.get(kind) === link.dataset.value) params.delete(kind);
    else params.set(kind, link.dataset.value);
    var query = params.toString();
    history.pushState(null, "", query ? "?" + query : window.location.pathname);
    apply();
  });
  window.addEventListener("popstate", apply);
  apply();
})();
