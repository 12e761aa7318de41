import Bowser from 'bowser';

/**
 * A short, readable name for a session's device from its User-Agent ("Chrome on Linux", "curl"),
 * for GET /users/me/sessions, so a person can tell their devices apart. Bowser is a maintained
 * parser; what it can't name is shown by the User-Agent's first product token, cut short. Null
 * without one.
 */
export function deviceName(userAgent: string | null): string | null {
  const ua = userAgent?.trim();
  if (!ua) return null;
  const parser = Bowser.getParser(ua);
  const browser = parser.getBrowserName();
  const os = parser.getOSName();
  if (browser && os) return `${browser} on ${os}`;
  if (browser) return browser;
  // curl/8.4.0, python-requests/2.31, okhttp/4.12: the product without its version.
  const product = /^[^\s/;()]+/.exec(ua)?.[0] ?? ua;
  return os ? `${product.slice(0, 40)} on ${os}` : product.slice(0, 40);
}
