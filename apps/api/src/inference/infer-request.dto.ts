import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';

/** One input tensor of an Open Inference Protocol request. */
export class InferInputDto {
  @IsString()
  @MaxLength(256)
  name!: string;

  @IsString()
  datatype!: string;

  @IsArray()
  @ArrayMaxSize(64)
  shape!: number[];

  /** Row-major, flat or nested. Checked against datatype and shape by the tensor codec. */
  @IsDefined()
  data!: unknown;

  @IsOptional()
  @IsObject()
  parameters?: Record<string, unknown>;
}

export class InferOutputDto {
  @IsString()
  name!: string;

  @IsOptional()
  @IsObject()
  parameters?: Record<string, unknown>;
}

/** `POST /v2/models/{m}[/versions/{v}]/infer` body. */
export class InferRequestDto {
  /** Echoed in the response. */
  @IsOptional()
  @IsString()
  @MaxLength(256)
  id?: string;

  /** Request parameters; `timeout_ms` lowers the model's default deadline. */
  @IsOptional()
  @IsObject()
  parameters?: Record<string, unknown>;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(64)
  @ValidateNested({ each: true })
  @Type(() => InferInputDto)
  inputs!: InferInputDto[];

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @ValidateNested({ each: true })
  @Type(() => InferOutputDto)
  outputs?: InferOutputDto[];
}
