import {
  startAuthentication,
  startRegistration,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/browser';
import {
  addPasskey,
  grantSignIn,
  passkeyMfaOptions,
  passkeyRegistrationOptions,
  passkeySignInOptions,
  type PasskeyItem,
} from './api.ts';

// API.md 9: the grants of POST /token that take a passkey assertion.
const WEBAUTHN_GRANT = 'urn:gatehouse:params:oauth:grant-type:webauthn';
const MFA_WEBAUTHN_GRANT = 'urn:gatehouse:params:oauth:grant-type:mfa-webauthn';

/** True when this browser can use passkeys at all (a secure context with WebAuthn). */
export function passkeysSupported(): boolean {
  return window.isSecureContext && typeof window.PublicKeyCredential === 'function';
}

/** The browser's message when the user cancels or no authenticator answers, made readable. */
function ceremonyError(error: unknown): Error {
  const name = (error as { name?: string } | null)?.name;
  if (name === 'NotAllowedError' || name === 'AbortError') {
    return new Error('The passkey request was cancelled or timed out.');
  }
  if (name === 'InvalidStateError') return new Error('This passkey is registered already.');
  return error instanceof Error ? error : new Error(String(error));
}

/** Proves the password, asks the authenticator for a new passkey and stores it. */
export async function createPasskey(password: string, name?: string): Promise<PasskeyItem> {
  const { options } = await passkeyRegistrationOptions(password);
  let credential;
  try {
    credential = await startRegistration({
      optionsJSON: options as PublicKeyCredentialCreationOptionsJSON,
    });
  } catch (error) {
    throw ceremonyError(error);
  }
  return addPasskey(credential, name);
}

async function assertion(options: unknown): Promise<string> {
  try {
    const credential = await startAuthentication({
      optionsJSON: options as PublicKeyCredentialRequestOptionsJSON,
    });
    return JSON.stringify(credential);
  } catch (error) {
    throw ceremonyError(error);
  }
}

/** Signs in without a password: a discoverable passkey with user verification. */
export async function signInWithPasskey(): Promise<void> {
  const { options } = await passkeySignInOptions();
  await grantSignIn({ grant_type: WEBAUTHN_GRANT, credential: await assertion(options) });
}

/** The second step of a password sign-in that answered `mfa_required`, with a passkey. */
export async function finishWithPasskey(mfaToken: string): Promise<void> {
  const { options } = await passkeyMfaOptions(mfaToken);
  await grantSignIn({
    grant_type: MFA_WEBAUTHN_GRANT,
    mfa_token: mfaToken,
    credential: await assertion(options),
  });
}
