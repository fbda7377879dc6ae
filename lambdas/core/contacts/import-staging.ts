import { mapConcurrent } from '../concurrency.ts';
import type { ObjectStore } from '../store/object-store.ts';
import { contactStoreKeys } from './model.ts';
import { newTag } from './repository.ts';

/**
 * The rows of an import on their way to the contact shards, in bounded memory. Each valid row
 * is kept by shard, as one line (its contact id, then the row packed by import.ts); past a
 * budget of bytes every shard's rows so far are written to the store's staging area as
 * one object per shard (`contacts/staging/<run>/<xx>-<part>.txt`) and memory starts again.
 * Once the file has been read whole, each shard's rows are read back in file order (parts,
 * then what is still in memory) while that shard is computed. Nothing in the staging area is
 * a contact yet: the import commits by switching the contact index (repository.ts), and the
 * staging objects are deleted whatever happens; those of an import that was killed are
 * deleted by a later one once an hour old (removeOrphanShards).
 *
 * Separators: rows are joined by U+001C, the id and the row by U+001D. The import refuses
 * every value with a control character, so neither can occur in a row.
 */

/** About 16 MB of rows (UTF-8) held before spilling: 100,000 rows fit. */
const defaultBudget = 16 * 2 ** 20;
const rowSeparator = '\u001c';
const idSeparator = '\u001d';
const rowSeparatorByte = 0x1c;
const idSeparatorByte = 0x1d;
/** Staging objects written or read at a time. */
const parallel = 16;
/** Rows are written into buffers of this size, per shard. */
const chunkSize = 16 * 1024;

/** One shard's rows in memory: full buffers, then the one being filled. */
interface ShardBuffers {
  full: Buffer[];
  current: Buffer;
  used: number;
}

/**
 * The rows in memory are UTF-8 bytes in buffers outside the JavaScript heap: strings kept
 * until a spill would survive into the old generation, which the garbage collector empties
 * late, and memory would grow with the file all the same.
 */
export class StagedRows {
  readonly #store: ObjectStore;
  readonly #budget: number;
  readonly #run = newTag();
  readonly #memory = new Map<string, ShardBuffers>();
  /** Per shard, its staging objects in the order they were written. */
  readonly #spilled = new Map<string, string[]>();
  #bytes = 0;
  #parts = 0;

  constructor(store: ObjectStore, options: { budget?: number } = {}) {
    this.#store = store;
    this.#budget = options.budget ?? defaultBudget;
  }

  add(shard: string, id: string, packed: string): void {
    // At most three bytes per UTF-16 unit: room is checked without measuring, and the row is
    // written in its parts, without a string made of them (less for the garbage collector).
    const room = id.length + 3 * packed.length + 2;
    let buffers = this.#memory.get(shard);
    if (!buffers) {
      buffers = { full: [], current: Buffer.allocUnsafeSlow(Math.max(chunkSize, room)), used: 0 };
      this.#memory.set(shard, buffers);
    } else if (buffers.used + room > buffers.current.length) {
      buffers.full.push(buffers.current.subarray(0, buffers.used));
      buffers.current = Buffer.allocUnsafeSlow(Math.max(chunkSize, room));
      buffers.used = 0;
    }
    const { current } = buffers;
    const start = buffers.used;
    let at = start + current.write(id, start);
    current[at++] = idSeparatorByte;
    at += current.write(packed, at);
    current[at++] = rowSeparatorByte;
    buffers.used = at;
    this.#bytes += at - start;
  }

  /** Whether memory holds more than its budget: time to spill. */
  get full(): boolean {
    return this.#bytes >= this.#budget;
  }

  /** Writes the rows held in memory to the staging area, one object per shard. */
  async spill(): Promise<void> {
    const part = String(this.#parts++).padStart(4, '0');
    const batch = [...this.#memory];
    this.#memory.clear();
    this.#bytes = 0;
    await mapConcurrent(batch, parallel, async ([shard, buffers]) => {
      const key = contactStoreKeys.staging(this.#run, shard, part);
      const keys = this.#spilled.get(shard) ?? [];
      keys.push(key);
      this.#spilled.set(shard, keys);
      await this.#store.put(key, bytesOf(buffers), { contentType: 'text/plain; charset=utf-8' });
    });
  }

  /** The shards that have rows. */
  shards(): string[] {
    return [...new Set([...this.#spilled.keys(), ...this.#memory.keys()])].sort();
  }

  /**
   * The rows of one shard by contact id, in file order: `combine` merges a later row of an
   * id into the earlier one.
   */
  async rowsOf(
    shard: string,
    combine: (earlier: string, later: string) => string,
  ): Promise<Map<string, string>> {
    const entries = new Map<string, string>();
    const decoder = new TextDecoder();
    const add = (bytes: Uint8Array) => {
      for (const line of decoder.decode(bytes).split(rowSeparator)) {
        if (!line) continue;
        const cut = line.indexOf(idSeparator);
        const id = line.slice(0, cut);
        const packed = line.slice(cut + 1);
        const earlier = entries.get(id);
        entries.set(id, earlier === undefined ? packed : combine(earlier, packed));
      }
    };
    for (const key of this.#spilled.get(shard) ?? []) {
      const object = await this.#store.get(key);
      // Deleted under it (a clean-up by another run, hours later): this import cannot finish.
      if (!object) throw new Error(`the import's staging object ${key} is gone: run the import again`);
      add(object.body);
    }
    const buffers = this.#memory.get(shard);
    if (buffers) add(bytesOf(buffers));
    return entries;
  }

  /** Deletes every staging object written (best effort: what stays is an orphan for later). */
  async discard(): Promise<void> {
    const keys = [...this.#spilled.values()].flat();
    this.#spilled.clear();
    this.#memory.clear();
    await mapConcurrent(keys, parallel, (key) => this.#store.delete(key).catch(() => {}));
  }
}

function bytesOf(buffers: ShardBuffers): Buffer {
  return Buffer.concat([...buffers.full, buffers.current.subarray(0, buffers.used)]);
}
