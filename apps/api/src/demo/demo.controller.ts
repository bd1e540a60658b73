import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Controller, Get, Logger, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ScoringError } from '#contracts';

/** One static file of the demo page, read into memory at startup. */
interface Asset {
  body: Buffer;
  type: string;
}

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'demo.js': 'text/javascript; charset=utf-8',
  'demo.css': 'text/css; charset=utf-8',
};

/** The page loads only its own script and stylesheet; images may be data: or blob: previews. */
export const DEMO_CSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'";

/**
 * Where the demo files live. They are not compiled, so they are not in dist/: the compiled
 * controller (dist/apps/api/src/demo/demo.controller.js) looks for `apps/api/public/` at the
 * repository root, five levels up. When run from source (apps/api/src/demo/), or if a build
 * copies the files to dist/apps/api/public/, they are two levels up; that is tried first.
 * Resolving from the module's own URL (not process.cwd()) serves the page whatever the
 * working directory.
 */
export function resolvePublicDir(moduleUrl: string = import.meta.url): URL | undefined {
  const candidates = ['../../public/', '../../../../../apps/api/public/'].map((rel) => new URL(rel, moduleUrl));
  return candidates.find((dir) => existsSync(new URL('index.html', dir)));
}

/**
 * The browser demo: `GET /` and `GET /demo` (the page), `GET /demo.js`, `GET /demo.css`.
 * Static HTML, CSS and vanilla JS that call the friendly predict route; nothing is built.
 * If the files are missing (an image that does not ship them), the API still starts and
 * these routes answer 404.
 */
@ApiExcludeController()
@Controller()
export class DemoController {
  private readonly logger = new Logger('Demo');
  private readonly assets = new Map<string, Asset>();

  constructor() {
    const dir = resolvePublicDir();
    if (!dir) {
      this.logger.warn('demo page files (apps/api/public/) not found: GET / answers 404');
      return;
    }
    for (const [name, type] of Object.entries(FILES)) {
      this.assets.set(name, { body: readFileSync(new URL(name, dir)), type });
    }
    this.logger.log(`demo page served from ${fileURLToPath(dir)}`);
  }

  @Get()
  index(@Res() res: FastifyReply): void {
    this.send(res, 'index.html');
  }

  @Get('demo')
  demo(@Res() res: FastifyReply): void {
    this.send(res, 'index.html');
  }

  @Get('demo.js')
  script(@Res() res: FastifyReply): void {
    this.send(res, 'demo.js');
  }

  @Get('demo.css')
  style(@Res() res: FastifyReply): void {
    this.send(res, 'demo.css');
  }

  private send(res: FastifyReply, name: string): void {
    const asset = this.assets.get(name);
    if (!asset) throw ScoringError.notFound('the demo page is not installed (apps/api/public/ is missing)');
    void res
      .header('content-type', asset.type)
      .header('content-security-policy', DEMO_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .send(asset.body);
  }
}
