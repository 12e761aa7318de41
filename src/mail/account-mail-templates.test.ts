import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAIL_KIND_OF, MAIL_TEMPLATES, type MailTemplate } from '../domain/email/mail-draft.ts';
import { renderMailTemplate } from './mail-templates.ts';

const PUBLIC_URL = 'https://id.example.com';
const TOKEN = 'A'.repeat(43);

// The values each flow passes (src/domain/email/*): a template needing another fails here.
const VALUES: Record<MailTemplate, Record<string, string>> = {
  'verify-email': { email: 'a@example.com', link: `${PUBLIC_URL}/#/verify-email?token=${TOKEN}` },
  'password-reset': {
    email: 'a@example.com',
    link: `${PUBLIC_URL}/#/reset-password?token=${TOKEN}`,
    expires_minutes: '30',
  },
  'password-changed': {
    email: 'a@example.com',
    when: '2030-01-01T00:00:00.000Z',
    reset_link: `${PUBLIC_URL}/#/forgot-password`,
  },
  'email-change-confirm': {
    old_email: 'a@example.com',
    new_email: 'b@example.com',
    link: `${PUBLIC_URL}/#/verify-email?token=${TOKEN}`,
  },
  'email-change-notice': {
    old_email: 'a@example.com',
    new_email: 'b@example.com',
    reset_link: `${PUBLIC_URL}/#/forgot-password`,
  },
};

describe('account mail templates (API.md 8)', () => {
  for (const name of MAIL_TEMPLATES) {
    it(`${name}: both parts, every link absolute to the public URL, values escaped in HTML`, () => {
      const mail = renderMailTemplate(name, {
        to: 'a@example.com',
        kind: MAIL_KIND_OF[name],
        values: { ...VALUES[name], public_url: PUBLIC_URL, email: '<b>a@example.com</b>' },
      });
      assert.ok(mail.subject.length > 0);
      const hrefs = [...mail.html.matchAll(/href="([^"]*)"/g)].map((m) => m[1] ?? '');
      assert.ok(hrefs.length >= 2, name);
      for (const href of hrefs) assert.ok(href.startsWith(PUBLIC_URL), href);
      for (const link of Object.values(VALUES[name]).filter((v) => v.startsWith('https:'))) {
        assert.ok(mail.text.includes(link), `${name} text part holds ${link}`);
      }
      assert.doesNotMatch(mail.html, /<b>a@example/);
    });
  }
});
