/**
 * Detached helper processes for tests, tracked so that none outlives the test process.
 * @module
 */

const started = new Set<() => void>();
let hooked = false;

/** Registers a synchronous stop that runs when the test process exits. */
export function stopAtExit(stop: () => void): () => void {
  if (!hooked) {
    hooked = true;
    globalThis.addEventListener("unload", () => {
      for (const s of started) {
        try {
          s();
        } catch {
          // best effort: the process is exiting
        }
      }
    });
  }
  started.add(stop);
  return () => started.delete(stop);
}

/**
 * Runs `shell` (a `sh` command line) once this test process is gone, however it ended: the
 * `unload` hook of {@link stopAtExit} does not run when the process is killed, and a detached
 * server would otherwise outlive it for ever.
 */
export async function whenTestProcessGone(shell: string): Promise<void> {
  const watch = `while kill -0 ${Deno.pid} 2>/dev/null; do sleep 1; done; ${shell}`;
  await run("sh", ["-c", `(${watch}) >/dev/null 2>&1 </dev/null &`]);
}

/** A port that was free a moment ago. */
export function freePort(): number {
  // Below Linux's ephemeral range (32768+): a port the kernel hands out with `port: 0` can be
  // taken by an outgoing connection before the server under test binds it.
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * 22_000);
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return port;
    } catch {
      // taken; try another
    }
  }
  throw new Error("no free port below the ephemeral range");
}

/** Finds an executable on PATH or in the extra directories given. */
export function findExecutable(name: string, extraDirs: string[] = []): string {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":"), ...extraDirs];
  for (const dir of dirs) {
    try {
      const path = `${dir}/${name}`;
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not here
    }
  }
  throw new Error(`${name} not found on PATH (install it, e.g. from Debian packages)`);
}

/** Runs a command to completion; throws with its output on failure. */
export async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string } = {},
): Promise<string> {
  const out = await new Deno.Command(cmd, { args, cwd: opts.cwd, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed (${out.code}): ${text}`);
  return text;
}

/** Resolves when a TCP port accepts connections, or throws after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
}

/** Resolves when nothing listens on `port` any more. */
export async function waitForPortClosed(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      await new Promise((r) => setTimeout(r, 25));
    } catch {
      return;
    }
  }
  throw new Error(`port ${port} still open after ${timeoutMs} ms`);
}

/** True when a process with `pid` exists. */
export function isAlive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

/**
 * The environment for a service a test starts as a process (spawn it with `clearEnv: true`):
 * the machine's own variables and `vars`, never the runner's configuration, which could
 * otherwise change what is tested.
 */
export function processEnv(vars: Record<string, string>): Record<string, string> {
  const inherited: Record<string, string> = {};
  for (const k of ["PATH", "HOME", "TMPDIR", "DENO_DIR", "LANG"]) {
    const v = Deno.env.get(k);
    if (v !== undefined) inherited[k] = v;
  }
  return { ...inherited, NO_COLOR: "1", ...vars };
}
