/**
 * The UI's only way to the server: the public JSON API of API.md, plus the refresh-token
 * cookie mode of POST /token. The access token lives in this module's memory only (never in
 * localStorage or a readable cookie); a reload gets a new one through the HttpOnly cookie.
 */

export interface User {
  id: number;
  email: string;
  role: 'user' | 'admin';
  disabled: boolean;
  email_verified: boolean;
  mfa_enabled: boolean;
  created_at: string;
}

export interface SessionItem {
  id: string;
  created_at: string;
  last_used_at: string;
  user_agent: string | null;
  /** A short name the server reads from user_agent ("Chrome on Linux", "curl"). */
  device?: string | null;
  ip: string | null;
  current: boolean;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface ApiClient {
  id: number;
  client_id: string;
  name: string;
  created_at: string;
}

export interface AuditEntry {
  id: number | string;
  type: string;
  created_at: string;
  actor_id: number | null;
  subject_id: number | null;
  email?: string | null;
  /** The emails the actor and subject accounts hold now; null once deleted. */
  actor_email?: string | null;
  subject_email?: string | null;
  ip: string | null;
  user_agent?: string | null;
  details?: Record<string, unknown> | null;
}

/** An API failure, with a message fit to show and, for 422s, the message of each field. */
export class ApiError extends Error {
  readonly status: number;
  readonly fields: Record<string, string>;
  /** API.md 9: the password grant's 403 `mfa_required` carries the token of the next step. */
  mfaToken: string | undefined;
  /** The body's stable `code` (`too_many_attempts`, `rate_limited`, `invalid_grant`, ...). */
  code: string | undefined;
  /** Seconds from Retry-After, on a 429 or 503. */
  retryAfter: number | undefined;
  constructor(status: number, message: string, fields: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.fields = fields;
  }
}

const COOKIE_MODE = { 'X-Gatehouse-Refresh-Cookie': '1' };
let accessToken: string | null = null;

function setAccessToken(token: string): void {
  accessToken = token;
  noSession = false;
}

export function signedIn(): boolean {
  return accessToken !== null;
}

interface Options {
  json?: unknown;
  form?: Record<string, string>;
  auth?: boolean;
  headers?: Record<string, string>;
}

function messageOf(status: number, body: unknown, retryAfter: string | null): ApiError {
  const error = messageFor(status, body, retryAfter);
  const code = (body as { code?: unknown } | null)?.code;
  if (typeof code === 'string') error.code = code;
  const seconds = Number(retryAfter);
  if (retryAfter !== null && Number.isFinite(seconds)) error.retryAfter = Math.max(1, seconds);
  return error;
}

function messageFor(status: number, body: unknown, retryAfter: string | null): ApiError {
  if (status === 429) {
    const code = (body as { code?: unknown } | null)?.code;
    const wait = `try again in ${retryAfter ?? 'a few'} s`;
    // The two limits differ: one account's lock (ASVS 2.2.1), or this network's rate limit.
    if (code === 'too_many_attempts') {
      return new ApiError(429, `Too many failed attempts for this account; ${wait}.`);
    }
    return new ApiError(429, `Too many requests from this network; ${wait}.`);
  }
  if (status >= 500) {
    const detail = (body as { detail?: unknown } | null)?.detail;
    const extra = typeof detail === 'string' ? ` (${detail})` : '';
    return new ApiError(status, `The server could not answer${extra}. Try again shortly.`);
  }
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (Array.isArray(detail)) {
    const fields: Record<string, string> = {};
    for (const issue of detail as { loc?: unknown[]; msg?: string }[]) {
      const name = String(issue.loc?.[issue.loc.length - 1] ?? 'body');
      fields[name] ??= issue.msg ?? 'Invalid value';
    }
    return new ApiError(status, Object.values(fields)[0] ?? 'Please check the form.', fields);
  }
  return new ApiError(
    status,
    typeof detail === 'string' ? detail : `Request failed (HTTP ${status}).`,
  );
}

async function send(method: string, path: string, options: Options): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  }
  if (options.auth !== false && accessToken) headers.authorization = `Bearer ${accessToken}`;
  try {
    return await fetch(path, { method, headers, body, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'Cannot reach the server. Check your connection and try again.');
  }
}

/** Calls the API; a 401 on an authenticated call is answered by one silent refresh and one retry. */
async function call<T>(method: string, path: string, options: Options = {}): Promise<T> {
  let response = await send(method, path, options);
  if (response.status === 401 && options.auth !== false && accessToken && (await refresh())) {
    response = await send(method, path, options);
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    if (response.status === 401 && options.auth !== false) accessToken = null;
    const error = messageOf(response.status, body, response.headers.get('retry-after'));
    const mfaToken = (body as { mfa_token?: unknown } | null)?.mfa_token;
    if (typeof mfaToken === 'string') error.mfaToken = mfaToken;
    throw error;
  }
  return body as T;
}

