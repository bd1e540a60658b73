// Switchyard demo page: vanilla JS, no build step, no third-party code.
// Each <section data-model="..." data-kind="text|image"> is one panel. Its model selector lists
// the names in `data-models` (comma-separated), or just `data-model`.

const $ = (id) => document.getElementById(id);

const percent = new Intl.NumberFormat(undefined, {
  style: 'percent',
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
});
const millis = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const smallMillis = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

/** Text with the given class in a new element. */
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Builds a panel's model selector and keeps its readiness badge up to date. */
function setUpModelPicker(section, prefix) {
  const select = $(`${prefix}-model`);
  const names = (section.dataset.models || section.dataset.model || '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names) select.append(new Option(name, name, name === section.dataset.model));
  select.addEventListener('change', () => {
    section.dataset.model = select.value;
    checkReady(select.value, $(`${prefix}-status`));
  });
  checkReady(select.value, $(`${prefix}-status`));
  return () => select.value;
}

/** `GET /v2/models/{m}/ready`, then the metadata for a one-line description. */
async function checkReady(model, badge) {
  badge.dataset.state = 'unknown';
  badge.textContent = 'checking…';
  badge.title = '';
  try {
    const res = await fetch(`v2/models/${encodeURIComponent(model)}/ready`);
    const body = await res.json().catch(() => ({}));
    if (res.ok && body.ready) {
      badge.dataset.state = 'ready';
      badge.textContent = 'ready';
      const meta = await fetch(`v2/models/${encodeURIComponent(model)}`).then((r) => (r.ok ? r.json() : undefined));
      if (meta) {
        badge.title = `${meta.name} · versions ${meta.versions.join(', ')} · ${meta.platform}`;
        badge.textContent = `ready · v${meta.versions.at(-1)}`;
      }
    } else {
      badge.dataset.state = 'down';
      badge.textContent = res.status === 404 ? 'not found' : 'not ready';
      badge.title = body.error ?? '';
    }
  } catch {
    badge.dataset.state = 'down';
    badge.textContent = 'unreachable';
  }
}

/**
 * `Authorization` for the predict route when a key was typed in. With AUTH on, scoring a model
 * directly (not through an endpoint) takes the admin key. It stays in this page's memory only.
 */
function authHeaders() {
  const key = $('api-key').value.trim();
  return key ? { authorization: `Bearer ${key}` } : {};
}

/**
 * POSTs to the friendly predict route. Resolves with the parsed body; rejects with an Error
 * whose message is the API's `error` field (or a description of what went wrong).
 */
async function predict(model, init) {
  const started = performance.now();
  let res;
  try {
    const headers = { ...init.headers, ...authHeaders() };
    res = await fetch(`v1/models/${encodeURIComponent(model)}:predict`, { method: 'POST', ...init, headers });
  } catch (err) {
    throw new Error(`Could not reach the API: ${err.message}`, { cause: err });
  }
  const text = await res.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const message = body && typeof body.error === 'string' ? body.error : text || res.statusText;
    const hint = res.status === 401 || res.status === 403 ? ' (enter the admin key above)' : '';
    throw new Error(`${res.status}: ${message}${hint}`);
  }
  if (!body || !Array.isArray(body.predictions)) throw new Error('The API answered without predictions.');
  return { body, roundTripMs: performance.now() - started };
}

/** Shows or clears a panel's error box. */
function showError(box, message) {
  box.hidden = !message;
  box.textContent = message ?? '';
}

/** A horizontal bar for a score in [0, 1]; the width is set through the CSSOM (CSP-safe). */
function scoreBar(score) {
  const bar = el('span', 'bar');
  bar.setAttribute('aria-hidden', 'true');
  const fill = el('span', 'bar-fill');
  fill.style.setProperty('--score', String(Math.max(0, Math.min(1, score))));
  bar.append(fill);
  return bar;
}

function scoreLine(score) {
  const line = el('div', 'score');
  line.append(scoreBar(score), el('span', 'score-value', percent.format(score)));
  return line;
}

/** Fills a <dl> with the server's timings and the browser's round trip. */
function showTimings(dl, timings, roundTripMs) {
  dl.replaceChildren();
  const rows = [
    ['queue', timings.queue],
    ['preprocess', timings.preprocess],
    ['inference', timings.inference],
    ['total', timings.total],
    ['round trip', roundTripMs],
  ];
  for (const [name, value] of rows) {
    if (typeof value !== 'number') continue;
    const item = el('div', `timing timing-${name.replace(' ', '-')}`);
    item.append(el('dt', '', name), el('dd', '', `${(value < 1 ? smallMillis : millis).format(value)} ms`));
    dl.append(item);
  }
  if (typeof timings.batchSize === 'number') {
    const item = el('div', 'timing timing-batch');
    item.append(el('dt', '', 'batch'), el('dd', '', String(timings.batchSize)));
    dl.append(item);
  }
  dl.hidden = false;
}

