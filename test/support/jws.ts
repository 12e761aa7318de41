// Hand-made compact JWS for the tests that forge tokens (RFC 7515 7.1): what a library such
// as jose would refuse to produce.

export const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** One base64url segment of a JWT, decoded as JSON (no checks: tests only). */
export function decodePart(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>;
}

/** The header and claims of a JWT, read without verifying. */
export function jwtParts(token: string): {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
} {
  const [header, claims] = token.split('.');
  return { header: decodePart(header ?? ''), claims: decodePart(claims ?? '') };
}

/** A compact JWS over `header` and `claims`, signed by `signer` (empty signature if none). */
export function craft(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  signer?: (input: Buffer) => Buffer,
): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${signer ? b64url(signer(Buffer.from(input))) : ''}`;
}
