// The run's duplicate memory behind `EntryContext.remember`: one KeyMemory per namespace, and
// the files of the run numbered once. The engine owns one; process --jobs (docs/parallel.md)
// gives the engine its own, so that keys asked in worker threads are replayed here in input order.
import { KeyMemory } from './key-memory.js';

/** Where a key was first seen. */
export interface FirstSeen {
  file: string;
  line: number;
}

/** `remember` as the engine calls it: the entry's position comes with the key. */
export type Remember = (namespace: string, key: string, file: string, line: number) => FirstSeen | undefined;

/** Every (namespace, key) of a run, with where it was first seen; exact (key-memory.ts). */
export class RunKeys {
  private readonly files: string[] = [];
  private readonly fileIndex = new Map<string, number>();
  private readonly memory = new Map<string, KeyMemory>();
  private lastFile: string | null = null;
  private lastIndex = 0;

  /** Remembers the key at (file, line) unless known; returns where it was first seen when it was. */
  readonly remember: Remember = (namespace, key, file, line) => {
    if (file !== this.lastFile) {
      let fi = this.fileIndex.get(file);
      if (fi === undefined) {
        fi = this.files.length;
        this.files.push(file);
        this.fileIndex.set(file, fi);
      }
      this.lastFile = file;
      this.lastIndex = fi;
    }
    let m = this.memory.get(namespace);
    if (!m) this.memory.set(namespace, (m = new KeyMemory()));
    const slot = m.seen(key, this.lastIndex, line);
    return slot < 0 ? undefined : { file: this.files[m.fileAt(slot)]!, line: m.lineAt(slot) };
  };
}
