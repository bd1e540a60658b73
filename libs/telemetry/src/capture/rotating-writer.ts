import { mkdir, open, readdir, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** @see RotatingJsonlWriter */
export interface RotatingWriterOptions {
  dir: string;
  /** File name prefix; files are `<prefix>-<UTC time>-<pid>-<n>.jsonl`. */
  prefix: string;
  /** A file is closed and the next one started when a line would take it past this. */
  maxFileBytes: number;
  /** Files (of this prefix) kept in `dir`; the oldest go first. */
  maxFiles: number;
  /** Lines queued for writing before new ones are dropped (the disk is slower than requests). @defaultValue 1000 */
  maxQueuedLines?: number;
}

/**
 * Appends lines to JSONL files in the background, one file at a time, rotating by size and
 * keeping at most `maxFiles` files. Never blocks or fails the caller: when the disk cannot
 * keep up or fails, lines are dropped and counted.
 */
export class RotatingJsonlWriter {
  private handle: FileHandle | undefined;
  private size = 0;
  private sequence = 0;
  private queued = 0;
  private chain: Promise<void> = Promise.resolve();
  /** Lines written and dropped so far. */
  written = 0;
  dropped = 0;
  /** The last write error, if any. */
  lastError: Error | undefined;

  constructor(private readonly options: RotatingWriterOptions) {}

  write(line: string): void {
    if (this.queued >= (this.options.maxQueuedLines ?? 1000)) {
      this.dropped++;
      return;
    }
    this.queued++;
    const text = line.endsWith('\n') ? line : `${line}\n`;
    this.chain = this.chain
      .then(() =>
        this.append(text).then(
          () => void this.written++,
          (err: unknown) => {
            this.dropped++;
            this.lastError = err as Error;
          },
        ),
      )
      .finally(() => void this.queued--);
  }

  /** Writes what is queued, then closes the current file. */
  async close(): Promise<void> {
    await this.chain;
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
  }

  private async append(text: string): Promise<void> {
    const bytes = Buffer.byteLength(text);
    if (this.handle && this.size + bytes > this.options.maxFileBytes) {
      await this.handle.close().catch(() => undefined);
      this.handle = undefined;
    }
    if (!this.handle) await this.openNext();
    await this.handle!.write(text);
    this.size += bytes;
  }

  private async openNext(): Promise<void> {
    const { dir, prefix } = this.options;
    await mkdir(dir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('.', '');
    const name = `${prefix}-${stamp}-${process.pid}-${String(++this.sequence).padStart(6, '0')}.jsonl`;
    // Make room first, so the directory never holds more than maxFiles.
    await this.prune(this.options.maxFiles - 1);
    this.handle = await open(join(dir, name), 'a');
    this.size = 0;
  }

  /** Deletes the oldest files of this prefix until at most `keep` remain (names sort by time). */
  private async prune(keep: number): Promise<void> {
    const pattern = new RegExp(`^${escapeRegExp(this.options.prefix)}-\\d{8}T\\d{9}Z-\\d+-\\d+\\.jsonl$`);
    const files = (await readdir(this.options.dir)).filter((f) => pattern.test(f)).sort();
    for (const file of files.slice(0, Math.max(0, files.length - keep))) {
      await rm(join(this.options.dir, file), { force: true });
    }
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