function readTopK(input) {
  const n = Number(input.value);
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

/** Marks a panel busy while a request runs (for screen readers and the button state). */
async function busy(output, button, work) {
  output.setAttribute('aria-busy', 'true');
  output.classList.add('loading');
  button.disabled = true;
  try {
    await work();
  } finally {
    output.setAttribute('aria-busy', 'false');
    output.classList.remove('loading');
    button.disabled = false;
  }
}

// ---- FAQ matching ---------------------------------------------------------------------------

function setUpFaq() {
  const section = $('faq');
  const modelOf = setUpModelPicker(section, 'faq');
  const form = $('faq-form');
  const input = $('faq-question');
  const button = $('faq-submit');
  const errorBox = $('faq-error');
  const results = $('faq-results');
  const timings = $('faq-timings');

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) {
      results.replaceChildren();
      timings.hidden = true;
      showError(errorBox, 'Type a question first.');
      input.focus();
      return;
    }
    showError(errorBox);
    const topK = readTopK($('faq-topk'));
    await busy($('faq-output'), button, async () => {
      try {
        const { body, roundTripMs } = await predict(modelOf(), {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text, ...(topK ? { parameters: { top_k: topK } } : {}) }),
        });
        renderFaq(results, body.predictions[0]);
        showTimings(timings, body.timings_ms ?? {}, roundTripMs);
      } catch (err) {
        results.replaceChildren();
        timings.hidden = true;
        showError(errorBox, err.message);
      }
    });
  });

  for (const chip of $('faq-examples').querySelectorAll('button')) {
    chip.addEventListener('click', () => {
      input.value = chip.textContent;
      form.requestSubmit();
    });
  }
}

function renderFaq(list, prediction) {
  list.replaceChildren();
  const matches = prediction?.top_k ?? [];
  if (matches.length === 0) {
    list.append(el('li', 'empty', 'No matches.'));
    return;
  }
  matches.forEach((match, rank) => {
    const item = el('li', rank === 0 ? 'result best' : 'result');
    item.dataset.id = match.id ?? match.label;
    const head = el('div', 'result-head');
    head.append(el('span', 'rank', `#${rank + 1}`), el('h3', 'question', match.question ?? match.label));
    item.append(head);
    if (match.answer) item.append(el('p', 'answer', match.answer));
    const foot = el('div', 'result-foot');
    foot.append(scoreLine(match.score), el('code', 'result-id', match.id ?? match.label));
    item.append(foot);
    list.append(item);
  });
}

// ---- Image classification -------------------------------------------------------------------

function setUpImage() {
  const section = $('image');
  const modelOf = setUpModelPicker(section, 'image');
  const form = $('image-form');
  const fileInput = $('image-file');
  const drop = $('image-drop');
  const button = $('image-submit');
  const errorBox = $('image-error');
  const results = $('image-results');
  const timings = $('image-timings');
  const previewBox = $('image-preview-box');
  const preview = $('image-preview');
  let file;
  let previewUrl;

  function choose(chosen) {
    if (!chosen) return;
    file = chosen;
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = undefined;
    if (file.type.startsWith('image/')) {
      previewUrl = URL.createObjectURL(file);
      preview.src = previewUrl;
      preview.alt = `Preview of ${file.name}`;
    } else {
      preview.removeAttribute('src');
      preview.alt = '';
    }
    preview.hidden = !previewUrl;
    $('image-no-preview').hidden = Boolean(previewUrl);
    $('image-name').textContent = file.name;
    previewBox.hidden = false;
    // Results for the previous image would be misleading next to the new preview.
    results.replaceChildren();
    timings.hidden = true;
    button.disabled = false;
    form.requestSubmit();
  }

  fileInput.addEventListener('change', () => choose(fileInput.files?.[0]));

  for (const type of ['dragenter', 'dragover']) {
    drop.addEventListener(type, (event) => {
      event.preventDefault();
      drop.classList.add('dragging');
    });
  }
  for (const type of ['dragleave', 'dragend', 'drop']) {
    drop.addEventListener(type, () => drop.classList.remove('dragging'));
  }
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    choose(event.dataTransfer?.files?.[0]);
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!file) {
      showError(errorBox, 'Choose an image first.');
      return;
    }
    showError(errorBox);
    const data = new FormData();
    data.append('file', file, file.name);
    const topK = readTopK($('image-topk'));
    if (topK) data.append('top_k', String(topK));
    await busy($('image-output'), button, async () => {
      try {
        const { body, roundTripMs } = await predict(modelOf(), { body: data });
        renderClasses(results, body.predictions[0]);
        showTimings(timings, body.timings_ms ?? {}, roundTripMs);
      } catch (err) {
        results.replaceChildren();
        timings.hidden = true;
        showError(errorBox, err.message);
      }
    });
  });
}

function renderClasses(list, prediction) {
  list.replaceChildren();
  const classes = prediction?.top_k ?? [];
  classes.forEach((entry, rank) => {
    const item = el('li', rank === 0 ? 'result class best' : 'result class');
    item.dataset.label = entry.label;
    item.append(el('span', 'class-label', entry.label), scoreLine(entry.score));
    list.append(item);
  });
}

setUpFaq();
setUpImage();
