// Reading the Dockerfile (stages, build args) and .dockerignore, enough for this repository's files.
import { readFileSync } from 'node:fs';

export interface Stage {
  name: string;
  from: string;
  lines: string[];
}

/** The Dockerfile's global ARG defaults and its stages, continuation lines joined, comments dropped. */
export function dockerStages(): { args: Record<string, string>; stages: Stage[] } {
  const lines = readFileSync('Dockerfile', 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const from = /^FROM\s+(\S+)\s+AS\s+(\S+)$/i.exec(line);
    const arg = /^ARG\s+(\w+)=(\S+)$/.exec(line);
    if (from)
      stages.push({ from: from[1]!.replace(/\$\{(\w+)\}/g, (_, a) => args[a] ?? ''), name: from[2]!, lines: [] });
    else if (arg && stages.length === 0) args[arg[1]!] = arg[2]!;
    else stages.at(-1)?.lines.push(line);
  }
  return { args, stages };
}

/** The runtime stages: the image targets. */
export const RUNTIME_STAGES = ['cpu', 'gpu'];

/** Whether a runtime stage creates a directory owned by uid 1000 (a volume mounted there is writable). */
export function createsOwnedDir(stage: Stage, path: string): boolean {
  const escaped = path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return stage.lines.some((l) => new RegExp(`^RUN .*install -d -o 1000 -g 1000 ${escaped}(\\s|$)`).test(l));
}

/** .dockerignore semantics, enough for this file: last match wins, a match on a parent counts. */
export function inBuildContext(path: string): boolean {
  const patterns = readFileSync('.dockerignore', 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  let included = true;
  for (const p of patterns) {
    const negated = p.startsWith('!');
    const glob = negated ? p.slice(1) : p;
    const re = new RegExp(
      '^' +
        glob
          .replace(/[.+^$()|[\]]/g, '\\$&')
          .replace(/\*\*/g, '\0')
          .replace(/\*/g, '[^/]*')
          .replace(/\0/g, '.*') +
        '(/.*)?$',
    );
    if (re.test(path)) included = negated;
  }
  return included;
}
