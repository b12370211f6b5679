/**
 * What the dashboard says when the api refuses: sentences, never zod paths or codes. The api
 * already answers `{error, issues?}` with sentences; anything else (an older or a foreign
 * answer, a proxy's page) is turned into one here. Pure.
 */

/** One problem the api named: where, and what. */
export interface IssueLike {
  path?: readonly (string | number)[];
  message?: unknown;
}

const FIELDS: Record<string, string> = {
  key_id: "your Alpaca API key ID",
  secret_key: "your Alpaca secret key",
  email: "your email address",
  password: "your password",
  base_currency: "the base currency",
};

/** Starts with a capital letter and ends with a full stop, and is not a raw zod message. */
export function isSentence(text: string): boolean {
  return /^[A-Z][^]*[.!?]$/.test(text.trim()) && !/^(Invalid|Too (big|small)|Unrecognized)\b/
    .test(text);
}

/** "your Alpaca API key ID", "the connection ids". */
export function fieldLabel(path: readonly (string | number)[] = []): string {
  const last = path.filter((p): p is string => typeof p === "string").at(-1);
  if (last === undefined) return "the form";
  return FIELDS[last] ?? `the ${last.replace(/[_.-]+/g, " ").trim()}`;
}

/** A sentence for one issue. */
export function issueText(issue: IssueLike): string {
  const message = typeof issue.message === "string" ? issue.message.trim() : "";
  if (isSentence(message)) return message;
  // zod's own wording ("Too small: expected string to have >=8 characters") is for
  // programs; the field is what a person can act on.
  return `Check ${fieldLabel(issue.path)}.`;
}

function byStatus(status: number): string {
  if (status === 0) return "Meridian cannot be reached. Check your connection.";
  if (status === 401) return "Sign in to continue.";
  if (status === 404) return "That was not found.";
  if (status === 413) return "That is too large to send.";
  if (status === 429) return "Too many requests. Try again in a moment.";
  if (status >= 500) return "Meridian could not answer. Try again in a moment.";
  return `The request was refused (${status}).`;
}

/** The sentence(s) to show for a refused request with this status and JSON body. */
export function errorText(status: number, body: unknown): string {
  const b = (body ?? {}) as { error?: unknown; issues?: unknown };
  if (Array.isArray(b.issues) && b.issues.length) {
    return [...new Set((b.issues as IssueLike[]).map(issueText))].join(" ");
  }
  if (typeof b.error === "string" && b.error.trim()) {
    const e = b.error.trim();
    if (isSentence(e)) return e;
    return `${e.charAt(0).toUpperCase()}${e.slice(1)}${/[.!?]$/.test(e) ? "" : "."}`;
  }
  return byStatus(status);
}
