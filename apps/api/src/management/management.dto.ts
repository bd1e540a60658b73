import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const NAME_MESSAGE = 'must be lower-case letters, digits and dashes (at most 32), starting with a letter or digit';

/** `POST /v1/management/models/{m}/versions` (JSON form): register a version already in the repository. */
export class RegisterVersionDto {
  /** Path of the version directory inside the model repository, e.g. `faq/1`. */
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9_.-]*\/[1-9][0-9]*$/, { message: 'repository_path must look like <model>/<version>' })
  @ApiProperty({ example: 'faq/1', description: 'version directory inside the model repository' })
  repository_path!: string;

  /** Version number to register it as. @defaultValue the next free number */
  @IsOptional()
  @Matches(/^[1-9][0-9]*$/)
  @ApiPropertyOptional({ example: '1', description: 'version number (default: the next free one)' })
  version?: string;

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  @ApiPropertyOptional({ example: 'FAQ retrieval, reference build' })
  description?: string;

  @IsOptional()
  @IsObject()
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, example: { team: 'support' } })
  tags?: Record<string, string>;
}

/** Per-deployment overrides of the version's model config. */
export class DeploymentSettingsDto {
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(4096)
  @ApiPropertyOptional({ example: 32, minimum: 0, maximum: 4096 })
  max_batch_size?: number;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10_000)
  @ApiPropertyOptional({ example: 2, minimum: 0, maximum: 10000 })
  max_queue_delay_ms?: number;

  @IsOptional()
  @IsInt()
  @Min(0)
  @ApiPropertyOptional({ example: 1000, minimum: 0 })
  max_queue_size?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(3_600_000)
  @ApiPropertyOptional({ example: 30000, minimum: 1, maximum: 3600000 })
  default_timeout_ms?: number;

  @IsOptional()
  @IsIn(['cpu', 'cuda'])
  @ApiPropertyOptional({ enum: ['cpu', 'cuda'], example: 'cpu' })
  device?: 'cpu' | 'cuda';

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(256)
  @ApiPropertyOptional({ example: 2, minimum: 0, maximum: 256 })
  intra_op_threads?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(64)
  @ApiPropertyOptional({ example: 2, minimum: 1, maximum: 64, description: 'sessions per worker (instance.count)' })
  instance_count?: number;
}

/** `PUT /v1/management/endpoints/{e}/deployments/{d}`: create a deployment or switch its version. */
export class DeploymentDto {
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/)
  @ApiProperty({ example: 'faq' })
  model!: string;

  @IsString()
  @Matches(/^[1-9][0-9]*$/, { message: 'version must be a registered version number' })
  @ApiProperty({ example: '1' })
  version!: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => DeploymentSettingsDto)
  @ApiPropertyOptional({ type: () => DeploymentSettingsDto })
  settings?: DeploymentSettingsDto;
}

/** `POST /v1/management/endpoints`. */
export class CreateEndpointDto {
  @IsString()
  @Matches(NAME, { message: `name ${NAME_MESSAGE}` })
  @ApiProperty({ example: 'faq', pattern: NAME.source })
  name!: string;

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  @ApiPropertyOptional({ example: 'FAQ retrieval, reference build' })
  description?: string;
}

/** `PUT /v1/management/endpoints/{e}/mirror`. `percent: 0` turns mirroring off. */
export class MirrorDto {
  @IsString()
  @Matches(NAME, { message: `deployment ${NAME_MESSAGE}` })
  @ApiProperty({ example: 'green' })
  deployment!: string;

  @IsInt()
  @Min(0)
  @Max(50)
  @ApiProperty({ example: 10, minimum: 0, maximum: 50, description: '0 turns mirroring off' })
  percent!: number;
}

/** `POST /v1/management/endpoints/{e}/keys/regenerate`. */
export class RegenerateKeyDto {
  @IsIn(['primary', 'secondary'])
  @ApiProperty({ enum: ['primary', 'secondary'], example: 'secondary' })
  key!: 'primary' | 'secondary';
}

export { NAME as RESOURCE_NAME_PATTERN };
