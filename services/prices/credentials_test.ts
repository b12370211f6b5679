import assert from "node:assert/strict";
import { parseConfig } from "@meridian/runtime";
import { clockCredential, dataCredentials, marketDataEndpoints, shardId } from "./credentials.ts";

Deno.test("ALPACA_DATA_KEYS gives one shard per distinct key, ids that hide the key", () => {
  const config = parseConfig({ ALPACA_DATA_KEYS: "K1:s1,K2:s:2,K1:s1" });
  const creds = dataCredentials(config);
  assert.deepEqual(creds.map((c) => [c.keyId, c.secret]), [["K1", "s1"], ["K2", "s:2"]]);
  assert.equal(creds[0].shard, shardId("iex", "K1"));
  assert.match(creds[0].shard, /^[0-9a-f]{16}$/);
  assert.notEqual(shardId("sip", "K1"), shardId("iex", "K1"));
});

Deno.test("without data keys the account key streams; with neither there is no shard", () => {
  const one = parseConfig({ ALPACA_KEY_ID: "PK1", ALPACA_SECRET_KEY: "sec" });
  assert.deepEqual(dataCredentials(one).map((c) => c.keyId), ["PK1"]);
  assert.deepEqual(dataCredentials(parseConfig({ PROVIDERS: "live" })), []);
  assert.equal(clockCredential(parseConfig({ PROVIDERS: "live" }), []), null);
  assert.equal(dataCredentials(parseConfig({ PROVIDERS: "sandbox" })).length, 3, "demo data keys");
});

Deno.test("the clock uses the account key when there is one", () => {
  const config = parseConfig({
    ALPACA_DATA_KEYS: "D1:x",
    ALPACA_KEY_ID: "PK1",
    ALPACA_SECRET_KEY: "sec",
  });
  assert.equal(clockCredential(config, dataCredentials(config))?.keyId, "PK1");
});

Deno.test("a malformed ALPACA_DATA_KEYS is refused without echoing it", () => {
  assert.throws(() => parseConfig({ ALPACA_DATA_KEYS: "no-secret-here" }), (e: Error) => {
    assert.match(e.message, /ALPACA_DATA_KEYS/);
    assert.doesNotMatch(e.message, /no-secret-here/);
    return true;
  });
});

Deno.test("sandbox endpoints follow SANDBOX_URL; live ones are Alpaca's", () => {
  const s = marketDataEndpoints(parseConfig({ SANDBOX_URL: "http://127.0.0.1:9999/" }));
  assert.deepEqual(s, {
    streamUrl: "ws://127.0.0.1:9999/alpaca-data",
    dataUrl: "http://127.0.0.1:9999/alpaca-data",
    tradingUrl: "http://127.0.0.1:9999/alpaca",
  });
  const live = marketDataEndpoints(parseConfig({ PROVIDERS: "live" }));
  assert.equal(live.streamUrl, "wss://stream.data.alpaca.markets");
});
