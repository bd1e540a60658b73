import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startApi, type ServiceProcess } from './support/processes.js';

const ROOT = process.cwd();
const MODELS = resolve(ROOT, 'models');
const FASHION_FIXTURES = resolve(ROOT, 'test/fixtures/fashion');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = '/tmp/switchyard-demo.png';

/** Chromium flags for a root user in a closed network: no sandbox, no background connections. */
const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const faqLabels = JSON.parse(readFileSync(resolve(MODELS, 'faq/labels.json'), 'utf8')) as {
  id: string;
  question: string;
}[];
const fashionLabels = JSON.parse(readFileSync(resolve(MODELS, 'fashion/labels.json'), 'utf8')) as string[];

/** `<index>-<labelIndex>.png` → the class name the model should show first. */
function fixtureLabel(file: string): string {
  const match = /^\d+-(\d+)\.png$/.exec(file);
  assert.ok(match, `fixture name ${file}`);
  const label = fashionLabels[Number(match[1])];
  assert.ok(label, `label index of ${file}`);
  return label;
}

/**
 * The browser demo at `GET /`, driven in a real (headless) Chromium against the embedded API
 * serving ./models: FAQ matching, image upload, and the error box.
 */
describe('demo page in a browser', () => {
  let api: ServiceProcess;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}: install Debian's chromium package or set CHROMIUM_PATH to a Chromium binary`,
      );
    }
    // Keep the handle before waiting, so `after` stops the process even if it never gets ready.
    api = await startApi({ MODEL_REPOSITORY: MODELS }, { wait: false });
    await api.waitReady('/v2/health/ready', 90_000);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      // A 4xx answer logs "Failed to load resource"; the error test asks for one on purpose.
      if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) {
        pageErrors.push(`console: ${msg.text()}`);
      }
    });
  });

  after(async () => {
    await browser?.close();
    await api?.stop();
  });

  it('serves the page and its assets with content types and a CSP', async () => {
    const expected: Record<string, RegExp> = {
      '/': /^text\/html/,
      '/demo': /^text\/html/,
      '/demo.js': /^text\/javascript/,
      '/demo.css': /^text\/css/,
    };
    for (const [path, type] of Object.entries(expected)) {
      const res = await fetch(api.url + path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', type, path);
      assert.equal(
        res.headers.get('content-security-policy'),
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self'",
        path,
      );
      assert.ok((await res.text()).length > 100, path);
    }
  });

  it('shows both models as ready', async () => {
    await page.goto(`${api.url}/`);
    assert.equal(await page.title(), 'Switchyard demo');
    assert.equal(await page.locator('#faq-model').inputValue(), 'faq');
    assert.equal(await page.locator('#image-model').inputValue(), 'fashion');
    await page.locator('#faq-status[data-state="ready"]').waitFor();
    await page.locator('#image-status[data-state="ready"]').waitFor();
    assert.match(await page.locator('#faq-status').innerText(), /^ready/);
  });

  it('matches a question to the FAQ entry about removing array items', async () => {
    const expected = faqLabels.find((e) => /remove a specific item from an array/i.test(e.question));
    assert.ok(expected, 'models/faq/labels.json has the entry about removing an item from an array');

    await page.locator('#faq-question').fill('how do i remove an item from an array in js');
    await page.locator('#faq-question').press('Enter');
    const first = page.locator('#faq-results li.result').first();
    await first.waitFor();

    assert.equal(await first.getAttribute('data-id'), expected.id);
    assert.equal(await first.locator('.result-id').innerText(), expected.id);
    assert.equal(await first.locator('.question').innerText(), expected.question);
    assert.ok((await first.locator('.answer').innerText()).length > 20, 'answer shown');
    assert.equal(await page.locator('#faq-results li.result').count(), 5, 'top 5 by default');

    // Scores as percentages, best first, each drawn as a bar of that fraction of its track.
    const scores = (await page.locator('#faq-results .score-value').allInnerTexts()).map((text) => {
      assert.match(text, /^\d{1,3}(\.\d)?\s?%$/);
      return parseFloat(text);
    });
    assert.ok(scores[0]! > 0 && scores[0]! <= 100, `top score ${scores[0]}`);
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
      'ranked by score',
    );
    const [fill, track] = await Promise.all(
      ['.bar-fill', '.bar'].map((css) => first.locator(css).evaluate((node) => node.getBoundingClientRect().width)),
    );
    assert.ok(Math.abs(fill! / track! - scores[0]! / 100) < 0.02, `bar ${fill}/${track} px for ${scores[0]}%`);

    const timings = await page.locator('#faq-timings').innerText();
    for (const name of ['queue', 'preprocess', 'inference', 'total']) {
      assert.match(timings, new RegExp(`${name}\\s+[\\d.,]+ ms`), `${name} timing in "${timings}"`);
    }
    assert.equal(await page.locator('#faq-error').isHidden(), true);
  });

  it('classifies uploaded Fashion-MNIST images', async () => {
    // Test images the model classifies correctly (the fixtures also keep one it gets wrong).
    for (const file of ['0-9.png', '2-1.png', '18-8.png']) {
      const label = fixtureLabel(file);
      // Choosing a file clears the previous results and submits: the next results are this file's.
      await page.locator('#image-file').setInputFiles(resolve(FASHION_FIXTURES, file));
      await page.locator('#image-results li.result').first().waitFor();
      const top = page.locator('#image-results li.result').first();
      assert.equal(await top.getAttribute('data-label'), label, file);
      assert.equal(await top.locator('.class-label').innerText(), label, file);
      assert.match(await top.locator('.score-value').innerText(), /%$/);
      assert.equal(await page.locator('#image-results li.result').count(), 3, 'top 3 by default');
      assert.match((await page.locator('#image-preview').getAttribute('src')) ?? '', /^blob:/);
      assert.equal(await page.locator('#image-name').innerText(), file);
      const timings = await page.locator('#image-timings').innerText();
      assert.match(timings, /inference\s+[\d.,]+ ms/);
      assert.match(timings, /total\s+[\d.,]+ ms/);
    }
    assert.equal(await page.locator('#image-error').isHidden(), true);

    // Both panels show results: this is the screenshot to look at.
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('shows API errors and input errors in the error box', async () => {
    await page.locator('#image-file').setInputFiles({
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('not an image at all'),
    });
    const imageError = page.locator('#image-error');
    await imageError.waitFor({ state: 'visible' });
    assert.match(await imageError.innerText(), /^415: notes\.txt: not a JPEG, PNG, WebP, GIF or TIFF image$/);
    assert.equal(await page.locator('#image-results li').count(), 0, 'old results cleared');

    await page.locator('#faq-question').fill('   ');
    await page.locator('#faq-submit').click();
    const faqError = page.locator('#faq-error');
    await faqError.waitFor({ state: 'visible' });
    assert.equal(await faqError.innerText(), 'Type a question first.');
    assert.equal(await faqError.getAttribute('role'), 'alert');

    // The next good question clears the error.
    await page.locator('#faq-question').fill('deep clone an object');
    await page.locator('#faq-question').press('Enter');
    await faqError.waitFor({ state: 'hidden' });
    await page.locator('#faq-results li.result').first().waitFor();

    await page.screenshot({ path: SCREENSHOT.replace('.png', '-errors.png'), fullPage: true });
  });

  it('reports an unknown model as not found', async () => {
    // The page lists the models of its data-models attribute; add one the server does not have.
    await page.locator('#faq-model').evaluate((select: any) => {
      const option = select.ownerDocument.createElement('option');
      option.value = option.textContent = 'nope';
      select.append(option);
    });
    await page.locator('#faq-model').selectOption('nope');
    await page.locator('#faq-status[data-state="down"]').waitFor();
    assert.equal(await page.locator('#faq-status').innerText(), 'not found');
    await page.locator('#faq-question').press('Enter');
    const faqError = page.locator('#faq-error');
    await faqError.waitFor({ state: 'visible' });
    assert.equal(await faqError.innerText(), "404: model 'nope' not found");
  });

  it('ran without script errors or CSP violations', () => {
    assert.deepEqual(pageErrors, []);
  });
});

