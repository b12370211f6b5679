/**
 * "All accounts" or one of them: the scope selector of the value chart, the income page and the
 * transactions filter. The accounts and their names come from the holdings view.
 * @module
 */
import { accountLabels, labelOf } from "./accounts.ts";
import { holdings } from "./state.ts";

export function AccountSelect(
  { id, label, value, onChange, testid }: {
    id: string;
    label: string;
    /** The selected account's id, or "" for all. */
    value: string;
    onChange: (accountId: string) => void;
    testid: string;
  },
) {
  const accounts = holdings.value?.accounts ?? [];
  const labels = accountLabels(accounts);
  return (
    <div class="inline-field">
      <label for={id}>{label}</label>
      <select
        id={id}
        class="field field-inline"
        data-testid={testid}
        value={value}
        onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}
      >
        <option value="">All accounts</option>
        {accounts.map((a) => <option key={a.id} value={a.id}>{labelOf(labels, a.id)}</option>)}
      </select>
    </div>
  );
}
