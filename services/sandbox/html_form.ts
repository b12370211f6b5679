/**
 * Drives a provider's hosted HTML form over plain HTTP (the SnapTrade portal, Plaid Hosted
 * Link) the way a browser would with default choices: GET the page, POST its first form
 * with its default values and first submit button, return where it redirects. Used by demo
 * seeding (sync's demo connect flows, as `@meridian/sandbox/html_form`), tests and bench;
 * never by user flows. It lives beside the sandbox because only the sandbox's pages are
 * shaped the way it expects.
 * @module
 */

function attrs(tag: string): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (const m of tag.matchAll(/([a-zA-Z_:-]+)(?:\s*=\s*"([^"]*)"|\s*=\s*'([^']*)')?/g)) {
    if (m[1].toLowerCase() === "input" || m[1].toLowerCase() === "button") continue;
    out[m[1].toLowerCase()] = m[2] ?? m[3] ?? true;
  }
  return out;
}

const unescape = (s: string) =>
  s.replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">").replaceAll("&amp;", "&");

/** Submits the page's form; returns the redirect target (Location) or throws. */
export async function submitHostedForm(
  pageUrl: string,
  overrides: Record<string, string> = {},
): Promise<string> {
  const page = await fetch(pageUrl);
  const html = await page.text();
  if (!page.ok) throw new Error(`form page answered ${page.status}`);
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) throw new Error("no form on the page");
  const fa = attrs(form[1]);
  const body = new URLSearchParams();
  for (const m of form[2].matchAll(/<input\b([^>]*)>/gi)) {
    const a = attrs(m[1]);
    if (typeof a.name !== "string") continue;
    const type = typeof a.type === "string" ? a.type.toLowerCase() : "text";
    if ((type === "radio" || type === "checkbox") && a.checked === undefined) continue;
    body.set(a.name, unescape(typeof a.value === "string" ? a.value : ""));
  }
  const button = /<button\b([^>]*)>/i.exec(form[2]);
  if (button) {
    const b = attrs(button[1]);
    if (typeof b.name === "string") body.set(b.name, unescape(String(b.value ?? "")));
  }
  for (const [k, v] of Object.entries(overrides)) body.set(k, v);
  const action = new URL(typeof fa.action === "string" ? unescape(fa.action) : "", page.url);
  const res = await fetch(action, {
    method: "POST",
    body,
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  await res.body?.cancel();
  const location = res.headers.get("location");
  if (res.status < 300 || res.status >= 400 || !location) {
    throw new Error(`form submission answered ${res.status}`);
  }
  return new URL(location, action).toString();
}
