/*
 * pressroom: the press room's search box (lambdas/core/archive/search.ts). The press room
 * serves it as site/assets/search-<hash>.js, after MiniSearch's browser build
 * (templates/press-room/minisearch.js, a copy of minisearch/dist/umd/index.js). It loads
 * search/index.json and each year's index from the site's top, once, at the first use, and
 * shows the results under the form. Without it the form leads to search/index.html.
 */
(() => {
  const form = document.querySelector('form.site-search');
  const status = document.querySelector('.site-search-status');
  const list = document.querySelector('.site-search-list');
  if (!form || !status || !list || typeof MiniSearch === 'undefined' || !window.fetch) return;
  const input = form.querySelector('input[name="q"]');
  const top = new URL(form.getAttribute('data-root') || './', document.baseURI);
  const text = (name) => form.getAttribute(`data-${name}`) || '';
  const shown = 50;
  let loading = null;
  let timer = 0;

  /** The same as searchTerm in lambdas/core/archive/search.ts. */
  const termOf = (stopWords) => (term) => {
    const word = term
      .normalize('NFD')
      .replace(/\p{Diacritic}/gu, '')
      .toLowerCase()
      .replace(/œ/g, 'oe')
      .replace(/æ/g, 'ae');
    return word.length < 2 || stopWords.has(word) ? null : word;
  };

  const json = (path) =>
    fetch(new URL(path, top)).then((reply) => {
      if (!reply.ok) throw new Error(`${path}: ${reply.status}`);
      return reply.text();
    });

  /** Every year's index, loaded once (again after a failure). */
  function load() {
    if (!loading) {
      loading = json('search/index.json')
        .then((manifestText) => {
          const manifest = JSON.parse(manifestText);
          const options = { ...manifest.options, processTerm: termOf(new Set(manifest.stopWords)) };
          return Promise.all(
            manifest.years.map((year) =>
              json(`search/${year}.json`).then((index) => MiniSearch.loadJSON(index, options)),
            ),
          );
        })
        .catch((error) => {
          loading = null;
          throw error;
        });
    }
    return loading;
  }

  function show(query, results) {
    list.replaceChildren();
    if (query === '') {
      status.textContent = '';
      list.hidden = true;
      return;
    }
    for (const r of results.slice(0, shown)) {
      const item = document.createElement('li');
      const link = document.createElement('a');
      link.href = new URL(r.url, top).href;
      link.textContent = r.title;
      const date = document.createElement('span');
      date.className = 'site-search-date';
      date.textContent = r.dateText;
      const lead = document.createElement('p');
      lead.textContent = r.summary;
      if (r.lang) {
        link.lang = r.lang;
        lead.lang = r.lang;
      }
      item.append(link, ' ', date, lead);
      list.append(item);
    }
    list.hidden = results.length === 0;
    status.textContent =
      results.length === 0
        ? text('none')
        : results.length === 1
          ? text('one')
          : text('many').replace('{count}', results.length.toLocaleString(document.documentElement.lang));
  }

  function run() {
    const query = input.value.trim();
    if (query === '') {
      show('', []);
      return;
    }
    load().then(
      (indexes) => {
        // Newer input came meanwhile: its own run shows it.
        if (input.value.trim() !== query) return;
        const results = indexes
          .flatMap((index) => index.search(query))
          .sort((a, b) => b.score - a.score || b.date.localeCompare(a.date));
        show(query, results);
      },
      () => {
        list.replaceChildren();
        list.hidden = true;
        status.textContent = text('failed');
      },
    );
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearTimeout(timer);
    run();
  });
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(run, 250);
  });
  input.addEventListener('focus', () => {
    load().catch(() => {});
  });
  // Down from the box goes to the first result; up and down move between results.
  input.addEventListener('keydown', (event) => {
    const first = list.querySelector('a');
    if (event.key === 'ArrowDown' && first && !list.hidden) {
      event.preventDefault();
      first.focus();
    }
  });
  list.addEventListener('keydown', (event) => {
    const links = [...list.querySelectorAll('a')];
    const at = links.indexOf(document.activeElement);
    if (at < 0 || (event.key !== 'ArrowDown' && event.key !== 'ArrowUp')) return;
    event.preventDefault();
    const next = event.key === 'ArrowDown' ? links[at + 1] : links[at - 1];
    (next || (event.key === 'ArrowUp' ? input : links[at])).focus();
  });

  // The search page (the form's target without scripts) shows the results for ?q=.
  const asked = new URLSearchParams(location.search).get('q');
  if (asked) {
    input.value = asked;
    run();
  }
})();
