/** A registered WebAuthn credential (API.md 9); the public key never leaves the server. */
export interface Passkey {
  /** Gatehouse's own id of the passkey (a UUID), used in URLs. */
  id: string;
  userId: number;
  /** The credential id, base64url (WebAuthn L2 6.1 credentialId). */
  credentialId: string;
  /** The COSE public key, base64url. */
  publicKey: string;
  /** The last signature counter seen (WebAuthn L2 6.1.1). */
  signCount: number;
  transports: string[];
  /** `multiDevice`: a synced passkey (the BE flag); `singleDevice`: bound to one authenticator. */
  deviceType: 'singleDevice' | 'multiDevice';
  /** The BS flag as last seen: the passkey is currently backed up. */
  backedUp: boolean;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export const CHALLENGE_PURPOSES = ['registration', 'authentication', 'mfa'] as const;
/** The ceremony a challenge was issued for; it opens no other. */
export type ChallengePurpose = (typeof CHALLENGE_PURPOSES)[number];

export interface NewChallenge {
  /** base64url of 32 random bytes, as sent in the options. */
  challenge: string;
  purpose: ChallengePurpose;
  /** The user the ceremony is for: registration and MFA; null for a passwordless sign-in. */
  userId: number | null;
  createdAt: Date;
  expiresAt: Date;
}

/** Longest passkey name kept (a label shown on the account page). */
export const MAX_PASSKEY_NAME_LENGTH = 64;
