import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { normalizeEmail } from '../../src/domain/email-address.ts';
import {
  MARKER,
  REQUEST_TIMEOUT_MS,
  sendHttp,
  sendRaw,
  type Ctx,
} from '../support/fuzz-requests.ts';
import { Rng } from '../support/fuzz-rng.ts';
import { registerAndLogin } from '../support/client.ts';
import { startTestServer, type TestApp } from '../support/test-app.ts';

// API.md: no request, however malformed, gets a 500 or kills the process. Thousands of random
// and mutated requests (methods, paths, headers, bodies, encodings, raw bytes) from a seeded
// generator, over real HTTP, a few at a time: none may answer 5xx, hang or crash the server,
// none may echo a password or a hash, and afterwards the store holds exactly the users that
// were answered 200. GATEHOUSE_FUZZ_SEED / GATEHOUSE_FUZZ_COUNT replay or widen a run.

const SEED = Number(process.env.GATEHOUSE_FUZZ_SEED ?? 20_260_101);
const COUNT = Number(process.env.GATEHOUSE_FUZZ_COUNT ?? 3000);
const PARALLEL = 12;

describe('fuzzing a live server over HTTP', { timeout: 110_000 }, () => {
  let t: TestApp & { url: string };
  let login: { email: string; accessToken: string; body: Record<string, unknown> };
  before(async () => {
    t = await startTestServer({
      env: {
        GATEHOUSE_ARGON2_MEMORY_KIB: '1024',
        GATEHOUSE_ARGON2_ITERATIONS: '1',
        // Limits on but out of reach: every request runs through the limiter and proxy code.
        GATEHOUSE_TRUST_PROXY: 'true',
        GATEHOUSE_RATE_LIMIT_TOKEN: '1000000',
        GATEHOUSE_RATE_LIMIT_REGISTER: '1000000',
      },
    });
    login = await registerAndLogin(t.app, `fuzz-owner-${SEED}@example.com`);
  });
  after(() => t?.close());

  it(`answers ${COUNT} random requests without a 5xx, a hang, a crash or a leak (seed ${SEED})`, async (context) => {
    const base = new URL(t.url);
    const registered = new Set<string>([normalizeEmail(login.email)]);
    const problems: string[] = [];
    const seen = new Map<number, number>();
    let next = 0;
    const worker = async () => {
      for (let id = next++; id < COUNT; id = next++) {
        const rng = new Rng(SEED ^ Math.imul(id + 1, 0x9e3779b1));
        const c: Ctx = {
          seed: SEED,
          rng,
          id,
          token: login.accessToken,
          refreshToken: String(login.body.refresh_token),
          emails: [...registered],
        };
        const outcome = await (rng.chance(0.12) ? sendRaw(base, c) : sendHttp(base, c)).catch(
          (error: Error) => ({ statuses: [-1], body: error.message, description: '' }),
        );
        for (const status of outcome.statuses) seen.set(status, (seen.get(status) ?? 0) + 1);
        if (outcome.statuses.some((s) => s < 0 || s >= 500)) {
          problems.push(
            `#${id} ${outcome.statuses.join(',')} ${outcome.body.slice(0, 2000)} <- ${outcome.description}`,
          );
        }
        if (outcome.body.includes(MARKER) || outcome.body.includes('$argon2')) {
          problems.push(`#${id} response leaks a password or hash <- ${outcome.description}`);
        }
        if (
          outcome.statuses.includes(200) &&
          /POST \/users\/?[ ?#;]|raw "POST \/users\//.test(outcome.description)
        ) {
          const created = /"email":"([^"]+)"/.exec(outcome.body)?.[1];
          if (created) registered.add(normalizeEmail(JSON.parse(`"${created}"`) as string));
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    context.diagnostic(`statuses seen: ${JSON.stringify([...seen].sort((x, y) => x[0] - y[0]))}`);
    context.diagnostic(`users registered: ${registered.size}`);
    assert.deepEqual(problems, [], `seed ${SEED}; statuses seen: ${JSON.stringify([...seen])}`);

    // Still up, still working.
    const health = await fetch(`${t.url}/healthz`, {
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    assert.equal(health.status, 200);
    const users = await t.storage.users.list({ limit: 100_000 });
    assert.deepEqual(
      users.map((u) => normalizeEmail(u.email)).sort(),
      [...registered].sort(),
      `the store holds exactly the users answered 200 (seed ${SEED})`,
    );
    assert.ok(
      registered.size > 10,
      `only ${registered.size} registrations: the fuzzer should create some`,
    );
  });
});
