import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PACKAGE_ROOT } from '../../src/package-root.ts';
import { createTestApp } from '../support/test-app.ts';

const WEB_UI_BUILT = existsSync(join(PACKAGE_ROOT, 'web/dist/index.html'));
const META = /<meta name="gatehouse-password-min-length" content="(\d+)" \/>/;

// The web UI learns the server's minimum password length from the page itself (docs/web-ui.md),
// as markup in <head>: no request, no inline script, the same strict CSP.
describe('the web UI page carries the server settings it shows', () => {
  for (const [env, expected] of [
    [{}, '8'],
    [{ GATEHOUSE_PASSWORD_MIN_LENGTH: '14' }, '14'],
  ] as const) {
    it(
      `says the minimum password length is ${expected}`,
      { skip: !WEB_UI_BUILT && 'web UI not built' },
      async () => {
        const t = await createTestApp({ env });
        try {
          const page = await t.app.inject({ method: 'GET', url: '/' });
          assert.equal(page.statusCode, 200);
          assert.equal(META.exec(page.body)?.[1], expected);
          // Inside <head>, once, and the page is otherwise as built.
          assert.ok(
            page.body.indexOf('gatehouse-password-min-length') < page.body.indexOf('</head>'),
          );
          assert.equal(page.body.match(/gatehouse-password-min-length/g)?.length, 1);
          assert.doesNotMatch(page.body, /<script>|<style>| style=/);
          assert.match(String(page.headers['content-security-policy']), /script-src 'self'(;|$)/);
        } finally {
          await t.close();
        }
      },
    );
  }
});
