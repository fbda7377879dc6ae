// The admin's one script (served at /admin/assets/admin.js; the pages run no inline script).
// The releases' search box refreshes the list as one types: it asks the server for the same
// page and takes its results, so that the list is rendered in one place (the template).
// Without this script, the search form works as a plain GET form.

document.addEventListener('DOMContentLoaded', () => {
  const input = document.querySelector('input[data-live-search]');
  const results = document.getElementById('results');
  if (!input || !results) return;
  let timer;
  let asked = 0;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const url = new URL(location.href);
      if (input.value) url.searchParams.set('q', input.value);
      else url.searchParams.delete('q');
      const mine = ++asked;
      const response = await fetch(url, { credentials: 'same-origin', headers: { accept: 'text/html' } });
      if (!response.ok || mine !== asked) return;
      const page = new DOMParser().parseFromString(await response.text(), 'text/html');
      const fresh = page.getElementById('results');
      if (!fresh) return;
      results.replaceChildren(...Array.from(fresh.childNodes).map((n) => document.importNode(n, true)));
      history.replaceState(null, '', url);
    }, 250);
  });
});

// The edit and create forms: the preview follows what one types. A moment after each change,
// the script presses the form's preview buttons, which post the form into the frames of the
// desktop and phone email, the text part and the page (nothing is saved). One after the
// other, each once the previous frame has loaded: a form submitted again before its
// navigation starts cancels the one before. Without this script, a person presses them.
document.addEventListener('DOMContentLoaded', () => {
  const form = document.querySelector('form.edit');
  const buttons = Array.from(document.querySelectorAll('button[data-preview]'));
  if (!form || buttons.length === 0) return;
  let timer;
  let round = 0;
  const refresh = async () => {
    const mine = ++round;
    for (const button of buttons) {
      if (mine !== round) return;
      const frame = document.querySelector(`iframe[name="${button.formTarget}"]`);
      const loaded = new Promise((resolve) => {
        frame?.addEventListener('load', resolve, { once: true });
        setTimeout(resolve, 5000);
      });
      form.requestSubmit(button);
      await loaded;
    }
  };
  form.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 600);
  });
});

// ---- release forms: the Markdown toolbar of the body ----
// Its buttons put Markdown around the selection of the body (bold, italic, link) or at the
// start of its lines (heading, list, quote), then give the focus back to the text, the new
// Markdown selected. The toolbar is one tab stop: the arrow keys, Home and End move along it.
// Without this script it stays hidden, and Markdown is typed by hand.
document.addEventListener('DOMContentLoaded', () => {
  const toolbar = document.querySelector('.md-toolbar');
  const body = document.getElementById('f-body');
  if (!toolbar || !body) return;
  toolbar.hidden = false;
  const buttons = Array.from(toolbar.querySelectorAll('button[data-md]'));
  const around = { bold: ['**', '**'], italic: ['_', '_'], link: ['[', '](https://)'] };
  const lineStart = { heading: '## ', list: '- ', quote: '> ' };
  const apply = (kind) => {
    const { selectionStart: start, selectionEnd: end, value } = body;
    const chosen = value.slice(start, end);
    if (around[kind]) {
      const [before, after] = around[kind];
      body.setRangeText(before + chosen + after, start, end, 'end');
      // The words selected again, or the address to type for a link.
      if (kind === 'link')
        body.setSelectionRange(
          start + before.length + chosen.length + 2,
          start + before.length + chosen.length + after.length - 1,
        );
      else body.setSelectionRange(start + before.length, start + before.length + chosen.length);
    } else {
      const from = value.lastIndexOf('\n', start - 1) + 1;
      const lines = value
        .slice(from, end)
        .split('\n')
        .map((line) => lineStart[kind] + line)
        .join('\n');
      body.setRangeText(lines, from, end, 'select');
    }
    body.focus();
    body.dispatchEvent(new Event('input', { bubbles: true }));
  };
  for (const button of buttons) button.addEventListener('click', () => apply(button.dataset.md));
  toolbar.addEventListener('keydown', (event) => {
    const at = buttons.indexOf(document.activeElement);
    if (at < 0) return;
    const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: buttons.length - 1 }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    const next = buttons[(to + buttons.length) % buttons.length];
    for (const b of buttons) b.tabIndex = b === next ? 0 : -1;
    next.focus();
  });
});
// ---- end of the release forms ----
// campaigns: the progress page asks the JSON route every two seconds and fills its figures
// (elements with data-progress="field"), until the campaign is finished, paused or stopped.
// Without this script, the page's Refresh link reloads it.
document.addEventListener('DOMContentLoaded', () => {
  const box = document.getElementById('progress');
  const url = box?.getAttribute('data-progress-url');
  if (!box || !url) return;
  const bar = document.getElementById('progress-bar');
  const tick = async () => {
    const response = await fetch(url, {
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
    });
    if (!response.ok) return;
    const p = await response.json();
    const labels = JSON.parse(box.getAttribute('data-labels') || '{}');
    const label = labels[p.finished ? 'finished' : p.state] || p.state;
    for (const el of box.querySelectorAll('[data-progress]')) {
      const field = el.getAttribute('data-progress');
      const value = field === 'stateLabel' ? label : p[field];
      el.textContent = value === undefined || value === '' ? '—' : String(value);
    }
    if (bar) {
      bar.setAttribute('max', String(p.audience));
      bar.setAttribute('value', String(p.sent));
    }
    if (p.running || p.state === 'sending') setTimeout(tick, 2000);
  };
  setTimeout(tick, 1000);
});