interface TokenResponse {
  access_token: string;
}

// One name for every tab of this origin: the browser grants it to one tab at a time.
const REFRESH_LOCK = 'gatehouse-refresh-cookie';

/**
 * Runs `task` while no other tab of this origin refreshes (Web Locks API). All tabs share one
 * refresh cookie, and each refresh spends it: two tabs sending it at once would be reuse
 * (RFC 9700 4.14.2) and end the session. Under the lock, the next tab sends the cookie the
 * previous refresh set. `navigator.locks` exists only in secure contexts (HTTPS, localhost);
 * elsewhere tabs are not coordinated (docs/web-ui.md).
 */
async function oneTabAtATime<T>(task: () => Promise<T>): Promise<T> {
  return 'locks' in navigator ? await navigator.locks.request(REFRESH_LOCK, task) : task();
}

/**
 * What a silent refresh found: a new access token; no session (`reason` says why, when the
 * server knows: "You were signed out because your password was changed"); or a server that
 * can't answer now (429 rate limit, 5xx, network), in which case the session is NOT
 * forgotten: only a 400 `invalid_grant` (or no cookie at all) means signed out, so a
 * flaky network never signs anyone out.
 */
export type RefreshOutcome =
  | { kind: 'refreshed' }
  | { kind: 'signed_out'; reason: string | undefined }
  | { kind: 'unavailable'; retryAfter: number; message: string };

let refreshingOutcome: Promise<RefreshOutcome> | null = null;
/** This page found no session; a sign-in clears it (setAccessToken). */
let noSession = false;

/** Why the last silent refresh found no session, for the sign-in page to say once. */
let signedOutReason: string | undefined;

export function takeSignedOutReason(): string | undefined {
  const reason = signedOutReason;
  signedOutReason = undefined;
  return reason;
}

/**
 * Gets a new access token from the refresh cookie. Single-flight within the page (parallel
 * callers share one refresh) and one tab at a time across tabs, so the UI never presents the
 * same refresh token twice.
 */
export function refreshSession(): Promise<RefreshOutcome> {
  // Known to have no session since this page loaded: asking again would only spend the
  // refresh budget of this network (each refresh counts, cookie or not).
  if (noSession) return Promise.resolve({ kind: 'signed_out', reason: undefined });
  refreshingOutcome ??= oneTabAtATime(() =>
    call<TokenResponse>('POST', '/token', {
      form: { grant_type: 'refresh_token' },
      headers: COOKIE_MODE,
      auth: false,
    }),
  )
    .then((body): RefreshOutcome => {
      setAccessToken(body.access_token);
      return { kind: 'refreshed' };
    })
    .catch((error: unknown): RefreshOutcome => {
      if (
        error instanceof ApiError &&
        (error.status === 0 || error.status === 429 || error.status >= 500)
      ) {
        // The cookie was not spent (the limit answers before the grant runs): keep it.
        return {
          kind: 'unavailable',
          retryAfter: error.retryAfter ?? 5,
          message: error.message,
        };
      }
      accessToken = null;
      noSession = true;
      const reason =
        error instanceof ApiError && error.code === 'invalid_grant' && /^You /.test(error.message)
          ? error.message
          : undefined;
      // A later refresh without a cookie (the failed one cleared it) must not erase the why.
      if (reason) signedOutReason = reason;
      return { kind: 'signed_out', reason };
    })
    .finally(() => {
      refreshingOutcome = null;
    });
  return refreshingOutcome;
}

export async function refresh(): Promise<boolean> {
  return (await refreshSession()).kind === 'refreshed';
}

/**
 * The password grant in cookie mode. For a user with a second factor (API.md 9) the answer is
 * the `mfa_token` for signInWithCode, and no token or cookie is given yet.
 */
export async function signIn(
  email: string,
  password: string,
): Promise<{ mfaToken: string } | undefined> {
  try {
    const body = await call<TokenResponse>('POST', '/token', {
      form: { username: email, password },
      headers: COOKIE_MODE,
      auth: false,
    });
    setAccessToken(body.access_token);
    return undefined;
  } catch (error) {
    if (error instanceof ApiError && error.mfaToken) return { mfaToken: error.mfaToken };
    throw error;
  }
}

export const MFA_OTP_GRANT = 'urn:gatehouse:params:oauth:grant-type:mfa-otp';

/** The MFA step: a TOTP code or a recovery code; the refresh cookie is set only now. */
export async function signInWithCode(mfaToken: string, otp: string): Promise<void> {
  const body = await call<TokenResponse>('POST', '/token', {
    form: { grant_type: MFA_OTP_GRANT, mfa_token: mfaToken, otp },
    headers: COOKIE_MODE,
    auth: false,
  });
  setAccessToken(body.access_token);
}

