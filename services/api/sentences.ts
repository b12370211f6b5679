/**
 * Validation problems as sentences a person can act on. zod's own messages ("Too small:
 * expected string to have >=8 characters") name codes and types; a 400 from this api says
 * what to do instead ("Enter your Alpaca API key ID."). Pure.
 * @module
 */

/** A validation issue as zod reports it: only the fields read here. */
export interface IssueDetail {
  path: readonly PropertyKey[];
  message: string;
  code?: string;
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
  format?: string;
  expected?: string;
  keys?: readonly string[];
  values?: readonly unknown[];
}

/** What the fields of the api's requests are called in a sentence. */
const FIELDS: Record<string, string> = {
  key_id: "your Alpaca API key ID",
  secret_key: "your Alpaca secret key",
  email: "your email address",
  password: "your password",
  base_currency: "the base currency",
  access: "the access level",
  broker: "the brokerage",
  public_token: "the Plaid public token",
  link_token: "the Plaid link token",
  connection_ids: "the connections",
  account_id: "the account",
  connection_id: "the connection",
  request_id: "the request",
  symbol: "the symbol",
  from: "the start date",
  to: "the end date",
  limit: "the limit",
  cursor: "the page cursor",
  range: "the range",
  type: "the type",
  paper: "the paper trading choice",
};

const FORMATS: Record<string, string> = {
  email: "a valid email address",
  uuid: "a valid id",
  date: "a date like 2026-01-31",
  datetime: "a date and time",
  url: "a web address",
};

const TYPES: Record<string, string> = {
  string: "text",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "an object",
};

/** Already a sentence: starts with a capital letter and ends with a full stop. */
export function isSentence(text: string): boolean {
  return /^[A-Z][^]*[.!?]$/.test(text.trim()) && !/^(Invalid|Too (big|small)|Unrecognized)\b/
    .test(text);
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The noun phrase for a path: "your Alpaca API key ID", "item 2 of the connections". */
export function fieldName(path: readonly PropertyKey[]): string {
  const keys = path.filter((p): p is string => typeof p === "string");
  const last = keys.at(-1);
  const named = last === undefined
    ? "the request"
    : FIELDS[last] ?? `the ${last.replace(/[_.-]+/g, " ").trim()} field`;
  const index = path.at(-1);
  return typeof index === "number" ? `item ${index + 1} of ${named}` : named;
}

const quoted = (v: unknown) => `“${String(v)}”`;

/** "a, b or c". */
function either(items: string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;
}

function sizeSentence(i: IssueDetail, field: string, small: boolean): string {
  const n = Number(small ? i.minimum : i.maximum);
  const inclusive = i.inclusive !== false;
  const Field = capital(field);
  switch (i.origin) {
    case "string":
      if (small && n <= 1) return `Enter ${field}.`;
      return small
        ? `${Field} must be at least ${n} characters long.`
        : `${Field} must be ${n} characters or fewer.`;
    case "array":
    case "set":
      return small
        ? `Choose at least ${n} of ${field}.`
        : `${Field} may have at most ${n} item${n === 1 ? "" : "s"}.`;
    default:
      return small
        ? `${Field} must be ${inclusive ? "at least" : "more than"} ${n}.`
        : `${Field} must be ${inclusive ? "at most" : "less than"} ${n}.`;
  }
}

/** One issue as a sentence; messages the schema already wrote as sentences are kept. */
export function issueSentence(i: IssueDetail): string {
  if (isSentence(i.message)) return i.message.trim();
  const field = fieldName(i.path);
  const Field = capital(field);
  switch (i.code) {
    case "invalid_type":
      if (/received undefined$/.test(i.message)) return `Enter ${field}.`;
      if (i.path.length === 0) return "The request body must be a JSON object.";
      return `${Field} must be ${TYPES[i.expected ?? ""] ?? i.expected ?? "something else"}.`;
    case "too_small":
      return sizeSentence(i, field, true);
    case "too_big":
      return sizeSentence(i, field, false);
    case "invalid_format":
      if (i.format && FORMATS[i.format]) return `${Field} must be ${FORMATS[i.format]}.`;
      break;
    case "invalid_value":
      if (i.values?.length) return `${Field} must be ${either(i.values.map(quoted))}.`;
      break;
    case "unrecognized_keys":
      if (i.keys?.length) {
        return `This request does not take ${i.keys.length === 1 ? "the field" : "the fields"} ${
          either(i.keys.map(quoted))
        }.`;
      }
      break;
  }
  // A schema's own short wording ("must not contain control characters"): say whose it is.
  const own = i.message.trim().replace(/[.]$/, "");
  if (/^(must|may|is|are|has)\b/.test(own)) return `${Field} ${own}.`;
  // A flow's wording ("new Alpaca keys are required to reconnect") already says what to do.
  if (/^[a-z]/i.test(own) && own.split(/\s+/).length >= 3) return asSentence(own);
  return `${Field} is not valid.`;
}

/** `text` with a capital first letter and a closing full stop. */
export function asSentence(text: string): string {
  const t = text.trim();
  if (!t) return t;
  return `${capital(t)}${/[.!?]$/.test(t) ? "" : "."}`;
}

/** The `error` of a 400: the issues' sentences (at most three, then how many more). */
export function issuesSummary(sentences: readonly string[]): string {
  const unique = [...new Set(sentences)];
  if (unique.length === 0) return "The request is not valid.";
  const shown = unique.slice(0, 3).join(" ");
  const more = unique.length - 3;
  if (more <= 0) return shown;
  return `${shown} ${more === 1 ? "There is 1 more problem." : `There are ${more} more problems.`}`;
}
