import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { renderOpenApiTypes, TYPES_FILE } from '../../scripts/openapi.ts';
import { OPENAPI_VARIANTS, openApiDocument } from '../support/openapi-document.ts';
import {
  STRONG_PASSWORD,
  startTestServer,
  uniqueEmail,
  type TestApp,
} from '../support/test-app.ts';
import { typedFetch } from '../support/typed-fetch.ts';

describe('the typed client generated from /openapi.json', () => {
  it('is up to date: regenerating src/http/openapi-types.generated.ts changes nothing', async () => {
    const [env] = Object.values(OPENAPI_VARIANTS);
    const fresh = await renderOpenApiTypes(await openApiDocument(env));
    const committed = await readFile(TYPES_FILE, 'utf8');
    assert.ok(
      committed === fresh,
      'src/http/openapi-types.generated.ts is stale: run `npm run openapi:types` and commit it',
    );
  });

  describe('against a running server', () => {
    let server: TestApp & { url: string };
    before(async () => {
      server = await startTestServer();
    });
    after(() => server.close());

    it('registers, logs in and reads /users/me/ with bodies typed by the document', async () => {
      const call = typedFetch(server.url);
      const email = uniqueEmail('typed');

      const registered = await call('post', '/users/', {
        json: { email, password: STRONG_PASSWORD },
      });
      assert.equal(registered.status, 200);
      assert.ok(registered.ok);
      // Typed: `role` is 'user' | 'admin', `id` a number.
      const role: 'user' | 'admin' = registered.body.role;
      assert.equal(role, 'user');
      assert.equal(typeof registered.body.id, 'number');

      const token = await call('post', '/token', {
        form: { username: email, password: STRONG_PASSWORD },
      });
      assert.ok(token.ok, `token: ${token.status}`);
      const tokenType: 'bearer' = token.body.token_type;
      assert.equal(tokenType, 'bearer');

      const me = await call('get', '/users/me/', { token: token.body.access_token });
      assert.ok(me.ok, `me: ${me.status}`);
      assert.equal(me.body.email, email);
      assert.equal(me.body.id, registered.body.id);
      assert.equal(me.body.mfa_enabled, false);

      const anonymous = await call('get', '/users/me/', {});
      assert.equal(anonymous.ok, false);
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.body.code, 'not_authenticated');
    });
  });
});

/**
 * Never called: what the generated types refuse. Each `@ts-expect-error` fails
 * `npm run typecheck` if the line below it ever type-checks, so these assert that the types
 * are the document's and not `any`.
 */
export async function typesRefuse(call: ReturnType<typeof typedFetch>): Promise<void> {
  // @ts-expect-error registration needs a password
  await call('post', '/users/', { json: { email: 'a@example.com' } });
  // @ts-expect-error POST /token takes a form, not JSON
  await call('post', '/token', { json: { username: 'a', password: 'b' } });
  // @ts-expect-error there is no PUT /users/me/
  await call('put', '/users/me/', {});
  // @ts-expect-error no such path
  await call('get', '/users/me/nothing', {});
  const me = await call('get', '/users/me/', {});
  // @ts-expect-error the user object has no password hash
  if (me.ok) void me.body.password_hash;
}
