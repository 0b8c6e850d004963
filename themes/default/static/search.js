// Full-text search of the events through the static Pagefind index in pagefind/.
// The box stays hidden without JavaScript and when the page is opened from disk
// (file://), where browsers refuse to load the index; served over http it appears, and
// the index starts loading when the box gets the focus (or on the first keystroke), so
// pages where nobody goes to search load nothing, and the first search does not wait
// for the index while the query is typed.
(function () {
  "use strict";
  var form = document.querySelector("form.search");
  if (!form || !/^https?:$/.test(window.location.protocol)) return;
  var input = form.querySelector("input");
  var list = form.querySelector(".search-results");
  var root = new URL(form.dataset.root || "./", document.baseURI);
  var loading = null;
  var latest = 0;
  form.hidden = false;

  // The index is in shards (pagefind/shards.json lists their folders): the first one's
  // pagefind.js searches, and the others are merged into it, so one search covers all.
  function pagefind() {
    if (!loading) {
      loading = fetch(new URL("pagefind/shards.json", root)).then(function (response) {
        if (!response.ok) throw new Error("no search index");
        return response.json();
      }).then(function (shards) {
        if (!shards.length) return null;  // a site without events: nothing to find
        var paths = shards.map(function (name) {
          return new URL("pagefind/" + name + "/", root).pathname;
        });
        return import(paths[0] + "pagefind.js").then(function (module) {
          var options = { baseUrl: root.pathname };
          return module.options(options).then(function () {
            // init() starts loading the first shard's index now, not at the first search.
            return Promise.all([module.init()].concat(paths.slice(1).map(function (path) {
              return module.mergeIndex(path, options);
            })));
          }).then(function () { return module; });
        });
      });
    }
    return loading;
  }

  // Pagefind marks the matched words with <mark>; copy only text and those marks, so
  // nothing in an excerpt can become markup of the page.
  function excerpt(html) {
    var parsed = new DOMParser().parseFromString(html, "text/html").body;
    var out = document.createElement("p");
    parsed.childNodes.forEach(function (node) {
      if (node.nodeName === "MARK") {
        out.appendChild(document.createElement("mark")).textContent = node.textContent;
      } else {
        out.appendChild(document.createTextNode(node.textContent));
      }
    });
    return out;
  }

  function show(results, query) {
    list.textContent = "";
    if (!results.length) {
      list.appendChild(document.createElement("li")).textContent = "No event matches “" + query + "”.";
      return;
    }
    results.forEach(function (data) {
      var item = list.appendChild(document.createElement("li"));
      var link = item.appendChild(document.createElement("a"));
      link.href = data.url;
      link.textContent = data.meta.title || data.url;
      if (data.meta.date) {
        item.appendChild(document.createElement("span")).textContent = " " + data.meta.date;
      }
      item.appendChild(excerpt(data.excerpt));
    });
  }

  function search() {
    var query = input.value.trim();
    var ticket = ++latest;
    if (!query) {
      list.textContent = "";
      return;
    }
    pagefind().then(function (module) {
      return module ? module.search(query) : { results: [] };
    }).then(function (found) {
      return Promise.all(found.results.slice(0, 10).map(function (r) { return r.data(); }));
    }).then(function (results) {
      if (ticket === latest) show(results, query);  // an older, slower answer is dropped
    }).catch(function () {
      list.textContent = "";
      list.appendChild(document.createElement("li")).textContent =
        "Search is not available here: the site was built without its search index.";
    });
  }

  // A failure to load is reported by the search that needs the index, not here.
  input.addEventListener("focus", function () { pagefind().catch(function () {}); });
  form.addEventListener("submit", function (event) { event.preventDefault(); search(); });
  input.addEventListener("input", search);
  input.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { input.value = ""; list.textContent = ""; }
  });
})();
