/**
 * The UI's only way to the server: the public JSON API of API.md, plus the refresh-token
 * cookie mode of POST /token. The access token lives in this module's memory only (never in
 * localStorage or a readable cookie); a reload gets a new one through the HttpOnly cookie.
 */
import type { operations } from '../../src/http/openapi-types.generated.ts';

// The wire types are the server's: derived from the OpenAPI document its route schemas produce
// (src/http/openapi-types.generated.ts, `npm run openapi:types`; a test fails while it is stale).
// Type-only imports, so nothing of it reaches the bundle. Each call below names its operationId,
// and its answer and body are that operation's: a field the server drops fails `tsc -p web`.
type Operation = keyof operations;
type Responses<O extends Operation> = operations[O]['responses'];
type JsonOf<R> = R extends { content: { 'application/json': infer Body } } ? Body : null;
/** The body of an operation's success answers (null for 204). */
export type Answer<O extends Operation> = {
  [S in keyof Responses<O>]: S extends 200 | 201 | 202 | 204 ? JsonOf<Responses<O>[S]> : never;
}[keyof Responses<O>];
type RequestContent<O extends Operation> =
  NonNullable<operations[O]['requestBody']> extends {
    content: infer Content;
  }
    ? Content
    : never;
/** The JSON body an operation takes (never: it takes none). */
export type JsonBody<O extends Operation> =
  RequestContent<O> extends { 'application/json': infer Body } ? Body : never;
/** The form body an operation takes (POST /token). */
export type FormBody<O extends Operation> =
  RequestContent<O> extends { 'application/x-www-form-urlencoded': infer Body } ? Body : never;
/** The query parameters an operation takes. */
export type QueryOf<O extends Operation> = NonNullable<operations[O]['parameters']['query']>;
/**
 * A list's query as the UI sends it: only the operation's parameter names (any other fails
 * `tsc -p web`), each value of its schema's type or as text, the way the page's URL holds it.
 * The server checks the text: a bad value answers 422 naming the parameter, shown at its field.
 */
export type ListQuery<O extends Operation> = {
  [K in keyof QueryOf<O>]?: QueryOf<O>[K] | string | undefined;
};
/** GET /users/: email_prefix, cursor, limit. */
export type UsersQuery = ListQuery<'listUsers'>;
/** GET /audit: the filters (user_id or user_email, type, since, until), cursor, limit. */
export type AuditQuery = ListQuery<'listAuditEntries'>;

type Item<List> = List extends { items: (infer Item)[] } ? Item : never;

export type User = Answer<'getCurrentUser'>;
export type SessionItem = Item<Answer<'listSessions'>>;
export type ApiClient = Item<Answer<'listApiClients'>>;
export type NewApiClient = Answer<'createApiClient'>;
export type AuditEntry = Item<Answer<'listAuditEntries'>>;
export type MfaStatus = Answer<'getMfaStatus'>;
export type PasskeyItem = Item<Answer<'listPasskeys'>>;

/** A page of a cursor-paginated list (GET /users/, GET /audit). */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
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

interface SendOptions {
  json?: unknown;
  form?: unknown;
  auth?: boolean;
  headers?: Record<string, string>;
}

/** What a call of operation O sends: its JSON or form body, typed as the server reads it. */
interface Options<O extends Operation> extends SendOptions {
  json?: JsonBody<O>;
  form?: FormBody<O>;
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

async function send(method: string, path: string, options: SendOptions): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form as Record<string, string>).toString();
  }
  if (options.auth !== false && accessToken) headers.authorization = `Bearer ${accessToken}`;
  try {
    return await fetch(path, { method, headers, body, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'Cannot reach the server. Check your connection and try again.');
  }
}

/**
 * Calls operation O (its operationId; `method` and `path` are its route) and answers its success
 * body. A 401 on an authenticated call is answered by one silent refresh and one retry.
 */
