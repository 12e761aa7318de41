import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { STRONG_PASSWORD, uniqueEmail } from '../support/client.ts';
import { startTestServer, type TestApp } from '../support/test-app.ts';

// A client written the way the FastAPI "OAuth2 with Password (and hashing), Bearer with JWT
// tokens" tutorial's users write one: JSON sign-up, a form-encoded token request, then the
// token in the Authorization header. API.md: such a client works against Gatehouse unchanged.

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Headers,
  ) {
    super(`HTTP ${status}`);
  }
}

async function call<T>(url: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(url, init);
  const body: unknown = await response.json();
  if (!response.ok) throw new HttpError(response.status, body, response.headers);
  return body as T;
}

class TutorialClient {
  private accessToken: string | undefined;
  constructor(private readonly baseUrl: string) {}

  signUp(email: string, password: string) {
    return call<{ id: number; email: string }>(`${this.baseUrl}/users/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
  }

  async logIn(email: string, password: string) {
    // fetch sends URLSearchParams as application/x-www-form-urlencoded;charset=UTF-8.
    const token = await call<{ access_token: string; token_type: string }>(
      `${this.baseUrl}/token`,
      { method: 'POST', body: new URLSearchParams({ username: email, password }) },
    );
    this.accessToken = token.access_token;
    return token;
  }

  whoAmI() {
    return call<{ id: number; email: string }>(`${this.baseUrl}/users/me/`, {
      headers: { Authorization: `Bearer ${this.accessToken ?? ''}` },
    });
  }
}

describe('a FastAPI-tutorial client over a real socket', () => {
  let server: TestApp & { url: string };
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('signs up, logs in and reads its own account', async () => {
    const client = new TutorialClient(server.url);
    const email = uniqueEmail('tutorial');
    const created = await client.signUp(email, STRONG_PASSWORD);
    assert.equal(created.email, email);
    assert.equal(typeof created.id, 'number');

    const token = await client.logIn(email, STRONG_PASSWORD);
    assert.equal(token.token_type, 'bearer');
    assert.equal(typeof token.access_token, 'string');

    const self = await client.whoAmI();
    assert.deepEqual({ id: self.id, email: self.email }, { id: created.id, email });
  });

  it('gets 401 with a Bearer challenge for a wrong password, and cannot read /users/me/ after it', async () => {
    const client = new TutorialClient(server.url);
    const email = uniqueEmail('tutorial-401');
    await client.signUp(email, STRONG_PASSWORD);

    const failure = await client.logIn(email, 'not the password at all').then(
      () => assert.fail('a wrong password must not log in'),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof HttpError);
    assert.equal(failure.status, 401);
    assert.deepEqual(
      (failure.body as { detail: unknown }).detail,
      'Incorrect username or password',
    );
    assert.equal(failure.headers.get('www-authenticate'), 'Bearer');

    const unauthenticated = await client.whoAmI().then(
      () => assert.fail('no token, no account'),
      (error: unknown) => error,
    );
    assert.ok(unauthenticated instanceof HttpError);
    assert.equal(unauthenticated.status, 401);
    assert.equal(unauthenticated.headers.get('www-authenticate'), 'Bearer');
  });
});
