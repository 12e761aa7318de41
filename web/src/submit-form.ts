// The one flow of a form the page sends itself, and of a button whose action takes a while.
import { h, listener, type Attrs, type Child } from './dom.ts';

/**
 * Runs `work` with `button` disabled, so a second click cannot send the same request while the
 * first is under way, and enables it again either way. A failure goes to `fail`, which shows it
 * where the user is looking: at a field, at the button, or in the status line.
 */
export async function whileDisabled(
  button: HTMLElement,
  work: () => Promise<unknown>,
  fail: (error: unknown) => void,
): Promise<void> {
  button.setAttribute('disabled', '');
  try {
    await work();
  } catch (error) {
    fail(error);
  } finally {
    button.removeAttribute('disabled');
  }
}

/** What a form does when sent; both get the form's submit button. */
export interface FormAction {
  work(submit: HTMLElement): Promise<unknown>;
  fail(error: unknown, submit: HTMLElement): void;
}

/**
 * A form the page sends itself (no navigation): `children`, then a submit button labelled
 * `label` that stays disabled while `action.work` runs (see {@link whileDisabled}).
 */
export function submitForm(
  attrs: Attrs,
  label: string,
  action: FormAction,
  ...children: Child[]
): HTMLElement {
  const submit = h('button', { type: 'submit' }, label);
  const onSubmit = listener(async (event) => {
    event.preventDefault();
    await whileDisabled(
      submit,
      () => action.work(submit),
      (error) => action.fail(error, submit),
    );
  });
  return h('form', { ...attrs, onSubmit }, ...children, submit);
}
