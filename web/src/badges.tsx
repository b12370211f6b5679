/** Small labels shared by the pages. */
import type { Provider } from "./api.ts";
import { PROVIDER_NAMES } from "./format.ts";

export function ProviderBadge({ provider }: { provider: Provider }) {
  return <span class={`badge badge-${provider}`}>{PROVIDER_NAMES[provider] ?? provider}</span>;
}
