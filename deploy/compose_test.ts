/**
 * Checks docker-compose.yml, deploy/cluster/compose.yml, deploy/Dockerfile and .dockerignore
 * against the contract in ARCHITECTURE.md. No Docker engine is needed: dclint validates each
 * file against the Compose Specification schema, and the structural checks below cover what a
 * schema cannot see.
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

for (const file of ["docker-compose.yml", "deploy/cluster/compose.yml"]) {
  Deno.test(`dclint: ${file} is a valid Compose Specification file`, () => dclint(file));
}

async function dclint(file: string) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "npm:dclint@3.1.0",
      file,
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
}

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

// ---- deploy/cluster/compose.yml: the same stack on a three-node NATS cluster, scaled out.

interface ClusterService extends Service {
  deploy?: { replicas?: number };
}
const cluster = parse(read("deploy/cluster/compose.yml"), { merge: true }) as Compose & {
  services: Record<string, ClusterService>;
};
const clusterServices = cluster.services;
const NATS_NODES = ["nats-1", "nats-2", "nats-3"];
/** The Meridian instances of the cluster file: compose service name -> the service it runs. */
const clusterApps = Object.fromEntries(
  Object.entries(clusterServices).flatMap(([name, s]) =>
    s.build ? [[name, s.build.args.SERVICE]] : []
  ),
);
const clusterEnv = (name: string) => clusterServices[name].environment ?? {};

Deno.test("cluster compose: three NATS nodes, PostgreSQL, a proxy and every service", () => {
  assert.equal(cluster.name, "meridian-cluster", "its own project: volumes apart from the demo's");
  const infra = [...NATS_NODES, "postgres", "proxy"];
  assert.deepEqual(
    Object.keys(clusterServices).filter((n) => !(n in clusterApps)).sort(),
    infra.sort(),
  );
  assert.deepEqual(
    [...new Set(Object.values(clusterApps))].sort(),
    Object.keys(APP_PORTS).sort(),
    "every service of the architecture runs",
  );
  assert.equal(clusterServices.postgres.image, services.postgres.image);
  assert.equal(clusterServices.proxy.image, "caddy:2-alpine");
});

Deno.test("cluster compose: each NATS node runs its deploy/cluster config with nats.conf's users", () => {
  const conf = read("deploy/nats/nats.conf");
  const passwords = [...conf.matchAll(/^\s*password:\s*\$(\w+)\s*$/gm)].map((m) => m[1]);
  for (const node of NATS_NODES) {
    const s = clusterServices[node];
    assert.equal(s.image, services.nats.image, `${node}: the single server's image`);
    assert.deepEqual(s.command, ["-c", `/etc/nats/cluster/${node}.conf`], node);
    for (
      const mount of [
        "../nats/nats.conf:/etc/nats/nats/nats.conf:ro",
        "./cluster.conf:/etc/nats/cluster/cluster.conf:ro",
        `./${node}.conf:/etc/nats/cluster/${node}.conf:ro`,
        `${node}-data:/data`,
      ]
    ) assert.ok(s.volumes?.includes(mount), `${node} mounts ${mount}`);
    assert.ok(`${node}-data` in (cluster.volumes ?? {}), `${node}: its store is a named volume`);
    assert.match(read(`deploy/cluster/${node}.conf`), new RegExp(`^server_name: ${node}$`, "m"));
    for (const name of passwords) {
      assert.equal(clusterServices[node].environment?.[name], env("nats")[name], `${node} ${name}`);
    }
    assert.ok(s.healthcheck?.test.includes("http://127.0.0.1:8222/healthz"), node);
  }
});

Deno.test("cluster compose: every instance built for its service, on the whole cluster, R3", () => {
  for (const [name, service] of Object.entries(clusterApps)) {
    const s = clusterServices[name];
    assert.equal(s.build!.context, "../..", name);
    assert.equal(s.build!.dockerfile, "deploy/Dockerfile", name);
    assert.equal(Number(s.build!.args.PORT), APP_PORTS[service], `${name}: build arg PORT`);
    assert.equal(s.restart, "unless-stopped", name);
    const e = clusterEnv(name);
    assert.equal(e.LISTEN_HOST, "0.0.0.0", name);
    assert.equal(e.NATS_REPLICAS, "3", `${name}: three copies of every stream and bucket`);
    const urls = String(e.NATS_URL).split(",");
    assert.deepEqual(
      urls.map((u) => u.replace(/^nats:\/\/([^@]+@)?/, "")),
      NATS_NODES.map((n) => `${n}:4222`),
      `${name}: NATS_URL lists every node`,
    );
    assert.match(urls[0], /^nats:\/\/[^@]+@nats-1:4222$/, `${name}: NATS_URL logs in`);
    assert.equal(e.SANDBOX_URL, "http://sandbox:8082", name);
    assert.equal(e.PROVIDERS, "${PROVIDERS:-sandbox}", `${name}: demo mode by default`);
    assert.equal(e.RELAY_PUBLIC_URL, "${RELAY_PUBLIC_URL:-http://proxy:8081}", name);
    const portVariable = PORT_VARIABLE[service] ?? "METRICS_PORT";
    assert.equal(Number(e[portVariable]), APP_PORTS[service], `${name}: ${portVariable}`);
    // Whatever the single-server file gives a service, the cluster file gives it too.
    for (const key of Object.keys(env(service))) {
      assert.ok(key in e, `${name} lacks ${key}, which docker-compose.yml sets for ${service}`);
    }
    for (const node of NATS_NODES) assert.ok(node in (s.depends_on ?? {}), `${name} -> ${node}`);
  }
});