/**
 * The same page against an API that checks keys (AUTH on): without the admin key its
 * predictions get 401 and say where the key goes; with it, both panels score.
 */
describe('demo page with AUTH on', () => {
  const ADMIN_KEY = 'demo-admin-key-0123456789';
  let api: ServiceProcess;
  let browser: Browser;
  let page: Page;

  before(async () => {
    api = await startApi({ MODEL_REPOSITORY: MODELS, AUTH: 'on', ADMIN_API_KEY: ADMIN_KEY }, { wait: false });
    await api.waitReady('/v2/health/ready', 90_000);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage();
  });

  after(async () => {
    await browser?.close();
    await api?.stop();
  });

  it('asks for the admin key, refuses a wrong one and scores with the right one', async () => {
    await page.goto(`${api.url}/`);
    await page.locator('#faq-status[data-state="ready"]').waitFor();
    const faqError = page.locator('#faq-error');
    const ask = async (): Promise<void> => {
      await page.locator('#faq-question').fill('remove an item from an array');
      await page.locator('#faq-question').press('Enter');
    };

    await ask();
    await faqError.waitFor({ state: 'visible' });
    assert.equal(
      await faqError.innerText(),
      '401: missing credentials: send Authorization: Bearer <admin key> (enter the admin key above)',
    );

    await page.locator('#api-key').fill('not-the-key');
    await ask();
    await page.getByText('401: invalid credentials').waitFor();
    assert.match(await faqError.innerText(), /^401: invalid credentials: this route needs the admin key/);

    await page.locator('#api-key').fill(ADMIN_KEY);
    await ask();
    // The error box hides when the request goes out; the results come with the answer.
    await page.locator('#faq-results li.result').first().waitFor();
    assert.equal(await faqError.isHidden(), true);
    assert.equal(await page.locator('#faq-results li.result').count(), 5);

    await page.locator('#image-file').setInputFiles(resolve(FASHION_FIXTURES, '0-9.png'));
    const top = page.locator('#image-results li.result').first();
    await top.waitFor();
    assert.equal(await top.getAttribute('data-label'), fixtureLabel('0-9.png'));
    assert.equal(await page.locator('#image-error').isHidden(), true);
  });
});
