import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { ManualClock } from '../../src/domain/clock.ts';
import {
  bearer,
  claimsOf,
  me,
  passwordLogin,
  refresh,
  registerAndLogin,
  requestToken,
  toPair,
  listSessions,
  postForm,
} from '../support/client.ts';
import { STORAGE_BACKENDS, type StorageBackend } from '../support/storage-backends.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

// Refresh tokens end to end: what one is, how it rotates, reuse detection and expiry under a
// ManualClock, in strict mode (GATEHOUSE_REFRESH_REUSE_GRACE=0); refresh-reuse-grace.test.ts
// has the grace window.

/** Every cell of every table of the store, as text: what someone with a copy of the DB sees. */
async function everyStoredValue(backend: StorageBackend, url: string): Promise<string[]> {
  if (backend.name === 'sqlite') {
    const db = new SqliteDatabase(url.slice('sqlite:'.length), { readonly: true });
    try {
      const tables = db
        .prepare("select name from sqlite_master where type = 'table'")
        .pluck()
        .all() as string[];
      return tables.flatMap((table) =>
        (db.prepare(`select * from "${table}"`).raw().all() as unknown[][]).flat().map(String),
      );
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ name: string }>(
      'select table_name as name from information_schema.tables where table_schema = current_schema()',
    );
    const values: string[] = [];
    for (const { name } of tables) {
      const { rows } = await client.query({ text: `select * from "${name}"`, rowMode: 'array' });
      for (const row of rows as unknown[][]) values.push(...row.map(String));
    }
    return values;
  } finally {
    await client.end();
  }
}

const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

