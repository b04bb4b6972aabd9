// Adapter versions for hot-loading LoRA weights into a running engine.
//
// node-llama-cpp loads an adapter once per model per file path and keeps it until the model is disposed:
// - rewriting the same path gives STALE weights (the cached adapter is reused);
// - a new path per version leaks each adapter's memory (measured: +0.5 MB per version even for a 95 KB
//   adapter, 1.2 GB after 150 versions of a 4.8 MB one).
// So every setAdapter() copies the file to a fresh private path, and a version is freed as soon as it
// is neither current nor used by an open context. Freeing goes through node-llama-cpp's internal
// adapter cache (pinned version 3.22.1). Measured: 80 versions of a 1.2 MB adapter grew RSS by ~4 MB
// with freeing and by ~164 MB without. If those internals are missing (another node-llama-cpp
// version), the engine falls back to reloading the model every N versions.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface AdapterVersion {
  id: number;
  /** Private copy the native loader reads (unique per version). */
  path: string;
  scale: number;
}

export class AdapterVersions {
  private readonly dir: string;
  private nextId = 1;
  private current: AdapterVersion | null = null;
  private readonly users = new Map<number, number>();
  private readonly versions = new Map<number, AdapterVersion>();

  constructor(
    /** Frees a version's native adapter; returns false when it could not (memory stays held). */
    private readonly freeNative: (version: AdapterVersion) => Promise<boolean>,
    parentDir = os.tmpdir(),
  ) {
    // Absolute: node-llama-cpp keys its adapter cache by resolved path, and freeing looks it up.
    fs.mkdirSync(parentDir, { recursive: true });
    this.dir = fs.mkdtempSync(path.join(path.resolve(parentDir), "icrl-adapters-"));
  }

  /** Versions whose native memory could not be freed (the engine reloads the model past a limit). */
  leaked = 0;

  get active(): AdapterVersion | null {
    return this.current;
  }

  /**
   * Copy `source` to a new private path, check the copy (so a file rewritten meanwhile by the learner
   * cannot slip past the check), then make it current.
   */
  async install(source: string, scale: number, check: (copy: string) => void): Promise<AdapterVersion> {
    const id = this.nextId++;
    const target = path.join(this.dir, `v${id}.gguf`);
    fs.copyFileSync(source, target);
    try {
      check(target);
    } catch (error) {
      fs.rmSync(target, { force: true });
      throw error;
    }
    const version = { id, path: target, scale };
    this.versions.set(id, version);
    await this.replaceCurrent(version);
    return version;
  }

  async clear(): Promise<void> {
    await this.replaceCurrent(null);
  }

  /** Mark the current version as used by a context; returns it (null = base model). */
  acquire(): AdapterVersion | null {
    const v = this.current;
    if (v) this.users.set(v.id, (this.users.get(v.id) ?? 0) + 1);
    return v;
  }

  async release(version: AdapterVersion | null): Promise<void> {
    if (!version) return;
    const n = (this.users.get(version.id) ?? 1) - 1;
    if (n > 0) this.users.set(version.id, n);
    else this.users.delete(version.id);
    await this.freeIfUnused(version);
  }

  /** Free every version (the model is being disposed or reloaded: its adapters go with it). */
  forgetAll(): void {
    for (const v of this.versions.values()) if (v !== this.current) fs.rmSync(v.path, { force: true });
    this.versions.clear();
    this.users.clear();
    this.leaked = 0;
    if (this.current) this.versions.set(this.current.id, this.current);
  }

  /** Remove the private directory (after the model is disposed). */
  removeAll(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private async replaceCurrent(next: AdapterVersion | null): Promise<void> {
    const previous = this.current;
    this.current = next;
    if (previous) await this.freeIfUnused(previous);
  }

  private async freeIfUnused(version: AdapterVersion): Promise<void> {
    if (version === this.current || this.users.has(version.id) || !this.versions.has(version.id)) return;
    this.versions.delete(version.id);
    if (!(await this.freeNative(version))) this.leaked++;
    fs.rmSync(version.path, { force: true });
  }
}
