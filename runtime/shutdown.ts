/**
 * Graceful shutdown: on SIGINT or SIGTERM, run the registered steps newest first (stop
 * intake before draining), and exit within the deadline whatever they do.
 * @module
 */
import type { Logger } from "./log.ts";

/** One step of shutdown, e.g. "stop the HTTP server" or "drain NATS". */
export type ShutdownStep = { name: string; run: () => Promise<unknown> | unknown };

/** Collects shutdown steps and runs them once. */
export class Shutdown {
  readonly #steps: ShutdownStep[] = [];
  readonly #controller = new AbortController();
  #running: Promise<void> | undefined;

  constructor(private readonly log: Logger, private readonly deadlineMs = 10_000) {}

  /** Aborted when shutdown begins; long-running loops watch it. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Registers a step; steps run in reverse order of registration. */
  add(name: string, run: ShutdownStep["run"]): void {
    this.#steps.push({ name, run });
  }

  /** Runs every step once, newest first, each bounded by what is left of the deadline. */
  run(): Promise<void> {
    this.#running ??= (async () => {
      this.#controller.abort();
      const deadline = Date.now() + this.deadlineMs;
      for (const step of [...this.#steps].reverse()) {
        const left = deadline - Date.now();
        if (left <= 0) {
          this.log.warn("shutdown deadline reached", { skipped: step.name });
          break;
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        try {
          await Promise.race([
            Promise.resolve().then(step.run),
            new Promise((
              _,
              reject,
            ) => (timer = setTimeout(() => reject(new Error("timed out")), left))),
          ]);
        } catch (e) {
          this.log.warn("shutdown step failed", { step: step.name, error: e });
        } finally {
          clearTimeout(timer);
        }
      }
    })();
    return this.#running;
  }

  /** Installs SIGINT/SIGTERM handlers that run shutdown, then exit the process. */
  installSignalHandlers(): void {
    const onSignal = () => this.#exit("signal");
    Deno.addSignalListener("SIGINT", onSignal);
    Deno.addSignalListener("SIGTERM", onSignal);
  }

  /**
   * Shuts down when standard input reaches its end. A supervisor that holds the other end of
   * the pipe closes it however it dies, even by SIGKILL, so its services never outlive it.
   */
  async stopWhenStdinCloses(): Promise<void> {
    try {
      for await (const _ of Deno.stdin.readable) {
        // whatever the supervisor writes is ignored; only the end matters
      }
    } catch {
      // a broken pipe is an end too
    }
    this.#exit("supervisor gone");
  }

  #exit(reason: string): void {
    if (this.#running) return;
    this.log.info("shutting down", { reason });
    const hardStop = setTimeout(() => Deno.exit(1), this.deadlineMs + 500);
    this.run().finally(() => {
      clearTimeout(hardStop);
      Deno.exit(0);
    });
  }
}
