/**
 * Off-heap memory V8 does not weigh. A process that makes short-lived buffers quickly (the
 * api frames 20,000 values a second for its event streams) sees each buffer's small wrapper
 * promoted to the old generation while its bytes are in flight; V8 times full collections by
 * the old generation's own growth, which those wrappers barely move, so the bytes behind them
 * pile up (the api reached 1.6 GB with 0.35 GB of heap). Counting them here and starting a
 * full collection after each `thresholdBytes` keeps that bounded. The collection is
 * incremental with concurrent marking, not a pause.
 * @module
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

type Collect = (opts: { type: "major"; execution: "async" }) => void;

let collect: Collect | null | undefined;

/** V8's `gc`, from a fresh context once `--expose-gc` is set, or null where unavailable. */
function collector(): Collect | null {
  if (collect === undefined) {
    try {
      setFlagsFromString("--expose-gc");
      collect = runInNewContext("gc") as Collect;
    } catch {
      collect = null;
    }
  }
  return collect;
}

/** Counts off-heap bytes made and starts a full collection after every `thresholdBytes`. */
export class OffHeapPressure {
  #since = 0;
  #collections = 0;

  constructor(readonly thresholdBytes: number) {}

  /** Records `bytes` made off the heap. */
  add(bytes: number): void {
    this.#since += bytes;
    if (this.#since < this.thresholdBytes) return;
    this.#since = 0;
    const gc = collector();
    if (!gc) return;
    gc({ type: "major", execution: "async" });
    this.#collections++;
  }

  /** Full collections started so far. */
  get collections(): number {
    return this.#collections;
  }
}
