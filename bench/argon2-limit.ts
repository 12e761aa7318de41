import { availableParallelism } from 'node:os';
import { hash, verify, type Algorithm } from '@node-rs/argon2';

/**
 * Baseline (b), the raw hashing limit: argon2id verifications per second with every core busy,
 * at the server's parameters, with no HTTP. The password grant can't beat this figure. Also
 * the CPU milliseconds one verification costs, which a busy machine disturbs much less.
 */
export async function argon2Limit(
  params: { memoryCost: number; timeCost: number; parallelism: number },
  seconds: number,
): Promise<{ verifications: number; seconds: number; cpuMs: number }> {
  const options = { algorithm: 2 as Algorithm, ...params };
  const stored = await hash('bench password 123', options);
  const deadline = Date.now() + seconds * 1000;
  let done = 0;
  const started = Date.now();
  const cpuBefore = process.cpuUsage();
  const lane = async () => {
    while (Date.now() < deadline) {
      await verify(stored, 'bench password 123');
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: availableParallelism() }, lane));
  const cpu = process.cpuUsage(cpuBefore);
  return {
    verifications: done,
    seconds: (Date.now() - started) / 1000,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}
