import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MailKind, OutgoingMail } from '../domain/mail/outgoing-mail.ts';
import { renderMail, type MailLayout, type MailTemplate } from '../domain/mail/render-template.ts';
import { PACKAGE_ROOT } from '../package-root.ts';

/** Where the template files live (shipped with the package, read from src/ by dist/ too). */
export const MAIL_TEMPLATE_DIR = join(PACKAGE_ROOT, 'src', 'mail', 'templates');

// Remote content in a message is fetched when it is opened: a tracking pixel by another name,
// and a spam-filter signal. Templates may link out, never load anything.
const REMOTE_CONTENT = /<img\b|<link\b|<script\b|<iframe\b|\bsrc\s*=|url\s*\(/i;

function read(file: string): string {
  return readFileSync(join(MAIL_TEMPLATE_DIR, file), 'utf8');
}

function checkHtml(file: string, html: string): string {
  if (REMOTE_CONTENT.test(html)) {
    throw new Error(`mail template ${file}: no images, scripts, styles or frames from elsewhere`);
  }
  return html;
}

const templates = new Map<string, MailTemplate>();
let layout: MailLayout | undefined;

/**
 * `NAME.txt` (first line `Subject: ...`, a blank line, then the text part) and `NAME.html`
 * (the HTML part's content) under src/mail/templates/; read once, then cached.
 */
export function loadMailTemplate(name: string): MailTemplate {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`mail template name ${name}: use a-z, 0-9, -`);
  let template = templates.get(name);
  if (!template) {
    const source = read(`${name}.txt`);
    const match = /^Subject: (.+)\r?\n\r?\n([\s\S]*)$/.exec(source);
    if (!match)
      throw new Error(`mail template ${name}.txt: start with "Subject: ..." and a blank line`);
    template = {
      name,
      subject: match[1]!.trim(),
      text: match[2]!.trimEnd(),
      html: checkHtml(`${name}.html`, read(`${name}.html`)).trimEnd(),
    };
    templates.set(name, template);
  }
  return template;
}

export function loadMailLayout(): MailLayout {
  layout ??= {
    text: read('layout.txt').trimEnd() + '\n',
    html: checkHtml('layout.html', read('layout.html')),
  };
  return layout;
}

/**
 * Renders template `name` in the shared layout. `values` must include `public_url` (the
 * layout's footer link) and every placeholder of the template; links are absolute URLs.
 */
export function renderMailTemplate(
  name: string,
  message: { to: string; kind: MailKind; values: Readonly<Record<string, string>> },
): OutgoingMail {
  return renderMail(loadMailTemplate(name), loadMailLayout(), message);
}
