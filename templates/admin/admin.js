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
