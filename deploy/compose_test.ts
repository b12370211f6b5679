/**
 * Checks docker-compose.yml, deploy/Dockerfile and .dockerignore against the contract in
 * ARCHITECTURE.md. No Docker engine is needed: dclint validates the file against the Compose
 * Specification schema, and the structural checks below cover what a schema cannot see.
 * @module
 */
import assert from "node:assert/strict";
import { parse } from "yaml";

const ROOT = new URL("../", import.meta.url);
const read = (path: string) => Deno.readTextFileSync(new URL(path, ROOT));

/** The Meridian services of the contract and the port each serves /healthz on. */
const APP_PORTS: Record<string, number> = {
  relay: 8081,
  ingress: 9101,
  sync: 9102,
  symbols: 9103,
  prices: 9104,
  valuation: 9105,
  api: 8080,
  sandbox: 8082,
};
/** Ports published on the host (contract: api and dashboard 8080, relay 8081, sandbox 8082). */
const PUBLISHED: Record<string, number> = { api: 8080, relay: 8081, sandbox: 8082 };
/** The variable each HTTP service takes its own port from; the others use METRICS_PORT. */
const PORT_VARIABLE: Record<string, string> = {
  api: "API_PORT",
  relay: "RELAY_PORT",
  sandbox: "SANDBOX_PORT",
};
const INFRA = ["nats", "postgres"];
const BIND = "${MERIDIAN_BIND:-127.0.0.1}";

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string; args: Record<string, string> };
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
  volumes?: string[];
  command?: string[];
  restart?: string;
  healthcheck?: { test: string[] | string };
}
interface Compose {
  name: string;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

// `merge: true` resolves the `<<:` keys the file shares settings with, as Compose does.
const compose = parse(read("docker-compose.yml"), { merge: true }) as Compose;
const services = compose.services;
const env = (name: string) => services[name].environment ?? {};

Deno.test("dclint: docker-compose.yml is a valid Compose Specification file", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "npm:dclint@3.1.0",
      "docker-compose.yml",
      "--max-warnings",
      "0",
      // Published ports are bound to "${MERIDIAN_BIND:-127.0.0.1}", an interface this rule
      // cannot see through interpolation; the "published ports" test below checks the binding.
      "--disable-rule",
      "no-unbound-port-interfaces",
      // The services are listed in data-flow order (infrastructure, sandbox, relay, ingress,
      // sync... api) as in ARCHITECTURE.md, which reads better than alphabetical.
      "--disable-rule",
      "services-alphabetical-order",
      // `deno fmt` (run by `make test`) writes YAML strings in double quotes; this rule wants
      // single ones by default. The ports are quoted either way (checked exactly below).
      "--disable-rule",
      "require-quotes-in-ports",
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  assert.equal(code, 0, `dclint failed:\n${out}`);
});

