import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ScoringError } from '#contracts';

/** A webhook target that passed the allow-list: connect only to `address`. */
export interface CheckedTarget {
  url: URL;
  /** The resolved address the request must go to (pinned: no second DNS lookup). */
  address: string;
  family: 4 | 6;
}

interface Entry {
  host: string;
  port?: number;
}

/** Resolves a hostname to every address it has (injectable for tests). */
export type Resolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

const systemResolver: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

/**
 * WEBHOOK_ALLOWED_HOSTS: `host` or `host:port` entries (IPv6 as `[::1]:8080`). A callback is
 * allowed when its host (name or address) and port match an entry by name, or when its name
 * resolves to an address that matches an entry. Either way it is resolved here, and the
 * delivery connects to the address checked here, so DNS cannot be changed under it.
 */
export class WebhookAllowList {
  private readonly entries: Entry[];

  constructor(
    list: string | undefined,
    private readonly resolve: Resolver = systemResolver,
  ) {
    this.entries = (list ?? '')
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)
      .map(parseEntry);
  }

  get enabled(): boolean {
    return this.entries.length > 0;
  }

  /** Checks a callback URL; throws 400 naming the host when it may not be called. */
  async check(raw: unknown): Promise<CheckedTarget> {
    if (typeof raw !== 'string' || raw.length > 2048) throw ScoringError.badRequest('callback_url: must be a URL');
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw ScoringError.badRequest(`callback_url: '${raw}' is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw ScoringError.badRequest(`callback_url: only http and https are allowed, not ${url.protocol}`);
    }
    if (url.username || url.password) throw ScoringError.badRequest('callback_url: must not carry credentials');
    const host = bare(url.hostname);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const shown = `${url.hostname}:${port}`;
    if (!this.enabled) {
      throw ScoringError.badRequest(`callback host '${shown}' refused: webhooks are disabled (WEBHOOK_ALLOWED_HOSTS)`);
    }
    const byName = this.entries.some((e) => e.host === host && (e.port === undefined || e.port === port));
    const addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await this.lookup(host, shown);
    const allowed = byName
      ? addresses
      : addresses.filter((a) => this.entries.some((e) => e.host === a.address && (e.port ?? port) === port));
    const first = allowed[0];
    if (!first) {
      const resolved = isIP(host) ? '' : ` (resolves to ${addresses.map((a) => a.address).join(', ')})`;
      throw ScoringError.badRequest(`callback host '${shown}'${resolved} is not on WEBHOOK_ALLOWED_HOSTS`);
    }
    return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
  }

  private async lookup(host: string, shown: string): Promise<{ address: string; family: number }[]> {
    try {
      const found = await this.resolve(host);
      if (found.length > 0) return found;
    } catch {
      // reported below
    }
    throw ScoringError.badRequest(`callback host '${shown}' refused: it does not resolve`);
  }
}

function parseEntry(entry: string): Entry {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (v6) return { host: v6[1]!.toLowerCase(), port: v6[2] ? Number(v6[2]) : undefined };
  if (isIP(entry) === 6) return { host: entry.toLowerCase() };
  const i = entry.lastIndexOf(':');
  if (i < 0) return { host: entry.toLowerCase() };
  return { host: entry.slice(0, i).toLowerCase(), port: Number(entry.slice(i + 1)) };
}

/** URL hostnames keep IPv6 brackets; entries and DNS answers do not. */
function bare(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}
