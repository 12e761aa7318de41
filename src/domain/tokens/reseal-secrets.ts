import type { MfaRepository, TotpSecretChange } from '../mfa/mfa-repository.ts';
import { associatedData } from '../mfa/totp.ts';
import type { KeyEncryption } from './key-material.ts';
import type { PrivateKeyChange, SigningKeyRepository } from './signing-key-repository.ts';

/** TOTP factors read per page, and rows rewritten per transaction. */
const PAGE_SIZE = 500;

export interface ResealDeps {
  signingKeys: SigningKeyRepository;
  mfa: MfaRepository;
  /** GATEHOUSE_KEY_ENCRYPTION_KEY, and GATEHOUSE_KEY_ENCRYPTION_KEY_PREVIOUS if set. */
  encryption: KeyEncryption;
}

export interface ResealCounts {
  /** Sealed anew under the current key (or, in a dry run, to be). */
  resealed: number;
  alreadyCurrent: number;
  /** Changed by someone else between the read and the write, and so left as written. */
  changedMeanwhile: number;
}

export type ResealOutcome =
  | { ok: true; signingKeys: ResealCounts; totpSecrets: ResealCounts }
  /** What opens under neither key, named (`signing key <kid>`, `TOTP secret of user <id>`). */
  | { ok: false; unopenable: string[] };

interface Plan<Change> {
  changes: Change[];
  alreadyCurrent: number;
}

/**
 * `gatehouse reseal`: seals every secret at rest (private signing keys of every algorithm, TOTP
 * secrets pending or confirmed) under the current key, so the previous one can be retired (ASVS
 * 4.0 6.4.2, 5.0 V11.1: keys can be rotated). A value under the previous key, or stored
 * unencrypted (development), is sealed anew; one under the current key is left.
 *
 * Everything is read and checked before anything is written: if any value opens under neither
 * key, nothing changes and the outcome names each one. Each write is a compare-and-set on the
 * value read, so a value changed meanwhile (a rotation, a new enrolment) is never overwritten;
 * instances running with the current key have sealed it under that key already.
 */
export async function resealSecrets(
  deps: ResealDeps,
  options: { dryRun: boolean },
): Promise<ResealOutcome> {
  const unopenable: string[] = [];
  const keys = await planSigningKeys(deps, unopenable);
  const totp = await planTotpSecrets(deps, unopenable);
  if (unopenable.length > 0) return { ok: false, unopenable };
  const apply = async <Change>(
    plan: Plan<Change>,
    replace: (changes: Change[]) => Promise<number>,
  ): Promise<ResealCounts> => {
    let resealed = 0;
    if (options.dryRun) resealed = plan.changes.length;
    else {
      for (let i = 0; i < plan.changes.length; i += PAGE_SIZE) {
        resealed += await replace(plan.changes.slice(i, i + PAGE_SIZE));
      }
    }
    return {
      resealed,
      alreadyCurrent: plan.alreadyCurrent,
      changedMeanwhile: plan.changes.length - resealed,
    };
  };
  return {
    ok: true,
    signingKeys: await apply(keys, (changes) => deps.signingKeys.replacePrivateKeys(changes)),
    totpSecrets: await apply(totp, (changes) => deps.mfa.replaceTotpSecrets(changes)),
  };
}

async function planSigningKeys(
  { signingKeys, encryption }: ResealDeps,
  unopenable: string[],
): Promise<Plan<PrivateKeyChange>> {
  const plan: Plan<PrivateKeyChange> = { changes: [], alreadyCurrent: 0 };
  for (const key of await signingKeys.listAll()) {
    const der = plaintextOf(encryption, key.encryption, key.privateKey, key.kid, 'base64');
    if (der === 'current') plan.alreadyCurrent += 1;
    else if (der === undefined) unopenable.push(`signing key ${key.kid}`);
    else {
      plan.changes.push({
        kid: key.kid,
        fromPrivateKey: key.privateKey,
        privateKey: encryption.seal(der, key.kid),
        encryption: 'aes-256-gcm',
      });
    }
  }
  return plan;
}

async function planTotpSecrets(
  { mfa, encryption }: ResealDeps,
  unopenable: string[],
): Promise<Plan<TotpSecretChange>> {
  const plan: Plan<TotpSecretChange> = { changes: [], alreadyCurrent: 0 };
  for (let after = 0; ;) {
    const page = await mfa.listTotpFactors(after, PAGE_SIZE);
    if (page.length === 0) return plan;
    for (const factor of page) {
      const ad = associatedData(factor.userId);
      const secret = plaintextOf(encryption, factor.secretEncryption, factor.secret, ad, 'utf8');
      if (secret === 'current') plan.alreadyCurrent += 1;
      else if (secret === undefined) unopenable.push(`TOTP secret of user ${factor.userId}`);
      else {
        plan.changes.push({
          userId: factor.userId,
          fromSecret: factor.secret,
          secret: encryption.seal(secret, ad),
          secretEncryption: 'aes-256-gcm',
        });
      }
    }
    after = page.at(-1)!.userId;
  }
}

/**
 * The plaintext of a stored value that must be sealed anew; 'current' when the current key
 * opens it already; undefined when neither key does.
 */
function plaintextOf(
  encryption: KeyEncryption,
  kind: 'none' | 'aes-256-gcm',
  stored: string,
  associated: string,
  unencoded: 'base64' | 'utf8',
): Buffer | 'current' | undefined {
  if (kind === 'none') return Buffer.from(stored, unencoded);
  const opened = encryption.openWithKey(stored, associated);
  return opened?.key === 'previous' ? opened.plaintext : opened?.key;
}