Deno.test("cluster compose: every Meridian service but the sandbox runs two or more instances", () => {
  const instances = new Map<string, number>();
  for (const [name, service] of Object.entries(clusterApps)) {
    const s = clusterServices[name];
    const n = s.deploy?.replicas ?? 1;
    if (n > 1) {
      assert.equal((s as { container_name?: string }).container_name, undefined, name);
      assert.deepEqual(s.ports ?? [], [], `${name}: a host port would collide between replicas`);
    }
    instances.set(service, (instances.get(service) ?? 0) + n);
  }
  for (const [service, n] of instances) {
    if (service === "sandbox") assert.equal(n, 1, "the providers' stand-in is one");
    else assert.ok(n >= 2, `${service} runs ${n} instance(s)`);
  }
});

Deno.test("cluster compose: relays hold no database credentials, each its own outbox volume", () => {
  const relays = Object.keys(clusterApps).filter((n) => clusterApps[n] === "relay");
  const outboxes = new Set<string>();
  for (const name of relays) {
    const e = clusterEnv(name);
    assert.ok(!("DATABASE_URL" in e) && !("SECRETS_KEYRING" in e), name);
    assert.match(String(e.NATS_URL), /^nats:\/\/relay:/, `${name}: the relay's NATS user`);
    assert.equal(clusterServices[name].deploy?.replicas ?? 1, 1, `${name}: one outbox each`);
    const dir = String(e.RELAY_OUTBOX_PATH).replace(/\/[^/]+$/, "");
    const mount = (clusterServices[name].volumes ?? []).find((v) => v.split(":")[1] === dir);
    assert.ok(mount && mount.split(":")[0] in (cluster.volumes ?? {}), `${name}: outbox volume`);
    outboxes.add(mount.split(":")[0]);
  }
  assert.equal(outboxes.size, relays.length, "no two relays share an outbox");
  for (const [name, service] of Object.entries(clusterApps)) {
    if (["ingress", "sync", "symbols", "valuation", "api"].includes(service)) {
      assert.match(String(clusterEnv(name).DATABASE_URL), /^postgres:\/\/.+@postgres:5432\//, name);
    }
  }
});

Deno.test("cluster compose: the proxy alone publishes 8080 and 8081, to every instance", () => {
  for (const [name, s] of Object.entries(clusterServices)) {
    const expected = name === "proxy"
      ? [`${BIND}:8080:8080`, `${BIND}:8081:8081`]
      : name === "sandbox"
      ? [`${BIND}:8082:8082`]
      : [];
    assert.deepEqual(
      s.ports ?? [],
      expected,
      `${name} publishes ${expected.join(", ") || "nothing"}`,
    );
  }
  const caddy = read("deploy/cluster/Caddyfile");
  const site = (port: number) => caddy.slice(caddy.indexOf(`:${port} {`)).split(/\n}\n/)[0];
  assert.match(site(8080), /dynamic a \{\s*name api\s*port 8080\b/, "8080: every api instance");
  const relays = Object.keys(clusterApps).filter((n) => clusterApps[n] === "relay");
  assert.match(
    site(8081),
    new RegExp(`reverse_proxy ${relays.map((r) => `${r}:8081`).join(" ")} \\{`),
    "8081: every relay",
  );
  for (const target of ["api", ...relays]) {
    assert.ok(target in (clusterServices.proxy.depends_on ?? {}), `proxy waits for ${target}`);
  }
});

Deno.test("cluster compose: healthchecks on each own port; depends_on exists, healthy, acyclic", () => {
  for (const [name, s] of Object.entries(clusterServices)) {
    const test = s.healthcheck?.test;
    assert.ok(Array.isArray(test) && ["CMD", "CMD-SHELL"].includes(test[0]), name);
    if (name in clusterApps) {
      const port = APP_PORTS[clusterApps[name]];
      assert.ok(test.join(" ").includes(`http://127.0.0.1:${port}/healthz`), `${name}: ${port}`);
    }
    for (const [target, spec] of Object.entries(s.depends_on ?? {})) {
      assert.ok(target in clusterServices, `${name} depends on missing service ${target}`);
      assert.equal(spec.condition, "service_healthy", `${name} -> ${target}`);
    }
  }
  const done = new Set<string>();
  const visit = (name: string, path: string[]) => {
    assert.ok(!path.includes(name), `depends_on cycle: ${[...path, name].join(" -> ")}`);
    if (done.has(name)) return;
    for (const t of Object.keys(clusterServices[name].depends_on ?? {})) visit(t, [...path, name]);
    done.add(name);
  };
  for (const name of Object.keys(clusterServices)) visit(name, []);
});
