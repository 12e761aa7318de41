type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | boolean | EventListener | undefined>;

/** Builds an element: attributes (`on*` are listeners), then children. No innerHTML anywhere. */
export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child);
  }
  return el;
}

let fieldCounter = 0;

/** A labelled input with a slot for its error message, wired for screen readers. */
export function field(
  label: string,
  attrs: Attrs & { name: string },
  hint?: string,
): { wrapper: HTMLElement; input: HTMLInputElement; setError(message: string | null): void } {
  fieldCounter += 1;
  const id = `f-${attrs.name}-${fieldCounter}`;
  const hintEl = hint ? h('small', { id: `${id}-hint`, class: 'hint' }, hint) : null;
  const errorEl = h('small', { id: `${id}-error`, class: 'error', hidden: true });
  const input = h('input', {
    id,
    ...attrs,
    'aria-describedby': [hintEl ? `${id}-hint` : '', `${id}-error`].join(' ').trim(),
  }) as HTMLInputElement;
  const wrapper = h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    input,
    hintEl,
    errorEl,
  );
  return {
    wrapper,
    input,
    setError(message) {
      errorEl.textContent = message ?? '';
      errorEl.hidden = message === null;
      if (message === null) input.removeAttribute('aria-invalid');
      else input.setAttribute('aria-invalid', 'true');
    },
  };
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** The shared status line: announced to screen readers, styled by kind. */
export function say(message: string, kind: 'info' | 'error' | 'success' = 'info'): void {
  const status = document.getElementById('status');
  if (!status) return;
  status.textContent = message;
  status.dataset.kind = kind;
}
