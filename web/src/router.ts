/** Hash routing: `#/path?query`. The pages import this; main.ts supplies the renderer. */
let renderer: () => Promise<void> = async () => {};

export function setRenderer(render: () => Promise<void>): void {
  renderer = render;
  window.addEventListener('hashchange', () => void renderer());
}

export function currentPath(): string {
  return (location.hash || '#/').split('?')[0] ?? '#/';
}

export function currentParams(): Record<string, string | undefined> {
  const query = (location.hash.split('?')[1] ?? '').trim();
  return Object.fromEntries(new URLSearchParams(query));
}

/** Goes to `hash`; with `force`, renders again even when already there (after a change). */
export function navigate(hash: string, options: { force?: boolean } = {}): void {
  if (location.hash === hash) {
    if (options.force) void renderer();
  } else {
    location.hash = hash;
  }
}
