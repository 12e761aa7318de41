/**
 * Type-level checks (`tsc -p web`; not bundled: nothing imports this file) that the UI's wire
 * types are the server's. They are derived from the generated OpenAPI types (api.ts), so a
 * field the server stops sending fails the pages that read it; these checks catch the one
 * silent failure left, a derivation that yields `never` or `any`, on which any read compiles.
 */
import type {
  Answer,
  ApiClient,
  AuditEntry,
  JsonBody,
  MfaStatus,
  NewApiClient,
  PasskeyItem,
  QueryOf,
  SessionItem,
  User,
  UsersQuery,
} from './api.ts';

type IsAny<T> = 0 extends 1 & T ? true : false;
/** True when T is an object type with members: not never, any or unknown. */
type Concrete<T> = [T] extends [never]
  ? false
  : IsAny<T> extends true
    ? false
    : T extends object
      ? true
      : false;
type Check<T extends true> = T;

export type WireTypesAreConcrete = [
  Check<Concrete<User>>,
  Check<Concrete<SessionItem>>,
  Check<Concrete<ApiClient>>,
  Check<Concrete<NewApiClient>>,
  Check<Concrete<AuditEntry>>,
  Check<Concrete<MfaStatus>>,
  Check<Concrete<PasskeyItem>>,
  Check<Concrete<Answer<'issueToken'>>>,
  Check<Concrete<JsonBody<'updateUser'>>>,
];

// A 204 answers null; an operation without a JSON body takes none.
export type NoContent = Check<Answer<'deleteUser'> extends null ? true : false>;
export type NoJsonBody = Check<[JsonBody<'getCurrentUser'>] extends [never] ? true : false>;

// The wire shapes the pages rely on, field by field from the server's schemas.
export const sample: User = {
  id: 1,
  email: 'a@example.com',
  role: 'user',
  disabled: false,
  email_verified: false,
  mfa_enabled: false,
  created_at: '2026-01-01T00:00:00Z',
  // @ts-expect-error the server's User has no password (hash) field: it never leaves the server
  password: 'x',
};
// @ts-expect-error the audit filter takes the server's event types: `login.failed`, not `login_failed`
export const badType: QueryOf<'listAuditEntries'>['type'] = 'login_failed';
export const device: SessionItem['device'] = null;
// The list queries take the server's parameter names only (no index signature that takes any).
// @ts-expect-error the users list filters by `email_prefix`; it has no `email` parameter
export const badQuery: UsersQuery = { email: 'a@example.com' };
export const usersQuery: Required<UsersQuery> = { email_prefix: 'a', cursor: 'c', limit: 20 };
