// The resource-server SDK's verify of a token whose key set is cached, against bare
// jose.jwtVerify with the key already imported (issue 13: at least 0.8x). Both verify the same
// EdDSA token with the same checks, in one process, in alternating rounds; the SDK's key set
// comes from a local metadata + JWKS server it reads once (as it would read Gatehouse's).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { createVerifier } from '../src/resource-server/index.ts';

export interface SdkVerifyResult {
  sdkPerSecond: number;
  josePerSecond: number;
  ratio: number;
}

async function opsPerSecond(verify: () => Promise<unknown>, milliseconds: number): Promise<number> {
  let count = 0;
  const start = performance.now();
  const end = start + milliseconds;
  while (performance.now() < end) {
    // 100 at a time: reading the clock after each would weigh on the faster of the two.
    for (let i = 0; i < 100; i++) await verify();
    count += 100;
  }
  return (count * 1000) / (performance.now() - start);
}

export async function sdkVerifyRatio(seconds: number, rounds: number): Promise<SdkVerifyResult> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'EdDSA', use: 'sig' };
  const server = createServer((req, res) => {
    const body =
      req.url === '/.well-known/jwks.json'
        ? { keys: [jwk] }
        : { issuer, jwks_uri: `${issuer}/.well-known/jwks.json` };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const audience = 'gatehouse';
    const token = await new SignJWT({ sid: 'session', scope: 'me', jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'bench' })
      .setSubject('1')
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
    const verifier = createVerifier({ issuer, audience });
    const options = {
      algorithms: ['EdDSA'],
      typ: 'at+jwt',
      issuer,
      audience,
      requiredClaims: ['sub', 'exp', 'iat', 'jti', 'sid'],
    };
    const sdk = () => verifier.verify(token);
    const bare = () => jwtVerify(token, publicKey, options);
    // Warm-up: discovery, the JWKS fetch, and V8's optimisation of both paths.
    await opsPerSecond(sdk, 300);
    await opsPerSecond(bare, 300);
    let sdkTotal = 0;
    let joseTotal = 0;
    // Alternating which goes first, so neither always runs on a machine just warmed or slowed.
    for (let round = 0; round < rounds; round++) {
      if (round % 2 === 0) {
        joseTotal += await opsPerSecond(bare, seconds * 1000);
        sdkTotal += await opsPerSecond(sdk, seconds * 1000);
      } else {
        sdkTotal += await opsPerSecond(sdk, seconds * 1000);
        joseTotal += await opsPerSecond(bare, seconds * 1000);
      }
    }
    const sdkPerSecond = sdkTotal / rounds;
    const josePerSecond = joseTotal / rounds;
    return { sdkPerSecond, josePerSecond, ratio: sdkPerSecond / josePerSecond };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

// `npx tsx bench/sdk-verify.ts`: this measurement alone.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await sdkVerifyRatio(2, 4);
  console.log(
    `SDK verify ${result.sdkPerSecond.toFixed(0)}/s, bare jose.jwtVerify ${result.josePerSecond.toFixed(0)}/s, ratio ${result.ratio.toFixed(2)}`,
  );
}
