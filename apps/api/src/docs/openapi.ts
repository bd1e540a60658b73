import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { ScoringService } from '../inference/scoring.service.js';
import { inferRequestSchema } from './model-schema.js';

/** Tag of a path by its prefix (controllers stay free of documentation-only decorators). */
const TAGS: [RegExp, string][] = [
  [/^\/v1\/management\/models/, 'management: models'],
  [/^\/v1\/management\/endpoints/, 'management: endpoints'],
  [/^\/v[12]\/endpoints\//, 'scoring by endpoint'],
  [/^\/v2\/health/, 'health'],
  [/^\/v1\/jobs/, 'async jobs'],
  [/^\/admin/, 'admin'],
  [/^\/v[12]/, 'inference'],
];

/**
 * OpenAPI at `/docs` (Swagger UI) and `/docs-json`. Every request for the document adds the
 * models being served right now as `InferRequest_<model>` components (see `/v2/models/{m}/schema`).
 */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Switchyard')
    .setDescription(
      'Serve ONNX models as web services. Scoring: Open Inference Protocol (`/v2/models/...`), ' +
        'friendly JSON (`/v1/models/...`), and by endpoint with an endpoint key (`/v1/endpoints/...`). ' +
        'Management (`/v1/management/...`) needs the admin key.',
    )
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'endpoint key or admin key' })
    .build();
  const document = SwaggerModule.createDocument(app, config);
  for (const [path, item] of Object.entries(document.paths)) {
    const tag = TAGS.find(([re]) => re.test(path))?.[1];
    for (const op of Object.values(item) as { tags?: string[]; security?: unknown[] }[]) {
      if (!op || typeof op !== 'object') continue;
      if (tag && !op.tags?.length) op.tags = [tag];
      if (/^\/(v1\/management|v[12]\/endpoints|admin)/.test(path)) op.security ??= [{ bearer: [] }];
    }
    if (path.endsWith('/infer') && item.post) documentBinaryBody(item.post);
  }
  const scoring = app.get(ScoringService);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    patchDocumentOnRequest: async (_req, _res, doc: OpenAPIObject) => {
      const models = await scoring.models().catch(() => []);
      const schemas = { ...(doc.components?.schemas ?? {}) };
      for (const entry of models) {
        if (entry.metadata.name.startsWith('_')) continue;
        schemas[`InferRequest_${entry.metadata.name}`] = inferRequestSchema(entry.metadata.name, entry.metadata);
      }
      return { ...doc, components: { ...doc.components, schemas } };
    },
  });
}

type OperationObject = NonNullable<OpenAPIObject['paths'][string]['post']>;
type RequestBodyObject = Extract<NonNullable<OperationObject['requestBody']>, { content: unknown }>;

/** OIP infer routes also take the binary tensor data extension's body (http/binary-body.ts). */
function documentBinaryBody(op: OperationObject): void {
  const body = (op.requestBody ?? { content: {} }) as RequestBodyObject;
  body.description =
    'JSON, or `application/octet-stream` with the binary tensor data extension: the JSON (its length in the ' +
    '`Inference-Header-Content-Length` header), then the raw little-endian data of every input whose ' +
    '`parameters.binary_data_size` is set, in input order. Outputs come back binary when an output sets ' +
    '`parameters.binary_data` or the request sets `parameters.binary_data_output`.';
  body.content['application/octet-stream'] = { schema: { type: 'string', format: 'binary' } };
  op.requestBody = body;
}
