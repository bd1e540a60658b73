import type { ModelMetadata, TensorSpec } from '#contracts';

type JsonSchema = Record<string, unknown>;

/** JSON type of one element of `data` for an OIP datatype. */
function elementSchema(datatype: string): JsonSchema {
  if (datatype === 'BOOL') return { type: 'boolean' };
  if (datatype === 'BYTES') return { type: 'string' };
  if (datatype.startsWith('FP')) return { type: 'number' };
  return { type: 'integer' };
}

/** A shape array for a declared shape: same rank, fixed dimensions as const, -1 as any size. */
function shapeSchema(shape: number[]): JsonSchema {
  return {
    type: 'array',
    minItems: shape.length,
    maxItems: shape.length,
    prefixItems: shape.map((d) => (d < 0 ? { type: 'integer', minimum: 0 } : { const: d })),
    items: false,
  };
}

function inputSchema(spec: TensorSpec): JsonSchema {
  return {
    type: 'object',
    required: ['name', 'datatype', 'shape', 'data'],
    properties: {
      name: { const: spec.name },
      datatype: { const: spec.datatype },
      shape: shapeSchema(spec.shape),
      data: { type: 'array', items: { anyOf: [elementSchema(spec.datatype), { type: 'array' }] } },
      parameters: { type: 'object' },
    },
  };
}

/**
 * JSON Schema (2020-12) of the OIP infer body for one model, derived from its signature: input
 * names as an enum, each input's datatype as a const, its rank and fixed dimensions, data as array.
 */
export function inferRequestSchema(model: string, metadata: ModelMetadata): JsonSchema {
  const names = metadata.inputs.map((i) => i.name);
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: `${model} inference request (POST /v2/models/${model}/infer)`,
    type: 'object',
    required: ['inputs'],
    properties: {
      id: { type: 'string' },
      parameters: { type: 'object' },
      inputs: {
        type: 'array',
        minItems: names.length,
        maxItems: names.length,
        items: {
          type: 'object',
          properties: { name: { enum: names } },
          oneOf: metadata.inputs.map(inputSchema),
        },
      },
      outputs: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name'],
          properties: { name: { enum: metadata.outputs.map((o) => o.name) }, parameters: { type: 'object' } },
        },
      },
    },
    examples: [
      {
        inputs: metadata.inputs.map((i) => ({
          name: i.name,
          datatype: i.datatype,
          shape: i.shape.map((d) => (d < 0 ? 1 : d)),
          data: new Array(i.shape.reduce((n, d) => n * (d < 0 ? 1 : d), 1)).fill(elementExample(i.datatype)),
        })),
      },
    ],
  };
}

function elementExample(datatype: string): unknown {
  if (datatype === 'BOOL') return true;
  if (datatype === 'BYTES') return 'text';
  return datatype.startsWith('FP') ? 0.5 : 1;
}