export async function signOut(everywhere = false): Promise<void> {
  try {
    await call<null>('POST', everywhere ? '/logout/all' : '/logout');
  } finally {
    accessToken = null;
  }
}

export const register = (email: string, password: string) =>
  call<User>('POST', '/users/', { json: { email, password }, auth: false });
export const me = () => call<User>('GET', '/users/me/');
export const sessions = () => call<{ items: SessionItem[] }>('GET', '/users/me/sessions');
export const endSession = (id: string) =>
  call<null>('DELETE', `/users/me/sessions/${encodeURIComponent(id)}`);
export const changePassword = (current_password: string, new_password: string) =>
  call<null>('PUT', '/users/me/password', { json: { current_password, new_password } });

function query(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const listUsers = (params: { email_prefix?: string; cursor?: string; limit?: string }) =>
  call<Page<User> & { total: number }>('GET', `/users/${query(params)}`);
export const endUserSessions = (id: number) => call<null>('DELETE', `/users/${id}/sessions`);
export const auditTypes = () => call<{ items: string[] }>('GET', '/audit/types');
export const updateUser = (id: number, changes: { role?: string; disabled?: boolean }) =>
  call<User>('PATCH', `/users/${id}`, { json: changes });
export const deleteUser = (id: number) => call<null>('DELETE', `/users/${id}`);
export const listAudit = (params: Record<string, string | undefined>) =>
  call<Page<AuditEntry>>('GET', `/audit${query(params)}`);
export const listClients = () => call<{ items: ApiClient[] }>('GET', '/clients');
export const createClient = (name: string) =>
  call<ApiClient & { client_secret: string }>('POST', '/clients', { json: { name } });
export const deleteClient = (id: number) => call<null>('DELETE', `/clients/${id}`);

// API.md 8: verification, password reset and email change.
export const requestVerification = () => call<{ detail: string }>('POST', '/users/me/verify-email');
export const confirmEmailToken = (token: string) =>
  call<null>('POST', '/verify-email', { json: { token }, auth: false });
export const requestPasswordReset = (email: string) =>
  call<{ detail: string }>('POST', '/password-reset', { json: { email }, auth: false });
export const confirmPasswordReset = (token: string, new_password: string) =>
  call<null>('POST', '/password-reset/confirm', { json: { token, new_password }, auth: false });
export const requestEmailChange = (new_email: string, current_password: string) =>
  call<{ detail: string }>('POST', '/users/me/email', { json: { new_email, current_password } });

// API.md 9: second factors.
export interface MfaStatus {
  mfa_enabled: boolean;
  totp: 'enabled' | 'pending' | 'disabled';
  recovery_codes_left: number;
}
export const mfaStatus = () => call<MfaStatus>('GET', '/users/me/mfa');
export const startTotp = (current_password: string) =>
  call<{ secret: string; otpauth_uri: string; qr_svg: string }>('POST', '/users/me/mfa/totp', {
    json: { current_password },
  });
export const confirmTotp = (code: string) =>
  call<{ recovery_codes: string[] }>('POST', '/users/me/mfa/totp/confirm', { json: { code } });
export const disableTotp = (current_password: string) =>
  call<null>('DELETE', '/users/me/mfa/totp', { json: { current_password } });
export const newRecoveryCodes = (current_password: string) =>
  call<{ recovery_codes: string[] }>('POST', '/users/me/mfa/recovery-codes', {
    json: { current_password },
  });
// API.md 9: passkeys.
export interface PasskeyItem {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
  backed_up: boolean;
  device_type: 'singleDevice' | 'multiDevice';
  transports: string[];
}
export const passkeyRegistrationOptions = (current_password: string) =>
  call<{ options: unknown }>('POST', '/users/me/passkeys/registration/options', {
    json: { current_password },
  });
export const addPasskey = (credential: unknown, name?: string) =>
  call<PasskeyItem>('POST', '/users/me/passkeys', { json: { credential, name } });
export const listPasskeys = () => call<{ items: PasskeyItem[] }>('GET', '/users/me/passkeys');
export const deletePasskey = (id: string) =>
  call<null>('DELETE', `/users/me/passkeys/${encodeURIComponent(id)}`);
export const passkeySignInOptions = () =>
  call<{ options: unknown }>('POST', '/webauthn/authentication/options', { auth: false });
export const passkeyMfaOptions = (mfa_token: string) =>
  call<{ options: unknown }>('POST', '/webauthn/mfa/options', {
    json: { mfa_token },
    auth: false,
  });

/** POST /token with another grant (passkey, MFA step) in cookie mode, like signIn. */
export async function grantSignIn(form: Record<string, string>): Promise<void> {
  const body = await call<TokenResponse>('POST', '/token', {
    form,
    headers: COOKIE_MODE,
    auth: false,
  });
  setAccessToken(body.access_token);
}
