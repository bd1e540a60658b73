import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

export class PredictParametersDto {
  /** Classes returned per item. @defaultValue the model's `handler.top_k` */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  top_k?: number;

  /** Queue priority: 0 (default) first; larger numbers wait until no default job waits. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(2_097_152)
  priority?: number;

  /** Lowers the model's default deadline (ms). */
  @IsOptional()
  @IsNumber()
  @Min(1)
  timeout_ms?: number;

  /** Async requests: webhook URL told the outcome (host must be on WEBHOOK_ALLOWED_HOSTS). */
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  callback_url?: string;
}

/**
 * JSON body of `POST /v1/models/{m}:predict`: exactly one of `text`, `texts`, `image`,
 * `images` (images as base64, optionally as `data:` URLs).
 */
export class PredictRequestDto {
  @IsOptional()
  @IsString()
  @MaxLength(1_000_000)
  text?: string;

  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(4096)
  @IsString({ each: true })
  texts?: string[];

  @IsOptional()
  @IsString()
  image?: string;

  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(4096)
  @IsString({ each: true })
  images?: string[];

  @IsOptional()
  @ValidateNested()
  @Type(() => PredictParametersDto)
  parameters?: PredictParametersDto;
}
