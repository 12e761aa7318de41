/** The JWS algorithms Gatehouse signs access tokens with (API.md 7, RFC 7518 3.1, RFC 8037). */
export const SIGNING_ALGORITHMS = ['EdDSA', 'ES256', 'RS256', 'HS256'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];
/** The algorithms whose keys are generated, kept in the store and published in the JWKS. */
export type AsymmetricAlgorithm = Exclude<SigningAlgorithm, 'HS256'>;

export function isAsymmetric(alg: SigningAlgorithm): alg is AsymmetricAlgorithm {
  return alg !== 'HS256';
}
