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

// The edit form: the email preview follows what one types, through the form's Preview button
// (it posts the form into the preview's sandboxed frame; nothing is saved).
document.addEventListener('DOMContentLoaded', () => {
  const form = document.querySelector('form.edit');
  const button = document.getElementById('preview-button');
  if (!form || !button) return;
  let timer;
  form.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => form.requestSubmit(button), 600);
  });
});

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
