import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeHtml, renderMail, type MailLayout, type MailTemplate } from './render-template.ts';

const LAYOUT: MailLayout = {
  text: '{{content}}\n-- {{site}}\n',
  html: '<title>{{subject}}</title><main>{{content}}</main><a href="{{site}}">{{site}}</a>',
};
const TEMPLATE: MailTemplate = {
  name: 'hello',
  subject: 'Hello {{name}}',
  text: 'Hi {{name}}, open {{link}}',
  html: '<p>Hi {{ name }}, <a href="{{link}}">open</a></p>',
};
const render = (values: Record<string, string>) =>
  renderMail(TEMPLATE, LAYOUT, { to: 'a@example.com', kind: 'test_message', values });

describe('renderMail', () => {
  it('fills placeholders in the subject, both parts and the layout', () => {
    const mail = render({ name: 'Ann', link: 'https://id.example.com/x?a=1&b=2', site: 'S' });
    assert.equal(mail.subject, 'Hello Ann');
    assert.equal(mail.text, 'Hi Ann, open https://id.example.com/x?a=1&b=2\n-- S\n');
    assert.equal(
      mail.html,
      '<title>Hello Ann</title><main><p>Hi Ann, <a href="https://id.example.com/x?a=1&amp;b=2">open</a></p></main><a href="S">S</a>',
    );
    assert.equal(mail.to, 'a@example.com');
    assert.equal(mail.kind, 'test_message');
  });

  it('escapes values in the HTML part (and the layout) but not in the text part', () => {
    const mail = render({ name: '<b>"x" & \'y\'</b>', link: 'l', site: '<i>' });
    assert.match(mail.html, /Hi &lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;\/b&gt;,/);
    assert.match(mail.html, /<a href="&lt;i&gt;">&lt;i&gt;<\/a>/);
    assert.doesNotMatch(mail.html, /<b>|<i>/);
    assert.match(mail.text, /Hi <b>"x" & 'y'<\/b>,/);
  });

  it('keeps the subject on one line, so a value cannot add a header', () => {
    const mail = render({ name: 'Ann\r\nBcc: victim@example.com', link: 'l', site: 's' });
    assert.equal(mail.subject, 'Hello Ann Bcc: victim@example.com');
    assert.doesNotMatch(mail.subject, /[\r\n]/);
  });

  it('never expands a placeholder that arrives inside a value', () => {
    const mail = render({ name: '{{link}}', link: 'SECRET', site: '{{content}}' });
    assert.equal(mail.subject, 'Hello {{link}}');
    assert.match(mail.text, /^Hi \{\{link\}\}, open SECRET\n-- \{\{content\}\}\n$/);
    assert.equal((mail.html.match(/<main>/g) ?? []).length, 1);
  });

  it('refuses to render with a placeholder left without a value', () => {
    assert.throws(
      () => render({ name: 'Ann', site: 's' }),
      /hello\.txt: no value for \{\{link\}\}/,
    );
  });

  it('escapeHtml escapes the five characters of OWASP rule 1', () => {
    assert.equal(escapeHtml(`&<>"'`), '&amp;&lt;&gt;&quot;&#39;');
  });
});
