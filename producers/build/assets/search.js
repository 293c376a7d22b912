// The search page. It reads index.json (shard boundaries), one shard per query word and one small
// file per shown result, so a query downloads about the same bytes however big the site grows
// (the index is written by producers/search.py; words are cut and folded the same way there).
// Page text comes from content, so it only ever reaches the page as text nodes.
(function () {
  "use strict";

  var TOKEN = /[\p{L}\p{M}\p{N}]+/gu;
  var INVISIBLE = /[\u200c\u200d\u00ad\u200b]/g;
  var SHOWN_PER_STEP = 10;
  var MAX_PREFIX_WORDS = 20;

  function normalise(text) { return text.replace(INVISIBLE, "").normalize("NFC").toLowerCase(); }
  function fold(word) {
    return word.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").normalize("NFC");
  }
  function words(text) { return normalise(text).match(TOKEN) || []; }

  var files = new Map();
  function load(url) {
    if (!files.has(url)) {
      files.set(url, fetch(url).then(function (response) {
        if (!response.ok) throw new Error(url + ": HTTP " + response.status);
        return response.json();
      }));
    }
    return files.get(url);
  }

  function Search(form) {
    this.form = form;
    this.base = new URL(form.dataset.index, window.location.href);
    this.root = new URL(form.dataset.root, window.location.href);
    this.input = form.querySelector("input");
    this.status = form.querySelector(".c35-search-status");
    this.list = form.querySelector(".c35-search-results");
    this.more = form.querySelector(".c35-search-more");
    this.more.textContent = form.dataset.more;
    this.generation = 0;
  }

  Search.prototype.file = function (path) { return load(new URL(path, this.base).href); };

  // The shard whose first word is the last one <= word (strings compare by UTF-16 code units,
  // which is how search.py sorts them).
  Search.prototype.shardIndex = function (manifest, word) {
    var shards = manifest.shards, low = 0, high = shards.length - 1;
    while (low < high) {
      var middle = (low + high + 1) >> 1;
      if (shards[middle][0] <= word) low = middle; else high = middle - 1;
    }
    return low;
  };

  // Index entries for one query word: the word itself, or (for the word being typed) every word
  // it begins, up to MAX_PREFIX_WORDS, reading the next shard when the range runs past this one.
  Search.prototype.entries = async function (manifest, word, prefix) {
    var found = [], index = this.shardIndex(manifest, word);
    for (var step = 0; step < 2 && index < manifest.shards.length; step++, index++) {
      var shard = await this.file("s/" + manifest.shards[index][1] + ".json");
      var ranOut = true;
      for (var i = 0; i < shard.length; i++) {
        var key = shard[i][0];
        if (key === word) found.push({ entry: shard[i], weight: 1 });
        else if (prefix && key.startsWith(word) && found.length < MAX_PREFIX_WORDS) found.push({ entry: shard[i], weight: 0.6 });
        else if (key > word && !key.startsWith(word)) { ranOut = false; break; }
      }
      if (!prefix || !ranOut || found.length >= MAX_PREFIX_WORDS) break;
    }
    return found.map(function (item) {
      return { word: item.entry[0], df: item.entry[1], postings: item.entry[2], file: item.entry[3],
               blocks: item.entry[4] || 0, loaded: 0, weight: item.weight };
    });
  };

  Search.prototype.rank = function () {
    var total = this.manifest.docs, byRef = new Map(), query = this.query;
    query.forEach(function (group, position) {
      var best = new Map();
      group.forEach(function (entry) {
        var idf = Math.log(1 + total / entry.df);
        for (var i = 0; i < entry.postings.length; i += 2) {
          var score = entry.weight * idf * entry.postings[i + 1] / 1000;
          if (!(best.get(entry.postings[i]) >= score)) best.set(entry.postings[i], score);
        }
      });
      best.forEach(function (score, ref) {
        var hit = byRef.get(ref) || { ref: ref, matched: 0, score: 0 };
        hit.matched += 1; hit.score += score; byRef.set(ref, hit);
      });
    });
    return Array.from(byRef.values()).sort(function (a, b) {
      return b.matched - a.matched || b.score - a.score || (a.ref < b.ref ? -1 : 1);
    });
  };

  Search.prototype.remainingBlocks = function () {
    return this.query.some(function (group) { return group.some(function (e) { return e.loaded < e.blocks; }); });
  };

  Search.prototype.run = async function (text) {
    var generation = ++this.generation, self = this;
    var query = Array.from(new Set(words(text))).slice(0, 8);
    this.list.replaceChildren();
    this.more.hidden = true;
    this.status.textContent = "";
    if (!query.length) return;
    var typing = !/\s$/.test(text);
    this.manifest = await this.file("index.json");
    var groups = await Promise.all(query.map(function (word, i) {
      return self.entries(self.manifest, word, typing && i === query.length - 1);
    }));
    if (generation !== this.generation) return;
    this.words = query;
    this.query = groups;
    this.shown = 0;
    this.results = this.rank();
    await this.showMore();
  };

  Search.prototype.showMore = async function () {
    var generation = this.generation, self = this;
    // read more postings until this step can be filled (or every block of every word is read)
    while (this.shown + SHOWN_PER_STEP > this.results.length && this.remainingBlocks()) {
      var loads = [];
      this.query.forEach(function (group) {
        group.forEach(function (entry) {
          if (entry.loaded < entry.blocks) {
            entry.loaded += 1;
            loads.push(self.file("m/" + entry.file + "-" + entry.loaded + ".json").then(function (block) {
              entry.postings = entry.postings.concat(block);
            }));
          }
        });
      });
      await Promise.all(loads);
      if (generation !== this.generation) return;
      // results already shown keep their places; the newly read ones are ranked after them
      var seen = new Set(this.results.slice(0, this.shown).map(function (hit) { return hit.ref; }));
      this.results = this.results.slice(0, this.shown).concat(
        this.rank().filter(function (hit) { return !seen.has(hit.ref); }));
    }
    var batch = this.results.slice(this.shown, this.shown + SHOWN_PER_STEP);
    this.shown += batch.length;
    var docs = await Promise.all(batch.map(function (hit) { return self.file("d/" + hit.ref + ".json"); }));
    if (generation !== this.generation) return;
    docs.forEach(function (doc) { self.list.appendChild(self.item(doc)); });
    var more = this.shown < this.results.length || this.remainingBlocks();
    this.status.textContent = this.results.length
      ? this.form.dataset.count.replace("{n}", this.results.length + (this.remainingBlocks() ? "+" : ""))
      : this.form.dataset.none;
    this.more.hidden = !more;
  };

  Search.prototype.matches = function (token) {
    var key = normalise(token), folded = fold(key), last = this.words.length - 1;
    return this.words.some(function (word, i) {
      if (key === word || folded === word) return true;
      return i === last && (key.startsWith(word) || folded.startsWith(word));
    });
  };

  // Title and an excerpt around the first matching word, matches marked; text nodes only.
  Search.prototype.item = function (doc) {
    var li = document.createElement("li"), link = document.createElement("a"), excerpt = document.createElement("p");
    li.className = "c35-search-result";
    link.href = new URL(doc.url, this.root).href;
    link.textContent = doc.title;
    var text = doc.text, spans = [], match;
    TOKEN.lastIndex = 0;
    while ((match = TOKEN.exec(text)) !== null) {
      if (this.matches(match[0])) spans.push([match.index, match.index + match[0].length]);
    }
    var start = spans.length ? Math.max(0, spans[0][0] - 60) : 0;
    var end = Math.min(text.length, start + 260);
    if (start > 0) { while (start < spans[0][0] && !/\s/.test(text[start - 1])) start++; }
    var cursor = start;
    if (start > 0) excerpt.append("… ");
    spans.forEach(function (span) {
      if (span[0] < cursor || span[1] > end) return;
      excerpt.append(text.slice(cursor, span[0]));
      var mark = document.createElement("mark");
      mark.textContent = text.slice(span[0], span[1]);
      excerpt.append(mark);
      cursor = span[1];
    });
    excerpt.append(text.slice(cursor, end) + (end < text.length ? " …" : ""));
    li.append(link, excerpt);
    return li;
  };

  // For tests: the tokeniser search.py must agree with.
  window.cell35Search = { words: words, fold: fold };

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("c35-search");
    if (!form) return;
    var search = new Search(form), timer = null;
    function report(error) { search.status.textContent = String(error.message || error); }
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    search.input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var url = new URL(window.location.href);
        if (search.input.value) url.searchParams.set("q", search.input.value); else url.searchParams.delete("q");
        history.replaceState(null, "", url);
        search.run(search.input.value).catch(report);
      }, 150);
    });
    search.more.addEventListener("click", function () { search.showMore().catch(report); });
    var initial = new URLSearchParams(window.location.search).get("q");
    if (initial) { search.input.value = initial; search.run(initial + " ").catch(report); }
  });
})();
