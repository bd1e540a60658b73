import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import type { DeploymentRecord } from '#runtime';
import { AdminGuard } from '../auth/admin.guard.js';
import { dtoValidation } from '../http/dto-validation.js';
import { EndpointsService } from './endpoints.service.js';
import { CreateEndpointDto, DeploymentDto, MirrorDto, RegenerateKeyDto } from './management.dto.js';

/** Endpoints, deployments, traffic, mirroring and keys: `/v1/management/endpoints`. Admin key required. */
@ApiTags('management: endpoints')
@ApiBearerAuth()
@Controller('v1/management/endpoints')
@UseGuards(AdminGuard)
@UsePipes(dtoValidation)
export class EndpointsAdminController {
  constructor(@Inject(EndpointsService) private readonly endpoints: EndpointsService) {}

  @Post()
  @HttpCode(201)
  @ApiCreatedResponse({
    description: 'the endpoint and its two keys, in plain text this once',
    schema: { example: { name: 'faq', keys: { primary: 'sy_…', secondary: 'sy_…' }, revision: 1 } },
  })
  create(@Body() dto: CreateEndpointDto) {
    return this.endpoints.create(dto);
  }

  @Get()
  async list() {
    return { endpoints: await this.endpoints.list() };
  }

  @Get(':endpoint')
  get(@Param('endpoint') endpoint: string) {
    return this.endpoints.get(endpoint);
  }

  @Delete(':endpoint')
  @HttpCode(204)
  async delete(@Param('endpoint') endpoint: string): Promise<void> {
    await this.endpoints.delete(endpoint);
  }

  @Get(':endpoint/deployments')
  async deployments(@Param('endpoint') endpoint: string) {
    return { deployments: (await this.endpoints.get(endpoint)).deployment_status };
  }

  @Put(':endpoint/deployments/:deployment')
  putDeployment(
    @Param('endpoint') endpoint: string,
    @Param('deployment') deployment: string,
    @Body() dto: DeploymentDto,
  ): Promise<DeploymentRecord> {
    return this.endpoints.putDeployment(endpoint, deployment, dto);
  }

  @Delete(':endpoint/deployments/:deployment')
  @HttpCode(204)
  async deleteDeployment(@Param('endpoint') endpoint: string, @Param('deployment') deployment: string): Promise<void> {
    await this.endpoints.deleteDeployment(endpoint, deployment);
  }

  /** Body: deployment → weight, summing to 100 (or `{}` for no traffic). */
  @Put(':endpoint/traffic')
  @ApiBody({
    description: 'deployment → weight (integers summing to 100), or {} for no traffic',
    schema: { type: 'object', additionalProperties: { type: 'integer' }, example: { blue: 90, green: 10 } },
  })
  async traffic(@Param('endpoint') endpoint: string, @Body() body: unknown) {
    return { traffic: await this.endpoints.setTraffic(endpoint, body) };
  }

  @Put(':endpoint/mirror')
  async mirror(@Param('endpoint') endpoint: string, @Body() dto: MirrorDto) {
    return { mirror: await this.endpoints.setMirror(endpoint, dto) };
  }

  @Post(':endpoint/keys/regenerate')
  regenerate(@Param('endpoint') endpoint: string, @Body() dto: RegenerateKeyDto) {
    return this.endpoints.regenerateKey(endpoint, dto.key);
  }
}
