import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './load-config.ts';

const BASE = { GATEHOUSE_JWT_SECRET: 'mail-config-test-secret-0123456789abcdefgh' };
const load = (env: Record<string, string>) => loadConfig({ ...BASE, ...env });
function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  assert.fail('expected a ConfigError');
}

describe('mail configuration', () => {
  it('defaults: no SMTP, a no-reply sender on the public URL host, 24 h before giving up', () => {
    const config = load({ GATEHOUSE_PUBLIC_URL: 'https://auth.example.com' });
    assert.equal(config.mail.smtpUrl, undefined);
    assert.equal(config.mail.from, 'Gatehouse <no-reply@auth.example.com>');
    assert.equal(config.mail.messageIdDomain, 'auth.example.com');
    assert.equal(config.mail.maxAgeSeconds, 86_400);
  });

  it('keeps GATEHOUSE_SMTP_URL as a secret that never prints', () => {
    const url = 'smtps://mailer:hunter2-smtp-password@smtp.example.com:465';
    const config = load({ GATEHOUSE_SMTP_URL: url, GATEHOUSE_MAIL_FROM: 'ops@example.com' });
    assert.equal(config.mail.smtpUrl?.reveal(), url);
    assert.doesNotMatch(JSON.stringify(config), /hunter2/);
    assert.doesNotMatch(inspect(config, { depth: 10 }), /hunter2/);
    assert.equal(config.mail.from, 'ops@example.com');
  });

  it('refuses a URL that is not smtp:// or smtps://, without repeating it (it may hold a password)', () => {
    for (const url of ['http://mailer:hunter2@smtp.example.com', 'smtp:', 'not a url']) {
      const problems = problemsOf({ GATEHOUSE_SMTP_URL: url });
      assert.equal(problems.length, 1, url);
      assert.match(problems[0]!, /^GATEHOUSE_SMTP_URL: expected smtp:\/\//);
      assert.doesNotMatch(problems.join('\n'), /hunter2/);
    }
  });

  it('lets through only the URL options that neither log traffic nor undo the timeouts', () => {
    const ok = load({ GATEHOUSE_SMTP_URL: 'smtp://relay.example.com:587?requireTLS=true' });
    assert.equal(ok.mail.smtpUrl?.reveal(), 'smtp://relay.example.com:587?requireTLS=true');
    for (const option of ['debug=true', 'logger=true', 'socketTimeout=0', 'pool=false']) {
      const problems = problemsOf({
        GATEHOUSE_SMTP_URL: `smtp://u:hunter2@relay.example.com?${option}`,
      });
      assert.match(problems[0] ?? '', /^GATEHOUSE_SMTP_URL: unsupported option/, option);
      assert.doesNotMatch(problems.join('\n'), /hunter2/);
    }
  });

  it('refuses a sender that is not an address, or could add a header', () => {
    for (const from of ['nobody', 'Gatehouse <nobody>', 'a@b.com\r\nBcc: x@y.com', '<>']) {
      const problems = problemsOf({ GATEHOUSE_MAIL_FROM: from });
      assert.match(problems[0] ?? '', /^GATEHOUSE_MAIL_FROM=/, from);
    }
    assert.equal(
      load({ GATEHOUSE_MAIL_FROM: 'Gatehouse Team <team@example.com>' }).mail.from,
      'Gatehouse Team <team@example.com>',
    );
  });

  it('requires GATEHOUSE_PUBLIC_URL with SMTP in production, for the links in mail', () => {
    const problems = problemsOf({
      GATEHOUSE_ENV: 'production',
      GATEHOUSE_SMTP_URL: 'smtp://smtp.example.com',
    });
    assert.ok(
      problems.some((p) => p.startsWith('GATEHOUSE_PUBLIC_URL: required with GATEHOUSE_SMTP_URL')),
    );
  });

  it('bounds GATEHOUSE_MAIL_MAX_AGE from a minute to a week', () => {
    assert.equal(load({ GATEHOUSE_MAIL_MAX_AGE: '3600' }).mail.maxAgeSeconds, 3600);
    assert.match(problemsOf({ GATEHOUSE_MAIL_MAX_AGE: '10' })[0]!, /GATEHOUSE_MAIL_MAX_AGE/);
  });
});
