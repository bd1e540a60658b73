import type { ScoringEnvelope } from '../../../contracts/src/index.js';

/**
 * One envelope in a direct lane, as stored: `<takenBack>|<envelope JSON>`, where `takenBack`
 * counts how often it was taken back from a worker that died holding it. The prefix lets the
 * take-back script count without parsing (or re-encoding) the payload.
 */
export interface LaneEntry {
  /** The stored string: also the envelope's identity for LREM. */
  raw: string;
  takenBack: number;
  envelope: ScoringEnvelope;
}

export function encodeLaneEntry(envelope: ScoringEnvelope): string {
  return `0|${JSON.stringify(envelope)}`;
}

export function decodeLaneEntry(raw: string): LaneEntry {
  const sep = raw.indexOf('|');
  const takenBack = Number(raw.slice(0, sep));
  if (sep < 1 || !Number.isInteger(takenBack)) throw new Error('malformed lane entry');
  return { raw, takenBack, envelope: JSON.parse(raw.slice(sep + 1)) as ScoringEnvelope };
}
