import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ScoringService } from '../inference/scoring.service.js';
import { inferRequestSchema } from './model-schema.js';

/** Per-model request schemas, derived from the model signature the workers announce. */
@ApiTags('inference')
@Controller('v2/models')
export class ModelSchemaController {
  constructor(@Inject(ScoringService) private readonly scoring: ScoringService) {}

  @Get(':model/schema')
  @ApiOperation({ summary: 'JSON Schema of the OIP infer body for this model (inputs, datatypes, shapes)' })
  @ApiParam({ name: 'model', example: 'sum' })
  @ApiOkResponse({ description: 'a JSON Schema (2020-12) document' })
  async schema(@Param('model') model: string): Promise<Record<string, unknown>> {
    return inferRequestSchema(model, (await this.scoring.model(model)).metadata);
  }

  @Get(':model/versions/:version/schema')
  @ApiOperation({ summary: 'JSON Schema of the OIP infer body for one version' })
  async versionSchema(
    @Param('model') model: string,
    @Param('version') version: string,
  ): Promise<Record<string, unknown>> {
    return inferRequestSchema(model, (await this.scoring.model(model, version)).metadata);
  }
}
