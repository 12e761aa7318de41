import type { MailKind, OutgoingMail } from './outgoing-mail.ts';

/** A message's wording: a subject and both parts, with `{{name}}` placeholders. */
export interface MailTemplate {
  readonly name: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** What every message is wrapped in; `{{content}}` marks where the rendered part goes. */
export interface MailLayout {
  readonly text: string;
  readonly html: string;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** OWASP XSS prevention rule 1 (and rule 2 for quoted attributes such as href). */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * One pass over `template`: each placeholder is replaced by its value, so a value that itself
 * looks like `{{x}}` is never expanded. A placeholder without a value is a bug in the caller.
 */
function fill(
  template: string,
  values: Readonly<Record<string, string>>,
  encode: (value: string) => string,
  where: string,
): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`mail template ${where}: no value for {{${name}}}`);
    return encode(value);
  });
}

// RFC 5322 2.2: a header field is one line; a value must not be able to add another (header
// injection), so line breaks in a subject become spaces.
const oneLine = (value: string) => value.replace(/[\r\n]+/g, ' ').trim();

/**
 * Renders `template` for `to`: values are HTML-escaped in the HTML part, left as they are in
 * the text part and folded onto one line in the subject; both parts are then wrapped in the
 * layout (whose own placeholders see the same values plus `subject`). Links in `values` must
 * already be absolute URLs on the public URL (API.md 8).
 */
export function renderMail(
  template: MailTemplate,
  layout: MailLayout,
  message: { to: string; kind: MailKind; values: Readonly<Record<string, string>> },
): OutgoingMail {
  const { values } = message;
  const subject = oneLine(fill(template.subject, values, oneLine, `${template.name} subject`));
  const text = fill(template.text, values, (v) => v, `${template.name}.txt`);
  const html = fill(template.html, values, escapeHtml, `${template.name}.html`);
  const layoutValues = { ...values, subject };
  const wrap = (layoutPart: string, content: string, encode: (v: string) => string) =>
    layoutPart.replace(PLACEHOLDER, (_, name: string) => {
      if (name === 'content') return content;
      const value = layoutValues[name as keyof typeof layoutValues];
      if (value === undefined) throw new Error(`mail layout: no value for {{${name}}}`);
      return encode(value);
    });
  return {
    to: message.to,
    kind: message.kind,
    subject,
    text: wrap(layout.text, text, (v) => v),
    html: wrap(layout.html, html, escapeHtml),
  };
}