for (const backend of STORAGE_BACKENDS) {
  describe(`refresh tokens over HTTP on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let clock: ManualClock;
    let databaseUrl: string;
    let dir: string | undefined;
    before(async () => {
      clock = new ManualClock();
      if (backend.name === 'sqlite') {
        // A file, not :memory:, so the test can read the tables as an attacker with the file would.
        dir = mkdtempSync(join(tmpdir(), 'gatehouse-refresh-'));
        databaseUrl = `sqlite:${join(dir, 'gatehouse.db')}`;
      } else {
        databaseUrl = await backend.freshUrl();
      }
      t = await createTestApp({
        clock,
        env: { GATEHOUSE_DATABASE_URL: databaseUrl, GATEHOUSE_REFRESH_REUSE_GRACE: '0' },
      });
    });
    after(async () => {
      await t?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('answers a password grant with no-store, expires_in and a 256-bit base64url refresh token', async () => {
      const { email } = await registerAndLogin(t.app);
      const response = await requestToken(t.app, { username: email });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.headers['cache-control'], 'no-store');
      assert.equal(response.headers.pragma, 'no-cache');
      const body = response.json() as Record<string, unknown>;
      assert.equal(body.token_type, 'bearer');
      assert.equal(body.expires_in, t.config.tokens.accessTtl);
      assert.equal(body.expires_in, 1800, 'the default of API.md: 30 minutes');
      // 32 random bytes in base64url without padding are 43 characters.
      assert.match(String(body.refresh_token), /^[A-Za-z0-9_-]{43,}$/);
      assert.ok(Buffer.from(String(body.refresh_token), 'base64url').length >= 32);
      const claims = claimsOf(String(body.access_token));
      assert.equal(Number(claims.exp) - Number(claims.iat), body.expires_in);
      assert.equal(typeof claims.sid, 'string');
    });

    it('keeps refresh tokens only as SHA-256 hashes: no table holds one in plain', async () => {
      const { body } = await registerAndLogin(t.app);
      const first = String(body.refresh_token);
      const second = toPair((await refresh(t.app, first)).json()).refreshToken;
      const stored = await everyStoredValue(backend, databaseUrl);
      for (const token of [first, second]) {
        assert.ok(
          !stored.some((value) => value.includes(token)),
          'a refresh token is stored in plain',
        );
        // The scan does see the refresh tokens table: the hash is there.
        assert.ok(stored.includes(sha256Hex(token)), 'the hash of the token is stored');
      }
    });

    it('gives every refresh a working access token with the same sid, a new jti and no-store', async () => {
      const { body } = await registerAndLogin(t.app);
      let pair = toPair(body);
      const jtis = new Set([claimsOf(pair.accessToken).jti]);
      const refreshTokens = new Set([pair.refreshToken]);
      for (let i = 0; i < 5; i++) {
        const response = await refresh(t.app, pair.refreshToken);
        assert.equal(response.statusCode, 200, response.body);
        assert.equal(response.headers['cache-control'], 'no-store');
        assert.equal(response.json().expires_in, t.config.tokens.accessTtl);
        const next = toPair(response.json());
        assert.equal(next.sid, pair.sid, 'a refresh keeps the session');
        assert.ok(!refreshTokens.has(next.refreshToken), 'a new refresh token every time');
        refreshTokens.add(next.refreshToken);
        pair = next;
        const claims = claimsOf(pair.accessToken);
        assert.ok(!jtis.has(claims.jti), 'each access token has its own jti');
        jtis.add(claims.jti);
        assert.equal((await me(t.app, pair.accessToken)).statusCode, 200);
      }
      // The sid is the id GET /users/me/sessions lists, and the chain is still one session.
      const listed = await listSessions(t.app, pair.accessToken);
      const ids = (listed.json() as { items: { id: string }[] }).items.map((item) => item.id);
      assert.deepEqual(ids, [pair.sid]);
    });

    it('ends the session when the first token of a chain is replayed, and says so in the error', async () => {
      const { email, body } = await registerAndLogin(t.app);
      const first = toPair(body);
      const latest = toPair((await refresh(t.app, first.refreshToken)).json());
      const replay = await refresh(t.app, first.refreshToken);
      assert.equal(replay.statusCode, 400);
      const error = replay.json() as Record<string, unknown>;
      assert.equal(error.error, 'invalid_grant');
      assert.equal(error.code, 'refresh_token_reused');
      assert.equal(typeof error.error_description, 'string');
      assert.equal(error.detail, error.error_description);
      assert.equal((await me(t.app, latest.accessToken)).statusCode, 401);
      assert.equal((await refresh(t.app, latest.refreshToken)).statusCode, 400);
      // Presenting it yet again is still a plain 400, and the user can sign in afresh.
      assert.equal((await refresh(t.app, first.refreshToken)).statusCode, 400);
      const fresh = await passwordLogin(t.app, email);
      assert.notEqual(fresh.sid, first.sid);
      assert.equal((await me(t.app, fresh.accessToken)).statusCode, 200);
    });

    it('ends the whole chain when its 2nd token is presented again, and only that session', async () => {
      const { email, body } = await registerAndLogin(t.app);
      const other = await passwordLogin(t.app, email);
      const first = toPair(body);
      const second = toPair((await refresh(t.app, first.refreshToken)).json());
      let latest = second;
      for (let i = 0; i < 3; i++)
        latest = toPair((await refresh(t.app, latest.refreshToken)).json());

      const reuse = await refresh(t.app, second.refreshToken);
      assert.equal(reuse.statusCode, 400);
      const error = reuse.json();
      assert.equal(error.error, 'invalid_grant');
      assert.equal(typeof error.error_description, 'string');
      assert.equal(typeof error.detail, 'string');

      assert.equal(
        (await refresh(t.app, latest.refreshToken)).statusCode,
        400,
        'the latest refresh token is dead',
      );
      assert.equal(
        (await me(t.app, latest.accessToken)).statusCode,
        401,
        'and so is the latest access token',
      );
      assert.equal(
        (await me(t.app, other.accessToken)).statusCode,
        200,
        'the other session lives on',
      );
      assert.equal((await refresh(t.app, other.refreshToken)).statusCode, 200);
    });

    it('lets at most one of 10 strict-mode refreshes with one token rotate, and the race ends the session', async () => {
      // With GATEHOUSE_REFRESH_REUSE_GRACE=0 the losers are reuse (RFC 9700 4.14.2), so the
      // session ends whoever won; the grace window below is what keeps concurrent tabs in.
      const { body } = await registerAndLogin(t.app);
      const token = String(body.refresh_token);
      const results = await Promise.all(Array.from({ length: 10 }, () => refresh(t.app, token)));
      const wins = results.filter((r) => r.statusCode === 200);
      // Exactly one wins; whatever the order, the session ends.
      assert.equal(wins.length, 1, `${wins.length} refreshes won`);
      for (const loser of results.filter((r) => r.statusCode !== 200)) {
        assert.equal(loser.statusCode, 400);
        assert.equal(loser.json().error, 'invalid_grant');
      }
      const winner = wins[0] && toPair(wins[0].json());
      if (winner) {
        assert.equal((await me(t.app, winner.accessToken)).statusCode, 401);
        assert.equal((await refresh(t.app, winner.refreshToken)).statusCode, 400);
      }
      assert.equal((await me(t.app, String(body.access_token))).statusCode, 401);
    });

    it('slides the session forward with each refresh and ends it once a refresh token outlives its TTL', async () => {
      const ttl = t.config.tokens.refreshTtl;
      const { body } = await registerAndLogin(t.app);
      let pair = toPair(body);
      // Three refreshes, each a minute short of the TTL: 3 × TTL in all, still one live session.
      for (let i = 0; i < 3; i++) {
        clock.advance(ttl - 60);
        const response = await refresh(t.app, pair.refreshToken);
        assert.equal(response.statusCode, 200, `refresh ${i + 1}: ${response.body}`);
        pair = toPair(response.json());
      }
      clock.advance(ttl + 1);
      const expired = await refresh(t.app, pair.refreshToken);
      assert.equal(expired.statusCode, 400);
      assert.equal(expired.json().error, 'invalid_grant');
      assert.equal(expired.json().code, 'invalid_grant', 'expiry is not reuse');
    });

    it('purges the expired refresh tokens of a session that lives on, so a long session stays small', async () => {
      const ttl = t.config.tokens.refreshTtl;
      const { body } = await registerAndLogin(t.app);
      const first = toPair(body);
      clock.advance(ttl - 60);
      const second = toPair((await refresh(t.app, first.refreshToken)).json());
      clock.advance(ttl - 60);
      const third = toPair((await refresh(t.app, second.refreshToken)).json());
      // first expired a TTL after the login; second and third have not.
      await t.services.purgeEndedSessions();
      const stored = await everyStoredValue(backend, databaseUrl);
      assert.ok(!stored.includes(sha256Hex(first.refreshToken)), 'the expired token was purged');
      assert.ok(stored.includes(sha256Hex(second.refreshToken)), 'a used, live one is kept');
      // Kept, so replaying it is still detected; the session lives until then.
      assert.equal((await me(t.app, third.accessToken)).statusCode, 200);
      assert.equal((await refresh(t.app, first.refreshToken)).json().code, 'invalid_grant');
      assert.equal((await refresh(t.app, second.refreshToken)).json().code, 'refresh_token_reused');
      assert.equal((await me(t.app, third.accessToken)).statusCode, 401);
    });

    it('lets a client refresh after its access token expired and use the new one', async () => {
      const { body } = await registerAndLogin(t.app);
      const pair = toPair(body);
      clock.advance(t.config.tokens.accessTtl + t.config.tokens.clockToleranceSeconds + 1);
      assert.equal((await me(t.app, pair.accessToken)).statusCode, 401);
      const renewed = await refresh(t.app, pair.refreshToken);
      assert.equal(renewed.statusCode, 200);
      const next = toPair(renewed.json());
      assert.equal(next.sid, pair.sid);
      assert.equal((await me(t.app, next.accessToken)).statusCode, 200);
    });

    it('expires an access token at exp + tolerance whether or not it was used before', async () => {
      const used = (await registerAndLogin(t.app)).accessToken;
      const unused = (await registerAndLogin(t.app)).accessToken;
      assert.equal((await me(t.app, used)).statusCode, 200);
      const exp = Number(claimsOf(used).exp);
      const nowSeconds = Math.floor(clock.now().getTime() / 1000);
      // One second before the end of the leeway both still work...
      clock.advance(exp + t.config.tokens.clockToleranceSeconds - 1 - nowSeconds);
      assert.equal((await me(t.app, used)).statusCode, 200);
      clock.advance(1);
      // ...and at its end both are expired, with the RFC 6750 challenge on every endpoint.
      for (const token of [used, unused]) {
        for (const [method, url] of [
          ['GET', '/users/me/'],
          ['GET', '/users/me/sessions'],
          ['POST', '/logout'],
        ] as const) {
          const response = await t.app.inject({ method, url, headers: bearer(token) });
          assert.equal(response.statusCode, 401, `${method} ${url}`);
          assert.match(response.json().detail, /expired/);
          assert.equal(
            response.headers['www-authenticate'],
            'Bearer error="invalid_token", error_description="The access token expired"',
          );
        }
      }
    });

    it('calls an expired token with a broken signature invalid, not expired', async () => {
      const { accessToken } = await registerAndLogin(t.app);
      clock.advance(t.config.tokens.accessTtl + t.config.tokens.clockToleranceSeconds + 1);
      const [header, payload, signature = ''] = accessToken.split('.');
      const flipped = signature.startsWith('A')
        ? `B${signature.slice(1)}`
        : `A${signature.slice(1)}`;
      const response = await me(t.app, `${header}.${payload}.${flipped}`);
      assert.equal(response.statusCode, 401);
      assert.equal(response.json().detail, 'Could not validate credentials');
      assert.equal(response.headers['www-authenticate'], 'Bearer');
    });

    it('never takes a refresh token for an access token, nor the other way round', async () => {
      const { body } = await registerAndLogin(t.app);
      const pair = toPair(body);
      const asBearer = await me(t.app, pair.refreshToken);
      assert.equal(asBearer.statusCode, 401);
      assert.equal(asBearer.json().detail, 'Could not validate credentials');
      const asRefresh = await refresh(t.app, pair.accessToken);
      assert.equal(asRefresh.statusCode, 400);
      assert.equal(asRefresh.json().error, 'invalid_grant');
      // Neither attempt spent anything: the real refresh token still rotates.
      assert.equal((await refresh(t.app, pair.refreshToken)).statusCode, 200);
    });

    it('answers unknown, garbage and empty refresh tokens with 400 invalid_grant, and a missing one with 422', async () => {
      for (const token of ['x'.repeat(43), 'not a token', '']) {
        const response = await refresh(t.app, token);
        assert.equal(response.statusCode, 400, token);
        assert.equal(response.json().error, 'invalid_grant');
      }
      const missing = await postForm(t.app, '/token', 'grant_type=refresh_token');
      assert.equal(missing.statusCode, 422);
      assert.deepEqual(missing.json().detail[0].loc, ['body', 'refresh_token']);
    });

    it('answers an unknown grant_type with 400 unsupported_grant_type', async () => {
      const response = await postForm(t.app, '/token', 'grant_type=client_credentials');
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().error, 'unsupported_grant_type');
    });
  });
}
