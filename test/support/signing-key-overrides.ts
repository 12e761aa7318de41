import type { SigningKeyRepository } from '../../src/domain/tokens/signing-key-repository.ts';

/**
 * `inner` with some methods replaced (counted, held back, failing): every method `overrides`
 * leaves out is `inner`'s own, so a test names only what it changes and a new repository
 * method needs no edit here in every test.
 */
export function signingKeysWith(
  inner: SigningKeyRepository,
  overrides: Partial<SigningKeyRepository>,
): SigningKeyRepository {
  return {
    listUsable: (alg, retiredAfter) => inner.listUsable(alg, retiredAfter),
    activeKid: (alg) => inner.activeKid(alg),
    listAll: () => inner.listAll(),
    insertIfNoneActive: (candidate) => inner.insertIfNoneActive(candidate),
    rotate: (expectedActiveKid, candidate) => inner.rotate(expectedActiveKid, candidate),
    deleteRetiredBefore: (retiredBefore) => inner.deleteRetiredBefore(retiredBefore),
    deleteRetired: (kid) => inner.deleteRetired(kid),
    replacePrivateKeys: (changes) => inner.replacePrivateKeys(changes),
    ...overrides,
  };
}
