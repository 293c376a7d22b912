// The search page. It reads index.json (shard boundaries), one shard per query word and one or two
// small files per shown result; a query of several words also reads its rarest word's pages and,
// for those pages only, the other words' by-reference files. So a query downloads about the same
// bytes however big the site grows (the index is written by producers/build/search.py; words are
// cut and folded the same way there).
// Page text comes from content, so it only ever reaches the page as text nodes.
(function () {
  "use strict";

  var TOKEN = /[\p{L}\p{M}\p{N}]+/gu;
  var INVISIBLE = /[\u200c\u200d\u00ad\u200b]/g;
  var SHOWN_PER_STEP = 10;
  var MAX_PREFIX_WORDS = 20;
  var EXCERPT_WINDOW = 260;
  var MAX_ROUNDS_PER_STEP = 3;    // the rarest word's first block and two more-files: up to 440 pages

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
               blocks: item.entry[4] || 0, bits: item.entry[5] || 0, loaded: 0, weight: item.weight };
    });
  };

  // The union of what is read of each word's postings, best first: pages with more query words
  // first. This orders what follows the pages holding every word.
  Search.prototype.rank = function () {
    var total = this.manifest.docs, byRef = new Map();
    this.query.forEach(function (group) {
      var best = new Map();
      group.forEach(function (entry) {
        var idf = Math.log(1 + total / entry.df);
        for (var i = 0; i < entry.postings.length; i += 3) {
          var score = entry.weight * idf * entry.postings[i + 1] / 1000, old = best.get(entry.postings[i]);
          if (!old || old.score < score) best.set(entry.postings[i], { score: score, mask: entry.postings[i + 2] });
        }
      });
      best.forEach(function (found, ref) {
        var hit = byRef.get(ref) || { ref: ref, matched: 0, score: 0, masks: [] };
        hit.matched += 1; hit.score += found.score; hit.masks.push(found.mask); byRef.set(ref, hit);
      });
    });
    return Array.from(byRef.values()).sort(byScore);
  };

  function byScore(a, b) {
    return b.matched - a.matched || b.score - a.score || (a.ref < b.ref ? -1 : 1);
  }

  Search.prototype.remainingBlocks = function () {
    return this.query.some(function (group) { return group.some(function (e) { return e.loaded < e.blocks; }); });
  };

  // Pages holding every query word: the rarest word's pages, best first, a block at a time, each
  // checked against the other words (rarest next) in the by-reference files its reference falls in.
  // The word being typed counts its completions' best postings too, but is checked in full only as
  // typed. Null for one word (its best-first postings are the answer) or a word found nowhere.
  Search.prototype.plan = function (groups) {
    if (groups.length < 2 || groups.some(function (group) { return !group.length; })) return null;
    var exact = groups.map(function (group) { return group.filter(function (e) { return e.weight === 1; })[0]; });
    var order = groups.map(function (group, i) { return i; }).filter(function (i) { return exact[i]; });
    order.sort(function (a, b) { return exact[a].df - exact[b].df; });
    var driver = exact[order[0]], total = this.manifest.docs;
    return {
      driver: driver, idf: Math.log(1 + total / driver.df), postings: driver.postings, next: 0, blocks: 0,
      others: groups.map(function (group, i) { return i; }).filter(function (i) { return i !== order[0]; })
        .sort(function (a, b) { return (exact[a] ? exact[a].df : total) - (exact[b] ? exact[b].df : total); })
        .map(function (i) { return groups[i]; }),
      found: [], exhausted: false
    };
  };

  Search.prototype.conjoin = async function (plan) {
    var total = this.manifest.docs;
    if (plan.next >= plan.postings.length) {
      if (plan.blocks >= plan.driver.blocks) { plan.exhausted = true; return; }
      plan.blocks += 1;
      var block = await this.file("m/" + plan.driver.file + "-" + plan.blocks + ".json");
      plan.postings = plan.postings.concat(block);
    }
    var candidates = [];
    for (var i = plan.next; i < plan.postings.length; i += 3) {
      candidates.push({ ref: plan.postings[i], matched: this.query.length, score: plan.idf * plan.postings[i + 1] / 1000,
                        masks: [plan.postings[i + 2]] });
    }
    plan.next = plan.postings.length;
    for (var g = 0; g < plan.others.length && candidates.length; g++) {
      var hits = await this.lookup(plan.others[g], candidates, total);
      candidates = candidates.filter(function (candidate) {
        var hit = hits.get(candidate.ref);
        if (!hit) return false;
        candidate.score += hit.score; candidate.masks.push(hit.mask);
        return true;
      });
    }
    candidates.forEach(function (candidate) { plan.found.push(candidate); });
    if (plan.next >= plan.postings.length && plan.blocks >= plan.driver.blocks) plan.exhausted = true;
  };

  // For each candidate page holding one of the group's words: its best weighted score and mask.
  Search.prototype.lookup = async function (group, candidates, total) {
    var self = this, wanted = new Set(candidates.map(function (c) { return c.ref; })), hits = new Map();
    function take(entry, postings) {
      var idf = Math.log(1 + total / entry.df);
      for (var i = 0; i < postings.length; i += 3) {
        if (!wanted.has(postings[i])) continue;
        var score = entry.weight * idf * postings[i + 1] / 1000, old = hits.get(postings[i]);
        if (!old || old.score < score) hits.set(postings[i], { score: score, mask: postings[i + 2] });
      }
    }
    await Promise.all(group.map(async function (entry) {
      if (entry.weight !== 1 || !entry.blocks) { take(entry, entry.postings); return; }
      var chunks = new Set();
      wanted.forEach(function (ref) { chunks.add(Math.floor(parseInt(ref.slice(0, 8), 16) / Math.pow(2, 32 - entry.bits))); });
      var files = await Promise.all(Array.from(chunks, function (n) { return self.file("r/" + entry.file + "-" + n + ".json"); }));
      files.forEach(function (postings) { take(entry, postings); });
    }));
    return hits;
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
    this.results = [];
    this.conjunction = this.plan(groups);
    await this.showMore();
  };

  Search.prototype.showMore = async function () {
    var generation = this.generation, self = this, plan = this.conjunction;
    var wanted = this.shown + SHOWN_PER_STEP;
    for (var round = 0; plan && !plan.exhausted && plan.found.length < wanted; round++) {
      // words that seldom meet: stop after a few blocks of candidates, so a step's bytes stay
      // bounded by the candidates checked, not by the words' document counts
      if (round === MAX_ROUNDS_PER_STEP) { plan.exhausted = true; break; }
      await this.conjoin(plan);
      if (generation !== this.generation) return;
    }
    // then, once every page holding all the words is found, the pages holding some of them: read
    // more postings until this step can be filled (or every block of every word is read)
    var partial = !plan || plan.exhausted;
    var full = plan ? plan.found.slice().sort(byScore) : [];
    var fullRefs = new Set(full.map(function (hit) { return hit.ref; }));
    var ranked = function () {
      return full.concat(partial ? self.rank().filter(function (hit) { return !fullRefs.has(hit.ref); }) : []);
    };
    var candidates = ranked();
    while (partial && candidates.length < wanted && this.remainingBlocks()) {
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
      candidates = ranked();
    }
    // results already shown keep their places; the newly found ones are ranked after them
    var seen = new Set(this.results.slice(0, this.shown).map(function (hit) { return hit.ref; }));
    this.results = this.results.slice(0, this.shown).concat(candidates.filter(function (hit) { return !seen.has(hit.ref); }));
    var batch = this.results.slice(this.shown, this.shown + SHOWN_PER_STEP);
    this.shown += batch.length;
    var docs = await Promise.all(batch.map(function (hit) { return self.passage(hit); }));
    if (generation !== this.generation) return;
    docs.forEach(function (doc) { self.list.appendChild(self.item(doc)); });
    var unread = (plan && !plan.exhausted) || (partial && this.remainingBlocks());
    this.status.textContent = this.results.length
      ? this.form.dataset.count.replace("{n}", this.results.length + (unread ? "+" : ""))
      : this.form.dataset.none;
    this.more.hidden = !(this.shown < this.results.length || unread);
  };

  // The result's title and URL, and the text group holding the most query words (from the
  // postings' masks; the first group when the words are only in the title).
  Search.prototype.passage = async function (hit) {
    var best = 0, bestCount = 0;
    for (var bit = 0; bit < 31; bit++) {
      var count = hit.masks.filter(function (mask) { return (mask >>> bit) & 1; }).length;
      if (count > bestCount) { best = bit; bestCount = count; }
    }
    var doc = await this.file("d/" + hit.ref + (best ? "-" + best : "") + ".json");
    return { url: doc.url, title: doc.title, text: doc.text, later: best > 0 };
  };

  // Which query word a token of the page is (-1 for none): itself, typed without its marks, or
  // the start of the word being typed.
  Search.prototype.matches = function (token) {
    var key = normalise(token), folded = fold(key), last = this.words.length - 1;
    for (var i = 0; i < this.words.length; i++) {
      var word = this.words[i];
      if (key === word || folded === word) return i;
      if (i === last && (key.startsWith(word) || folded.startsWith(word))) return i;
    }
    return -1;
  };

  // Title and the excerpt window holding the most distinct query words, matches marked; text
  // nodes only (page text comes from content).
  Search.prototype.item = function (doc) {
    var li = document.createElement("li"), link = document.createElement("a"), excerpt = document.createElement("p");
    li.className = "c35-search-result";
    link.href = new URL(doc.url, this.root).href;
    link.textContent = doc.title;
    var text = doc.text, spans = [], match, which;
    TOKEN.lastIndex = 0;
    while ((match = TOKEN.exec(text)) !== null) {
      which = this.matches(match[0]);
      if (which >= 0) spans.push([match.index, match.index + match[0].length, which]);
    }
    var first = 0, bestWords = 0;
    spans.forEach(function (span, i) {
      var distinct = new Set();
      for (var j = i; j < spans.length && spans[j][1] <= span[0] + EXCERPT_WINDOW - 60; j++) distinct.add(spans[j][2]);
      if (distinct.size > bestWords) { bestWords = distinct.size; first = i; }
    });
    var start = spans.length ? Math.max(0, spans[first][0] - 60) : 0;
    var end = Math.min(text.length, start + EXCERPT_WINDOW);
    if (start > 0) { while (start < spans[first][0] && !/\s/.test(text[start - 1])) start++; }
    var cursor = start;
    if (start > 0 || doc.later) excerpt.append("… ");
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
