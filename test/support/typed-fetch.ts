import type { paths } from '../../src/http/openapi-types.generated.ts';

/**
 * A small fetch wrapper typed by the OpenAPI document (src/http/openapi-types.generated.ts),
 * as a generated client would be: the request body and the 200 body of each operation are
 * the document's, so a field the server does not document fails to type-check.
 */
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** The operation at `path` and `method`; never where the document has none. */
export type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;

type RequestContent<O> = O extends { requestBody: { content: infer C } } ? C : never;

/** `json` or `form`, as the operation's request body is documented; neither without one. */
type BodyOption<C> = [C] extends [never]
  ? { json?: never; form?: never }
  : C extends { 'application/json': infer B }
    ? { json: B; form?: never }
    : C extends { 'application/x-www-form-urlencoded': infer B }
      ? { form: B; json?: never }
      : never;

/** Nothing can be passed (so nothing called) where the document has no such operation. */
export type RequestOptions<O> = [O] extends [never]
  ? never
  : BodyOption<RequestContent<O>> & {
      /** A Bearer access token. */
      token?: string;
      /** Values of the path's `{name}` parameters. */
      params?: Record<string, string | number>;
    };

/** What the wrapper reads of any operation's options. */
interface AnyRequestOptions {
  json?: unknown;
  form?: Record<string, string>;
  token?: string;
  params?: Record<string, string | number>;
}

/** The JSON body of the operation's 200 response. */
export type SuccessBody<O> = O extends {
  responses: { 200: { content: { 'application/json': infer B } } };
}
  ? B
  : never;

/** Every error body is `{"detail": ...}`, with a stable `code` (API.md). */
export interface ErrorBody {
  detail: unknown;
  code?: string;
}

export type TypedResponse<O> =
  | { ok: true; status: number; body: SuccessBody<O> }
  | { ok: false; status: number; body: ErrorBody };

/** A client of the Gatehouse at `baseUrl`: `call('post', '/users/', { json: {...} })`. */
export function typedFetch(baseUrl: string) {
  return async function call<P extends keyof paths, M extends Method>(
    method: M,
    path: P,
    options: RequestOptions<Operation<P, M>>,
  ): Promise<TypedResponse<Operation<P, M>>> {
    const { json, form, token, params = {} } = options as AnyRequestOptions;
    const url = String(path).replace(/\{(\w+)\}/g, (_match, name: string) =>
      encodeURIComponent(String(params[name])),
    );
    const headers: Record<string, string> = {};
    let body: string | undefined;
    if (json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(json);
    } else if (form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const response = await fetch(new URL(url, baseUrl), {
      method: method.toUpperCase(),
      headers,
      body,
    });
    const text = await response.text();
    const parsed: unknown = text === '' ? undefined : JSON.parse(text);
    return response.ok
      ? { ok: true, status: response.status, body: parsed as SuccessBody<Operation<P, M>> }
      : { ok: false, status: response.status, body: parsed as ErrorBody };
  };
}