async function call<O extends Operation>(
  method: string,
  path: string,
  options: Options<O> = {},
): Promise<Answer<O>> {
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
  return body as Answer<O>;
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
    call<'issueToken'>('POST', '/token', {
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
    const body = await call<'issueToken'>('POST', '/token', {
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
  const body = await call<'issueToken'>('POST', '/token', {
    form: { grant_type: MFA_OTP_GRANT, mfa_token: mfaToken, otp },
    headers: COOKIE_MODE,
    auth: false,
  });
  setAccessToken(body.access_token);
}

export async function signOut(everywhere = false): Promise<void> {
  try {
    await call<'logout' | 'logoutAll'>('POST', everywhere ? '/logout/all' : '/logout');
  } finally {
    accessToken = null;
  }
}

/** Ends every other session of the user; this one, and its refresh cookie, stay (ASVS 5.0 7.4.3). */
export const signOutOthers = () => call<'logoutOthers'>('POST', '/logout/others');

export const register = (email: string, password: string) =>
  call<'registerUser'>('POST', '/users/', { json: { email, password }, auth: false });
export const me = () => call<'getCurrentUser'>('GET', '/users/me/');
export const sessions = () => call<'listSessions'>('GET', '/users/me/sessions');
export const endSession = (id: string) =>
  call<'endSession'>('DELETE', `/users/me/sessions/${encodeURIComponent(id)}`);
export const changePassword = (current_password: string, new_password: string) =>
  call<'changePassword'>('PUT', '/users/me/password', { json: { current_password, new_password } });

/** `key=value&...` of the set values of a list's query (for the API's URL, or the page's). */
export function queryText(params: Readonly<Record<string, string | number | undefined>>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, String(value));
  return search.toString();
}

function query(params: Readonly<Record<string, string | number | undefined>>): string {
  const text = queryText(params);
  return text ? `?${text}` : '';
}

export const listUsers = (params: UsersQuery) =>
  call<'listUsers'>('GET', `/users/${query(params)}`);
export const endUserSessions = (id: number) =>
  call<'endUserSessions'>('DELETE', `/users/${id}/sessions`);
export const auditTypes = () => call<'listAuditEventTypes'>('GET', '/audit/types');
export const updateUser = (id: number, changes: JsonBody<'updateUser'>) =>
  call<'updateUser'>('PATCH', `/users/${id}`, { json: changes });
export const deleteUser = (id: number) => call<'deleteUser'>('DELETE', `/users/${id}`);
export const listAudit = (params: AuditQuery) =>
  call<'listAuditEntries'>('GET', `/audit${query(params)}`);
export const listClients = () => call<'listApiClients'>('GET', '/clients');
export const createClient = (name: string) =>
  call<'createApiClient'>('POST', '/clients', { json: { name } });
export const deleteClient = (id: number) => call<'deleteApiClient'>('DELETE', `/clients/${id}`);

// API.md 8: verification, password reset and email change.
export const requestVerification = () =>
  call<'requestEmailVerification'>('POST', '/users/me/verify-email');
export const confirmEmailToken = (token: string) =>
  call<'verifyEmail'>('POST', '/verify-email', { json: { token }, auth: false });
export const requestPasswordReset = (email: string) =>
  call<'requestPasswordReset'>('POST', '/password-reset', { json: { email }, auth: false });
export const confirmPasswordReset = (token: string, new_password: string) =>
  call<'confirmPasswordReset'>('POST', '/password-reset/confirm', {
    json: { token, new_password },
    auth: false,
  });
export const requestEmailChange = (new_email: string, current_password: string) =>
  call<'requestEmailChange'>('POST', '/users/me/email', { json: { new_email, current_password } });

// API.md 9: second factors.
export const mfaStatus = () => call<'getMfaStatus'>('GET', '/users/me/mfa');
export const startTotp = (current_password: string) =>
  call<'startTotpEnrolment'>('POST', '/users/me/mfa/totp', {
    json: { current_password },
  });
export const confirmTotp = (code: string) =>
  call<'confirmTotpEnrolment'>('POST', '/users/me/mfa/totp/confirm', { json: { code } });
export const disableTotp = (current_password: string) =>
  call<'disableTotp'>('DELETE', '/users/me/mfa/totp', { json: { current_password } });
export const newRecoveryCodes = (current_password: string) =>
  call<'regenerateRecoveryCodes'>('POST', '/users/me/mfa/recovery-codes', {
    json: { current_password },
  });
// API.md 9: passkeys.
export const passkeyRegistrationOptions = (current_password: string) =>
  call<'startPasskeyRegistration'>('POST', '/users/me/passkeys/registration/options', {
    json: { current_password },
  });
export const addPasskey = (credential: unknown, name?: string) =>
  call<'finishPasskeyRegistration'>('POST', '/users/me/passkeys', { json: { credential, name } });
export const listPasskeys = () => call<'listPasskeys'>('GET', '/users/me/passkeys');
export const deletePasskey = (id: string) =>
  call<'deletePasskey'>('DELETE', `/users/me/passkeys/${encodeURIComponent(id)}`);
export const passkeySignInOptions = () =>
  call<'startPasskeySignIn'>('POST', '/webauthn/authentication/options', { auth: false });
export const passkeyMfaOptions = (mfa_token: string) =>
  call<'startPasskeyMfa'>('POST', '/webauthn/mfa/options', {
    json: { mfa_token },
    auth: false,
  });

/** POST /token with another grant (passkey, MFA step) in cookie mode, like signIn. */
export async function grantSignIn(form: Record<string, string>): Promise<void> {
  const body = await call<'issueToken'>('POST', '/token', {
    form,
    headers: COOKIE_MODE,
    auth: false,
  });
  setAccessToken(body.access_token);
}