Deno.test("compose: the project, infrastructure and every service of the architecture", () => {
  assert.equal(compose.name, "meridian");
  const expected = [...INFRA, ...Object.keys(APP_PORTS)].sort();
  assert.deepEqual(Object.keys(services).sort(), expected);
  // Every service folder with a main.ts is deployed.
  for (const entry of Deno.readDirSync(new URL("services/", ROOT))) {
    if (!entry.isDirectory) continue;
    try {
      Deno.statSync(new URL(`services/${entry.name}/main.ts`, ROOT));
    } catch {
      continue;
    }
    assert.ok(entry.name in services, `services/${entry.name} is missing from docker-compose.yml`);
  }
  assert.equal(services.nats.image, "nats:2.10-alpine");
  assert.equal(services.postgres.image, "postgres:16-alpine");
  const natsCommand = services.nats.command ?? [];
  for (const arg of ["-js", "-c", "/etc/nats/nats.conf"]) assert.ok(natsCommand.includes(arg));
  assert.ok(
    services.nats.volumes?.includes("./deploy/nats/nats.conf:/etc/nats/nats.conf:ro"),
    "nats mounts deploy/nats/nats.conf",
  );
  assert.match(String(env("postgres").POSTGRES_PASSWORD), /^\$\{POSTGRES_PASSWORD:-/);
});

Deno.test("compose: nats gets every password nats.conf reads, each with a demo default", () => {
  const conf = read("deploy/nats/nats.conf");
  const names = [...conf.matchAll(/^\s*password:\s*\$(\w+)\s*$/gm)].map((m) => m[1]);
  assert.deepEqual(names, [
    "NATS_RELAY_PASSWORD",
    "NATS_SERVICES_PASSWORD",
    "NATS_VALUES_PASSWORD",
  ]);
  for (const name of names) {
    assert.match(String(env("nats")[name]), new RegExp(`^\\$\\{${name}:-[\\w-]+\\}$`), name);
  }
});

Deno.test("compose: each Meridian service is built from deploy/Dockerfile for itself", () => {
  for (const [name, port] of Object.entries(APP_PORTS)) {
    const build = services[name].build;
    assert.ok(build, `${name} has a build section`);
    assert.equal(build.context, ".", name);
    assert.equal(build.dockerfile, "deploy/Dockerfile", name);
    assert.equal(build.args.SERVICE, name, `${name}: build arg SERVICE`);
    assert.equal(Number(build.args.PORT), port, `${name}: build arg PORT`);
    Deno.statSync(new URL(`services/${name}/main.ts`, ROOT));
    assert.equal(services[name].restart, "unless-stopped", `${name}: restart policy`);
    const e = env(name);
    assert.equal(e.LISTEN_HOST, "0.0.0.0", `${name} listens on every interface of its container`);
    assert.match(String(e.NATS_URL), /^nats:\/\/[^@]+@nats:4222$/, `${name}: NATS_URL`);
    assert.equal(e.SANDBOX_URL, "http://sandbox:8082", `${name}: SANDBOX_URL`);
    assert.equal(e.PROVIDERS, "${PROVIDERS:-sandbox}", `${name}: demo mode by default`);
    assert.ok(e.RELAY_PUBLIC_URL, `${name}: RELAY_PUBLIC_URL`);
    const portVariable = PORT_VARIABLE[name] ?? "METRICS_PORT";
    assert.equal(Number(e[portVariable]), port, `${name}: ${portVariable}`);
  }
});

Deno.test("compose: metrics are on a private port of their own for every service with a public one", () => {
  for (const [name, port] of Object.entries({ api: 9106, relay: 9107 })) {
    assert.equal(Number(env(name).METRICS_PORT), port, `${name}: METRICS_PORT`);
    assert.ok(!(services[name].ports ?? []).some((p) => p.includes(String(port))), name);
  }
});

Deno.test("compose: the relay holds no database credentials and keeps its outbox on a volume", () => {
  const relay = env("relay");
  assert.ok(!("DATABASE_URL" in relay), "relay must not get DATABASE_URL");
  assert.ok(!("SECRETS_KEYRING" in relay), "relay must not get SECRETS_KEYRING");
  for (const [key, value] of Object.entries(relay)) {
    assert.doesNotMatch(String(value), /postgres(ql)?:\/\//, `relay ${key} names the database`);
  }
  assert.ok(!("postgres" in (services.relay.depends_on ?? {})), "relay does not need postgres");
  const outboxDir = String(relay.RELAY_OUTBOX_PATH).replace(/\/[^/]+$/, "");
  const mount = (services.relay.volumes ?? []).find((v) => v.split(":")[1] === outboxDir);
  assert.ok(mount, `a volume is mounted on the outbox directory ${outboxDir}`);
  assert.ok(mount.split(":")[0] in (compose.volumes ?? {}), "the outbox volume is a named volume");
  // Every other service that stores data gets the database.
  for (const name of ["ingress", "sync", "symbols", "valuation", "api"]) {
    assert.match(String(env(name).DATABASE_URL), /^postgres:\/\/.+@postgres:5432\//, name);
  }
});

Deno.test("compose: published ports match the contract and bind MERIDIAN_BIND", () => {
  for (const name of Object.keys(services)) {
    const ports = services[name].ports ?? [];
    if (name in PUBLISHED) {
      const p = PUBLISHED[name];
      assert.deepEqual(ports, [`${BIND}:${p}:${p}`], `${name} publishes ${p}`);
    } else {
      assert.deepEqual(ports, [], `${name} publishes no port`);
    }
  }
});

Deno.test("compose: every service has a healthcheck on its own port", () => {
  for (const [name, service] of Object.entries(services)) {
    const test = service.healthcheck?.test;
    assert.ok(Array.isArray(test) && test.length > 1, `${name} has a healthcheck`);
    assert.ok(["CMD", "CMD-SHELL"].includes(test[0]), `${name}: healthcheck form`);
    if (name in APP_PORTS) {
      assert.ok(
        test.join(" ").includes(`http://127.0.0.1:${APP_PORTS[name]}/healthz`),
        `${name}: healthcheck probes port ${APP_PORTS[name]}`,
      );
    }
  }
  assert.ok(services.nats.healthcheck?.test.includes("http://127.0.0.1:8222/healthz"));
  assert.ok(services.postgres.healthcheck?.test.includes("pg_isready"));
});

Deno.test("compose: every depends_on target exists, is healthy-gated and there is no cycle", () => {
  for (const [name, service] of Object.entries(services)) {
    for (const [target, spec] of Object.entries(service.depends_on ?? {})) {
      assert.ok(target in services, `${name} depends on missing service ${target}`);
      assert.equal(spec.condition, "service_healthy", `${name} -> ${target}`);
      assert.ok(services[target].healthcheck, `${name} waits on ${target}, which has no check`);
    }
  }
  for (const name of Object.keys(APP_PORTS)) {
    assert.ok("nats" in (services[name].depends_on ?? {}), `${name} depends on nats`);
  }
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (name: string, path: string[]) => {
    assert.ok(!visiting.has(name), `depends_on cycle: ${[...path, name].join(" -> ")}`);
    if (done.has(name)) return;
    visiting.add(name);
    for (const target of Object.keys(services[name].depends_on ?? {})) {
      visit(target, [...path, name]);
    }
    visiting.delete(name);
    done.add(name);
  };
  for (const name of Object.keys(services)) visit(name, []);
});

/** The pinned Deno version: the Makefile's DENO_VERSION, else the installed npm package. */
function pinnedDenoVersion(): string {
  try {
    const m = read("Makefile").match(/^\s*(?:export\s+)?DENO_VERSION\s*[:?]?=\s*(\S+)\s*$/m);
    if (m) return m[1];
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  try {
    return JSON.parse(read(".tools/node_modules/deno/package.json")).version;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return Deno.version.deno;
}

Deno.test("Dockerfile: pinned Deno, every workspace manifest first, non-root, health, CMD", () => {
  const dockerfile = read("deploy/Dockerfile");
  // Logical lines: continuations joined, comments and blank lines dropped.
  const lines = dockerfile.replace(/\\\n/g, " ").split("\n").map((l) => l.trim()).filter((l) =>
    l && !l.startsWith("#")
  );
  const version = pinnedDenoVersion();
  assert.match(version, /^\d+\.\d+\.\d+$/);
  const froms = lines.filter((l) => /^FROM\s/i.test(l));
  const images = froms.map((l) => l.split(/\s+/)[1]).filter((i) => i.includes("/"));
  assert.ok(images.length >= 1, "FROM an image");
  for (const image of images) assert.equal(image, `denoland/deno:${version}`, image);

  // The deps stage copies deno.json, deno.lock and each workspace member's deno.json before
  // any source, then installs from the lock.
  const workspace: string[] = JSON.parse(read("deno.json")).workspace;
  const install = lines.findIndex((l) => /^RUN deno install --frozen\b/.test(l));
  assert.ok(install > 0, "RUN deno install --frozen");
  const before = lines.slice(0, install).filter((l) => l.startsWith("COPY "));
  assert.ok(before.some((l) => /^COPY deno\.json deno\.lock \.\/$/.test(l)), "root manifests");
  for (const member of workspace) {
    const dir = member.replace(/^\.\//, "").replace(/\/$/, "");
    assert.ok(
      before.includes(`COPY ${dir}/deno.json ${dir}/`),
      `the deps stage copies ${dir}/deno.json`,
    );
  }
  assert.ok(!before.some((l) => /^COPY \. /.test(l)), "no source copied before install");
  assert.ok(lines.includes("RUN deno task --cwd web build && test -d web/dist"), "web build");

  const final = lines.slice(lines.lastIndexOf(froms[froms.length - 1]));
  const users = final.filter((l) => /^USER\s/i.test(l)).map((l) => l.split(/\s+/)[1]);
  assert.ok(users.length > 0, "the final stage sets USER");
  assert.ok(!["root", "0", "0:0"].includes(users[users.length - 1]), "runs as non-root");
  assert.ok(final.some((l) => /^ARG SERVICE\b/.test(l)), "ARG SERVICE in the final stage");
  assert.ok(final.some((l) => /^ENV SERVICE=\$\{SERVICE\}/.test(l)), "SERVICE kept for run time");
  assert.ok(final.some((l) => /^EXPOSE \$\{PORT\}$/.test(l)), "EXPOSE the service's port");
  assert.ok(final.some((l) => /^HEALTHCHECK\b/.test(l)), "HEALTHCHECK");
  assert.match(dockerfile, /\/healthz/);
  const cmd = final.filter((l) => /^CMD\s/.test(l));
  assert.equal(cmd.length, 1);
  assert.ok(cmd[0].includes("deno run -A") && cmd[0].includes("services/${SERVICE}/main.ts"));
});

Deno.test(".dockerignore keeps local state and tools out of the build context", () => {
  const entries = read(".dockerignore").split("\n").map((l) => l.trim());
  for (const p of [".data", ".tools", "node_modules", ".git", "test-artifacts", "bench/results"]) {
    assert.ok(entries.includes(p), `.dockerignore lists ${p}`);
  }
});

Deno.test("compose: valuation scales with --scale (no fixed name or host port, no partition number)", () => {
  const valuation = services.valuation as Service & { container_name?: string };
  assert.equal(valuation.container_name, undefined, "a fixed container name stops --scale");
  assert.deepEqual(valuation.ports ?? [], [], "a host port would collide between replicas");
  const e = env("valuation");
  for (const key of ["VALUATION_PARTITION", "VALUATION_PARTITIONS"]) {
    assert.ok(!(key in e), `${key} is gone: instances share the users by lease`);
  }
  assert.ok("VALUE_PUBLISH_MS" in e, "valuation gets VALUE_PUBLISH_MS");
});

Deno.test("compose: prices scales with --scale (no fixed name or host port, no shard number)", () => {
  const prices = services.prices as Service & { container_name?: string };
  assert.equal(prices.container_name, undefined, "a fixed container name stops --scale");
  assert.deepEqual(prices.ports ?? [], [], "a host port would collide between replicas");
  const e = env("prices");
  for (const key of ["PRICE_SHARD", "PRICE_SHARDS"]) assert.ok(!(key in e), `${key} is gone`);
  for (const key of ["ALPACA_DATA_KEYS", "ALPACA_FEED", "PRICES_POLL_S"]) {
    assert.ok(key in e, `prices gets ${key}`);
  }
});
