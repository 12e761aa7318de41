export type Child = Node | string | null | undefined | false;
export type Attrs = Record<string, string | boolean | EventListener | undefined>;

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

/**
 * An async handler as an EventListener (lint: no-misused-promises). Each handler shows its own
 * failures at the action; a rejection that still escapes goes to the page's error reporting
 * instead of vanishing as an unhandled rejection.
 */
export function listener(work: (event: Event) => Promise<unknown>): EventListener {
  return (event) => {
    work(event).catch((error: unknown) => window.reportError(error));
  };
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

/** An email address that may wrap after "@" and before dots, rather than mid-word. */
export function emailText(email: string): HTMLElement {
  const span = h('span', { class: 'email' });
  email.split(/(?=[.@])|(?<=@)/).forEach((part, i) => {
    if (i > 0) span.append(h('wbr'));
    span.append(part);
  });
  return span;
}

/**
 * A table inside a horizontally scrollable region: at phone width the table keeps its rows,
 * columns and headers for screen readers (no `display: block`), and the region can be scrolled
 * from the keyboard (WCAG 2.1.1; axe `scrollable-region-focusable`).
 */
export function tableRegion(label: string, table: HTMLElement): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap', role: 'region', 'aria-label': label, tabindex: '0' },
    table,
  );
}

/**
 * Gives every `.table-wrap` on the page the attributes of {@link tableRegion}, named after its
 * section's heading: main.ts runs it on each page it draws, so pages need not remember.
 */
export function labelTableRegions(root: HTMLElement): void {
  for (const wrap of root.querySelectorAll<HTMLElement>('.table-wrap:not([role])')) {
    const heading = wrap.closest('section')?.querySelector('h1, h2');
    const name = heading?.textContent?.trim() || 'Table';
    wrap.setAttribute('role', 'region');
    wrap.setAttribute('aria-label', name);
    wrap.setAttribute('tabindex', '0');
  }
}

function describedBy(el: Element, id: string, add: boolean): void {
  const ids = (el.getAttribute('aria-describedby') ?? '').split(/\s+/).filter((x) => x && x !== id);
  if (add) ids.push(id);
  if (ids.length > 0) el.setAttribute('aria-describedby', ids.join(' '));
  else el.removeAttribute('aria-describedby');
}

let errorCounter = 0;

/**
 * Shows `text` as the error of `input` (null clears it), in the slot `field()` made for it or in
 * one added after the input: tied to it with `aria-describedby` and `aria-invalid` (WCAG 3.3.1).
 */
export function fieldError(input: HTMLElement, text: string | null): void {
  const slotId = (input.getAttribute('aria-describedby') ?? '')
    .split(/\s+/)
    .find((id) => id.endsWith('-error'));
  let slot = slotId ? document.getElementById(slotId) : null;
  if (!slot && text !== null) {
    errorCounter += 1;
    slot = h('small', { id: `${input.id || 'input'}-${errorCounter}-error`, class: 'error' });
    input.after(slot);
    describedBy(input, slot.id, true);
  }
  if (!slot) return;
  slot.textContent = text ?? '';
  slot.hidden = text === null;
  if (text === null) input.removeAttribute('aria-invalid');
  else input.setAttribute('aria-invalid', 'true');
}

/**
 * Shows `text` next to the button whose action failed (null clears it): below the button's
 * group, announced at once (role=alert) and tied to the button with `aria-describedby`, so the
 * message sits where the user is looking rather than at the top of the page (WCAG 3.3.1).
 */
export function actionError(button: HTMLElement, text: string | null): void {
  const id = button.dataset.errorId;
  const existing = id ? document.getElementById(id) : null;
  if (text === null) {
    existing?.remove();
    if (id) describedBy(button, id, false);
    return;
  }
  if (existing) {
    existing.textContent = text;
    return;
  }
  errorCounter += 1;
  const el = h(
    'p',
    { id: `action-error-${errorCounter}`, class: 'error action-error', role: 'alert' },
    text,
  );
  button.dataset.errorId = el.id;
  const group = button.parentElement;
  (group && group.matches('div.actions') ? group : button).after(el);
  describedBy(button, el.id, true);
}

/** What to focus after the page is drawn again (see {@link focusAfterRedraw}). */
let focusTarget: { row: string; action: string | undefined } | undefined;

/** The key of a table row: its `data-row`, else its first cell's text. */
function rowKey(row: Element): string {
  return (row as HTMLElement).dataset.row ?? row.querySelector('td, th')?.textContent ?? '';
}

/**
 * Call before an action on a table row that redraws the page: focus then returns to the same
 * row (to the control with the same `data-action`, else its first control, else the row),
 * instead of the page heading. main.ts also does this by itself when the focused control was in
 * a row; this is for actions that move focus first (a confirmation, a disabled button).
 */
export function focusAfterRedraw(control: Element): void {
  const row = control.closest('tr');
  if (!row) return;
  focusTarget = { row: rowKey(row), action: (control as HTMLElement).dataset.action };
}

/** main.ts: the row control that should get focus on the freshly drawn page, if any. */
export function takeFocusTarget(page: HTMLElement, previous: Element | null): HTMLElement | null {
  if (!focusTarget && previous?.closest('tr')) focusAfterRedraw(previous);
  const target = focusTarget;
  focusTarget = undefined;
  if (!target) return null;
  const row = [...page.querySelectorAll('tbody tr')].find((r) => rowKey(r) === target.row);
  if (!row) {
    // The row is gone (deleted): its table's region, so the user stays where they were.
    return page.querySelector<HTMLElement>('.table-wrap');
  }
  const control =
    (target.action &&
      row.querySelector<HTMLElement>(`[data-action="${CSS.escape(target.action)}"]`)) ||
    row.querySelector<HTMLElement>('button, select, input, a[href]');
  if (control) return control;
  (row as HTMLElement).tabIndex = -1;
  return row as HTMLElement;
}

/** How long a success message stays before it clears by itself. */
const SUCCESS_MS = 10_000;
let statusTimer: ReturnType<typeof setTimeout> | undefined;
/** Pages drawn so far, and how many had been drawn when the current message was said. */
let pagesDrawn = 0;
let messagePage = -1;

function clearStatus(): void {
  const status = document.getElementById('status');
  clearTimeout(statusTimer);
  if (!status) return;
  status.textContent = '';
  delete status.dataset.kind;
}

/**
 * The shared status line (role=status: announced to screen readers), styled by kind. A
 * success message clears itself after a few seconds; every message clears when the user goes
 * to another page. Errors belong next to what failed: see {@link fieldError} and
 * {@link actionError}.
 */
export function say(message: string, kind: 'info' | 'error' | 'success' = 'info'): void {
  const status = document.getElementById('status');
  if (!status) return;
  clearTimeout(statusTimer);
  status.textContent = message;
  status.dataset.kind = kind;
  messagePage = pagesDrawn;
  if (kind === 'success') statusTimer = setTimeout(clearStatus, SUCCESS_MS);
}

/**
 * main.ts, as a navigation starts: one the user made (a link, Back) clears the status line; one
 * the UI made after an action keeps what that action said since the last page was drawn.
 */
export function navigationStarts(byUser: boolean): void {
  if (byUser || messagePage < pagesDrawn) clearStatus();
}

/** main.ts, once a page is drawn. */
export function pageDrawn(): void {
  pagesDrawn += 1;
}
