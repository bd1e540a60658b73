import { readFile } from 'node:fs/promises';
import { plainToInstance, Type } from 'class-transformer';
import {
  IsArray,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  validate,
  ValidateNested,
  type ValidationError,
} from 'class-validator';
import { parse } from 'yaml';
import { ConfigError } from '#runtime';
import { DeploymentDto, MirrorDto, RegisterVersionDto, RESOURCE_NAME_PATTERN } from './management.dto.js';

/*
 * The endpoints file (ENDPOINTS_FILE): models, endpoints, deployments, traffic and mirroring,
 * declared in YAML and applied at start. The classes reuse the management API's DTOs, so the
 * file and the API accept the same things.
 */

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `models[].versions[]`: the API's register body; `version` is required here (see checkFile). */
export class FileVersionDto extends RegisterVersionDto {}

export class FileModelDto {
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, { message: 'name must be a valid model name' })
  name!: string;

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => FileVersionDto)
  versions!: FileVersionDto[];
}

/** Names of the environment variables holding the endpoint's keys (never the keys themselves). */
export class FileKeysDto {
  @IsString()
  @Matches(ENV_NAME, { message: 'primary_env must be an environment variable name' })
  primary_env!: string;

  @IsOptional()
  @IsString()
  @Matches(ENV_NAME, { message: 'secondary_env must be an environment variable name' })
  secondary_env?: string;
}

/** `endpoints[].deployments[]`: the API's deployment body plus its name. */
export class FileDeploymentDto extends DeploymentDto {
  @IsString()
  @Matches(RESOURCE_NAME_PATTERN, { message: 'name must be lower-case letters, digits and dashes' })
  name!: string;
}

export class FileEndpointDto {
  @IsString()
  @Matches(RESOURCE_NAME_PATTERN, { message: 'name must be lower-case letters, digits and dashes' })
  name!: string;

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string;

  @ValidateNested()
  @Type(() => FileKeysDto)
  keys!: FileKeysDto;

  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => FileDeploymentDto)
  deployments?: FileDeploymentDto[];

  /** Deployment → weight, summing to 100 (checked like `PUT .../traffic`). */
  @IsOptional()
  @IsObject()
  traffic?: Record<string, number>;

  @IsOptional()
  @ValidateNested()
  @Type(() => MirrorDto)
  mirror?: MirrorDto;
}

export class EndpointsFileDto {
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => FileModelDto)
  models?: FileModelDto[];

  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => FileEndpointDto)
  endpoints?: FileEndpointDto[];
}

/** Reads and validates the file; a problem is a ConfigError naming the file and the field. */
export async function readEndpointsFile(path: string): Promise<EndpointsFileDto> {
  const fail = (field: string, message: string): never => {
    throw new ConfigError(`ENDPOINTS_FILE ${path}: ${field ? `${field}: ` : ''}${message}`);
  };
  const text = await readFile(path, 'utf8').catch((err: Error) => fail('', `cannot read: ${err.message}`));
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    return fail('', `not valid YAML: ${(err as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return fail('', 'must be a mapping with models/endpoints');
  const file = plainToInstance(EndpointsFileDto, raw);
  const errors = await validate(file, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) {
    const [field, message] = firstProblem(errors[0]!, '');
    return fail(field, message);
  }
  checkFile(file, fail);
  return file;
}

/** What class-validator cannot say: required versions, unique names, references. */
function checkFile(file: EndpointsFileDto, fail: (field: string, message: string) => never): void {
  const models = new Set<string>();
  file.models?.forEach((m, i) => {
    if (models.has(m.name)) fail(`models[${i}].name`, `model '${m.name}' is listed twice`);
    models.add(m.name);
    m.versions.forEach((v, j) => {
      if (!v.version) fail(`models[${i}].versions[${j}].version`, 'is required in the endpoints file');
    });
  });
  const endpoints = new Set<string>();
  file.endpoints?.forEach((e, i) => {
    if (endpoints.has(e.name)) fail(`endpoints[${i}].name`, `endpoint '${e.name}' is listed twice`);
    endpoints.add(e.name);
    const deployments = new Set<string>();
    e.deployments?.forEach((d, j) => {
      if (deployments.has(d.name)) fail(`endpoints[${i}].deployments[${j}].name`, `'${d.name}' is listed twice`);
      deployments.add(d.name);
    });
    for (const [name, weight] of Object.entries(e.traffic ?? {})) {
      if (!Number.isInteger(weight)) fail(`endpoints[${i}].traffic.${name}`, 'must be an integer percentage');
    }
  });
}

/** The deepest first problem as `a.b[0].c` and its message. */
function firstProblem(error: ValidationError, prefix: string): [string, string] {
  const key = /^\d+$/.test(error.property) ? `[${error.property}]` : `${prefix ? '.' : ''}${error.property}`;
  const path = `${prefix}${key}`;
  const messages = Object.values(error.constraints ?? {});
  if (messages.length > 0) return [path, messages.join('; ')];
  const child = error.children?.[0];
  return child ? firstProblem(child, path) : [path, 'is not valid'];
}
