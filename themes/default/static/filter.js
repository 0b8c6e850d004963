// In-page filtering of the timeline by actor, tag and place. Without JavaScript the
// filter links lead to the actor's, tag's or place's own page; with it, on a page that
// holds every event of its list, they filter the cards here and keep the choice in the
// URL (?actor=slug&tag=slug&place=slug), so a filtered view can be bookmarked and shared.
// They stay ordinary links, so Tab and Enter work as everywhere else.
(function () {
  "use strict";
  var nav = document.querySelector(".filters[data-filterable]");
  if (!nav) return;
  var kinds = ["actor", "tag", "place"];
  var cards = Array.prototype.slice.call(document.querySelectorAll(".card"));
  var status = nav.querySelector(".filter-status");

  function chosen() {
    var params = new URLSearchParams(window.location.search);
    var state = {};
    kinds.forEach(function (kind) { state[kind] = params.get(kind); });
    return state;
  }

  function matches(card, state) {
    return kinds.every(function (kind) {
      return !state[kind] || card.dataset[kind + "s"].split(" ").indexOf(state[kind]) >= 0;
    });
  }

  function apply() {
    var state = chosen();
    var shown = 0;
    cards.forEach(function (card) {
      var ok = matches(card, state);
      card.hidden = !ok;
      if (ok) shown += 1;
    });
    document.querySelectorAll(".timeline .month, .timeline .year").forEach(function (section) {
      section.hidden = !section.querySelector(".card:not([hidden])");
    });
    var active = [];
    nav.querySelectorAll("[data-filter] a").forEach(function (link) {
      var kind = link.closest("[data-filter]").dataset.filter;
      var on = state[kind] === link.dataset.value;
      if (on) {
        link.setAttribute("aria-current", "true");
        active.push(link.firstChild.textContent.trim());
      } else {
        link.removeAttribute("aria-current");
      }
    });
    status.textContent = "";
    if (active.length) {
      status.appendChild(document.createTextNode(
        shown + " of " + cards.length + " events with " + active.join(" and ") + ". "));
      var clear = status.appendChild(document.createElement("a"));
      clear.href = window.location.pathname;
      clear.className = "clear";
      clear.textContent = "Show all events";
    }
  }

  function go(query) {
    history.pushState(null, "", query ? "?" + query : window.location.pathname);
    apply();
  }

  nav.addEventListener("click", function (event) {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button) return;
    if (event.target.closest(".clear")) {
      event.preventDefault();
      go("");
      return;
    }
    var link = event.target.closest("[data-filter] a");
    if (!link) return;
    event.preventDefault();
    var kind = link.closest("[data-filter]").dataset.filter;
    var params = new URLSearchParams(window.location.search);
    if (params.get(kind) === link.dataset.value) params.delete(kind);
    else params.set(kind, link.dataset.value);
    go(params.toString());
  });
  window.addEventListener("popstate", apply);
  apply();
})();
