/** Hash routing: `#/path?query`. The pages import this; main.ts supplies the renderer. */

/** Why a page is drawn: the user went there (a link, Back, the address bar), or the UI sent it. */
export type Cause = 'user' | 'app';

let renderer: (cause: Cause) => Promise<void> = async () => {};
/** The hash `navigate()` just set, so its `hashchange` is known to come from the UI. */
let expectedHash: string | undefined;

export function setRenderer(render: (cause: Cause) => Promise<void>): void {
  renderer = render;
  window.addEventListener('hashchange', () => {
    const cause = location.hash === expectedHash ? 'app' : 'user';
    expectedHash = undefined;
    void renderer(cause);
  });
}

export function currentPath(): string {
  return (location.hash || '#/').split('?')[0] ?? '#/';
}

export function currentParams(): Record<string, string | undefined> {
  const query = (location.hash.split('?')[1] ?? '').trim();
  return Object.fromEntries(new URLSearchParams(query));
}

/**
 * The current query, as text, of a page whose URL holds the query `Q` of the list it shows: a
 * parameter `Q` doesn't have fails `tsc -p web`.
 */
export function currentQuery<Q>(): { [K in keyof Q]?: string } {
  return currentParams();
}

/** Goes to `hash`; with `force`, renders again even when already there (after a change). */
export function navigate(hash: string, options: { force?: boolean } = {}): void {
  if (location.hash === hash) {
    if (options.force) void renderer('app');
  } else {
    location.hash = hash;
    expectedHash = location.hash;
  }
}
