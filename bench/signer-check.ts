// npx tsx bench/signer-check.ts [--store sqlite|postgres]: what checking the active kid before
// every signature (key-ring.ts KeyRing.signer) costs the grants that sign. In one process, on
// one store, rounds alternate between services whose check reads the store (as shipped) and
// services whose check answers from memory (what signing cost before the check existed), and
// report medians and their ratio: the refresh grant one at a time and 16 at once, and the
// password grant, all through services.ts with EdDSA keys.
import type { SigningKeyRepository } from '../src/domain/tokens/signing-key-repository.ts';
import { createServices, type Services } from '../src/services.ts';
import { openStorage } from '../src/storage/open-storage.ts';
import { beforeAfterArgs, compareRounds, freshStore, perOp } from './before-after.ts';
import { benchConfig } from './gatehouse-env.ts';

const args = beforeAfterArgs();

async function main() {
  const store = await freshStore(args.store, 'signer');
  const config = benchConfig({
    GATEHOUSE_DATABASE_URL: store.url,
    GATEHOUSE_JWT_ALG: 'EdDSA',
    GATEHOUSE_JWT_SECRET: '',
  });
  const storage = await openStorage(store.url);
  await storage.migrate();
  const checked = await createServices(config, storage);
  const inner = storage.signingKeys;
  const kid = await inner.activeKid('EdDSA');
  const fromMemory: SigningKeyRepository = {
    activeKid: async () => kid,
    listUsable: (alg, after) => inner.listUsable(alg, after),
    listAll: () => inner.listAll(),
    insertIfNoneActive: (candidate) => inner.insertIfNoneActive(candidate),
    rotate: (expected, candidate) => inner.rotate(expected, candidate),
    deleteRetiredBefore: (cutoff) => inner.deleteRetiredBefore(cutoff),
    deleteRetired: (kid) => inner.deleteRetired(kid),
    replacePrivateKeys: (changes) => inner.replacePrivateKeys(changes),
  };
  const unchecked = await createServices(config, { ...storage, signingKeys: fromMemory });

  const email = 'bench@example.com';
  const password = 'correct horse battery staple';
  await checked.registerUser({ email, password });
  const client = { ip: '127.0.0.1', userAgent: 'bench/1.0' };
  // 16 sessions per services, so that concurrent refreshes never present the same token.
  const lanes = new Map<Services, string[]>();
  for (const services of [checked, unchecked]) {
    const tokens: string[] = [];
    for (let lane = 0; lane < 16; lane += 1) {
      tokens.push(
        (await services.passwordGrant({ username: email, password, client })).refreshToken,
      );
    }
    lanes.set(services, tokens);
  }
  const refresh = async (services: Services, lane: number) => {
    const tokens = lanes.get(services)!;
    tokens[lane] = (await services.rotateRefreshToken(tokens[lane]!, client)).refreshToken;
  };

  const cases = {
    // The added work alone: the check's read (and its promise hops) against none.
    'signer() alone, 1 at a time': {
      after: () => perOp(5000, 1, () => checked.signingKeys.tokenKeys.signer()),
      before: () => perOp(5000, 1, () => unchecked.signingKeys.tokenKeys.signer()),
    },
    'signer() alone, 16 at once': {
      after: () => perOp(16_000, 16, () => checked.signingKeys.tokenKeys.signer()),
      before: () => perOp(16_000, 16, () => unchecked.signingKeys.tokenKeys.signer()),
    },
    'refresh grant, 1 at a time': {
      after: () => perOp(300, 1, () => refresh(checked, 0)),
      before: () => perOp(300, 1, () => refresh(unchecked, 0)),
    },
    'refresh grant, 16 at once': {
      after: () => perOp(800, 16, (lane) => refresh(checked, lane)),
      before: () => perOp(800, 16, (lane) => refresh(unchecked, lane)),
    },
    'password grant': {
      after: () => perOp(20, 1, () => checked.passwordGrant({ username: email, password, client })),
      before: () =>
        perOp(20, 1, () => unchecked.passwordGrant({ username: email, password, client })),
    },
  };
  console.log(
    `store: ${args.store}, ${args.rounds} rounds, medians in µs per operation (throughput ratio: checked / unchecked)`,
  );
  await compareRounds(cases, args.rounds, (name, before, after) => {
    console.log(
      `${name.padEnd(28)} unchecked ${before.toFixed(1).padStart(8)}  checked ${after.toFixed(1).padStart(8)}  throughput ratio ${(before / after).toFixed(3)}`,
    );
  });
  await storage.close();
  await store.drop();
}

await main();
