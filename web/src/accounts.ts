/**
 * How accounts are named on screen, so that two accounts of one provider can be told apart:
 * institution, account name and number mask ("Robinhood · Individual ···1234"), and, where
 * two would still read the same, their type, then a number. Pure.
 */

/** What a label is made from (an `Account` of the holdings view has these fields). */
export interface Labelled {
  id: string;
  institution: string;
  name: string;
  number_mask: string | null;
  type: string;
}

/** An account's names: `full` with its institution, `short` for under that institution. */
export interface AccountLabel {
  full: string;
  short: string;
}

const TYPE_NAMES: Record<string, string> = {
  brokerage: "brokerage",
  retirement: "retirement",
  crypto: "crypto",
  cash: "cash",
  other: "other",
};

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The account's own name without what the institution already says: providers often repeat
 * it ("Questrade TFSA" at Questrade, "Plaid IRA (First Platypus Bank)").
 */
export function shortName(institution: string, name: string): string {
  const inst = institution.trim();
  const base = inst.replace(/\s*\(.*\)\s*$/, "");
  let short = name.replace(new RegExp(`\\s*\\(${escape(inst)}\\)`, "i"), "").trim();
  for (const prefix of [inst, base]) {
    if (!prefix) continue;
    const m = new RegExp(`^${escape(prefix)}[\\s:·-]+`, "i").exec(short);
    if (m && short.length > m[0].length) {
      short = short.slice(m[0].length);
      break;
    }
  }
  return short || name.trim() || "Account";
}

/** "Individual ···1234"; the mask is left out when the name already ends with it. */
function ownLabel(a: Labelled): string {
  const name = shortName(a.institution, a.name);
  const mask = a.number_mask?.trim();
  return mask && !name.endsWith(mask) ? `${name} ···${mask}` : name;
}

/**
 * Labels for `accounts`, by id. Labels that would be the same get the account's type, and
 * when that is not enough a number in list order ("(2)"), so no two read alike.
 */
export function accountLabels(accounts: readonly Labelled[]): ReadonlyMap<string, AccountLabel> {
  // Each holdings answer is a new array: its labels are worked out once, however often
  // the page renders.
  const cached = cache.get(accounts);
  if (cached) return cached;
  const labels = computeLabels(accounts);
  cache.set(accounts, labels);
  return labels;
}

const cache = new WeakMap<readonly Labelled[], ReadonlyMap<string, AccountLabel>>();

function computeLabels(accounts: readonly Labelled[]): Map<string, AccountLabel> {
  const own = new Map(accounts.map((a) => [a.id, ownLabel(a)]));
  const full = (a: Labelled, suffix = "") => `${a.institution} · ${own.get(a.id)}${suffix}`;
  const groups = new Map<string, Labelled[]>();
  for (const a of accounts) {
    const key = full(a).toLowerCase();
    groups.set(key, [...(groups.get(key) ?? []), a]);
  }
  const out = new Map<string, AccountLabel>();
  for (const group of groups.values()) {
    const types = new Set(group.map((a) => a.type));
    group.forEach((a, i) => {
      let suffix = "";
      if (group.length > 1) {
        const type = types.size === group.length ? ` (${TYPE_NAMES[a.type] ?? a.type})` : "";
        suffix = type || ` (${i + 1})`;
      }
      out.set(a.id, { full: full(a, suffix), short: `${own.get(a.id)}${suffix}` });
    });
  }
  return out;
}

/** The label of `id`, or a neutral word for an account no longer listed. */
export function labelOf(
  labels: ReadonlyMap<string, AccountLabel>,
  id: string,
  which: keyof AccountLabel = "full",
): string {
  return labels.get(id)?.[which] ?? "An account no longer connected";
}
