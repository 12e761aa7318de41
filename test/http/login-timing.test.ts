import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { requestToken, STRONG_PASSWORD, uniqueEmail } from '../support/client.ts';
import { STORAGE_BACKENDS } from '../support/storage-backends.ts';
import { testAppPerSuite } from '../support/test-app.ts';

// API.md 4 / CWE-208: a failed login takes as long for an unknown email as for a wrong password,
// whatever kind of hash the account holds. An imported bcrypt hash takes many times an argon2id
// verify (cost 12: ~10x the OWASP parameters), which used to tell which accounts exist and still
// hold one. Medians of interleaved rounds, compared with each other: no absolute times (the
// machine is shared). Once equalised every failure costs a bcrypt verify: cost 10 and cheap
// argon2id keep the same ~10x gap while 2 x 45 logins fit the runner's timeout under load.

const ROUNDS = 15;
const BCRYPT_COST = 10;
const CHEAP_ARGON2 = { GATEHOUSE_ARGON2_MEMORY_KIB: '1024', GATEHOUSE_ARGON2_ITERATIONS: '1' };
// Generous: equalised failures measure within a few percent; unequalised ones about 10x apart.
const MAX_MEDIAN_RATIO = 2;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

for (const backend of STORAGE_BACKENDS) {
  describe(`failed login timing (${backend.name})`, { skip: backend.skip }, () => {
    // The account throttle would lock after 5 failures.
    const suite = testAppPerSuite(backend, {
      ...CHEAP_ARGON2,
      GATEHOUSE_LOGIN_FAILURES_BEFORE_LOCK: '1000',
    });

    it('takes alike for an unknown email, an argon2id account and an imported bcrypt account', async () => {
      const { services, app } = suite.t;
      const argon2Email = uniqueEmail('timing-argon2');
      await services.registerUser({ email: argon2Email, password: STRONG_PASSWORD });
      const bcryptEmail = uniqueEmail('timing-bcrypt');
      await services.importUser({
        email: bcryptEmail,
        passwordHash: await bcryptHash(STRONG_PASSWORD, BCRYPT_COST),
      });

      const cases = {
        unknown: () => uniqueEmail('timing-nobody'),
        argon2id: () => argon2Email,
        bcrypt: () => bcryptEmail,
      };
      const times: Record<keyof typeof cases, number[]> = {
        unknown: [],
        argon2id: [],
        bcrypt: [],
      };
      for (let round = 0; round < ROUNDS; round++) {
        for (const [name, username] of Object.entries(cases) as [
          keyof typeof cases,
          () => string,
        ][]) {
          const started = performance.now();
          const response = await requestToken(app, {
            username: username(),
            password: 'wrong password!',
          });
          times[name].push(performance.now() - started);
          assert.equal(response.statusCode, 401, `${name}: ${response.body}`);
        }
      }

      const medians = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
      const values = Object.values(medians);
      const ratio = Math.max(...values) / Math.min(...values);
      const shown = JSON.stringify(medians, (_k, v: unknown) =>
        typeof v === 'number' ? Math.round(v) : v,
      );
      console.log(`# login failure medians (ms): ${shown}, ratio ${ratio.toFixed(2)}`);
      assert.ok(ratio <= MAX_MEDIAN_RATIO, `medians ${shown}: ratio ${ratio.toFixed(2)}`);
    });
  });
}
