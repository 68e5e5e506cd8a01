/** A user and password written into a URL (`https://user:pw@host/api`), decoded. */
export interface UrlCredentials {
  username: string;
  password: string;
}

/** A configured URL taken apart: what may be requested and printed, and the credentials it carried. */
export interface SplitUrl {
  /** The URL without userinfo and without a trailing slash. */
  url: string;
  credentials?: UrlCredentials;
  /** Every form of the password a message could hold: decoded and as written. */
  secrets: string[];
}

/**
 * Takes the userinfo out of an http(s) URL (one `new URL` accepts). fetch refuses a URL with
 * credentials, and a URL is printed everywhere (logs, links, outputs), so the
 * credentials leave the URL here, once, and travel only as auth headers or login
 * bodies to the origin the URL names.
 */
export function splitCredentials(written: string): SplitUrl {
  const url = new URL(written);
  const bare = printableUrl(written).replace(/\/+$/, '');
  if (!url.username && !url.password) return { url: bare, secrets: [] };
  const credentials = { username: decode(url.username), password: decode(url.password) };
  const secrets = [...new Set([credentials.password, url.password])].filter((s) => s !== '');
  return { url: bare, credentials, secrets };
}

/** A URL as it may be printed: without a user or password in it (text that is not a URL is returned as is). */
export function printableUrl(url: string): string {
  try {
    const parsed = new URL(url);
    // user:pw@host without a scheme parses as the scheme "user:" with no host: not a URL to us.
    if (!parsed.host && url.includes('@')) return withoutUserInfo(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.href.replace(/\/$/, url.endsWith('/') ? '/' : '');
  } catch {
    return withoutUserInfo(url);
  }
}

/**
 * Text that is not a URL (shown in the error that says so) without everything up to its
 * last @, after a scheme or not: a password may hold a / that ends no authority here
 * (http://u:pa/ss@proxy), and more may be dropped than the password, never less.
 */
function withoutUserInfo(text: string): string {
  return text.replace(/^(\s*[a-z][a-z0-9+.-]*:\/\/)?.*@/i, '$1');
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
