import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { MAIL_TEMPLATE_DIR, loadMailTemplate, renderMailTemplate } from './mail-templates.ts';

const templateNames = () =>
  readdirSync(MAIL_TEMPLATE_DIR)
    .filter((f) => f.endsWith('.txt') && f !== 'layout.txt')
    .map((f) => f.slice(0, -'.txt'.length));

describe('mail templates', () => {
  it('every template file loads: a subject, a text part and an HTML part without remote content', () => {
    const names = templateNames();
    assert.ok(names.includes('test-message'));
    for (const name of names) {
      const template = loadMailTemplate(name);
      assert.ok(template.subject.length > 0, name);
      assert.ok(template.text.length > 0, name);
      assert.doesNotMatch(template.html, /<img|src\s*=|url\(/i, name);
    }
  });

  it('renders the test message in the layout with absolute links to the public URL', () => {
    const mail = renderMailTemplate('test-message', {
      to: 'ops@example.com',
      kind: 'test_message',
      values: { public_url: 'https://id.example.com/' },
    });
    assert.equal(mail.subject, 'Gatehouse test message');
    assert.match(mail.text, /mail delivery works/);
    assert.match(mail.text, /https:\/\/id\.example\.com\//);
    assert.match(mail.html, /^<!doctype html>/i);
    assert.match(mail.html, /<title>Gatehouse test message<\/title>/);
    const hrefs = [...mail.html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
    assert.ok(hrefs.length >= 2);
    for (const href of hrefs) assert.ok(href?.startsWith('https://id.example.com/'), href);
  });

  it('refuses a template name that could leave the template folder', () => {
    assert.throws(() => loadMailTemplate('../../package'), /use a-z, 0-9/);
  });
});
