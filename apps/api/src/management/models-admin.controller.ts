import { Controller, Delete, Get, HttpCode, Inject, Param, Post, Req, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiExtraModels, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ScoringError } from '#contracts';
import { ApiEnv, ManagementStore, type VersionRecord } from '#runtime';
import { AdminGuard } from '../auth/admin.guard.js';
import { dtoValidation } from '../http/dto-validation.js';
import { MANAGEMENT_STORE, requireStore } from './management-store.provider.js';
import { RegisterVersionDto } from './management.dto.js';
import { readVersionUpload } from './version-upload.js';
import { RegistryService } from './registry.service.js';

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The model registry: `/v1/management/models`. Admin key required. */
@ApiTags('management: models')
@ApiBearerAuth()
@ApiExtraModels(RegisterVersionDto)
@Controller('v1/management/models')
@UseGuards(AdminGuard)
@UsePipes(dtoValidation)
export class ModelsAdminController {
  constructor(
    @Inject(RegistryService) private readonly registry: RegistryService,
    @Inject(MANAGEMENT_STORE) private readonly store: ManagementStore | null,
    @Inject(ApiEnv) private readonly env: ApiEnv,
  ) {}

  @Get()
  async list(): Promise<{ models: { name: string; versions: string[] }[] }> {
    const store = requireStore(this.store);
    const names = await store.listModels();
    const models = await Promise.all(
      names.map(async (name) => ({ name, versions: (await store.versions(name)).map((v) => v.version) })),
    );
    return { models };
  }

  @Get(':model')
  async get(@Param('model') model: string): Promise<{ name: string; versions: VersionRecord[] }> {
    const versions = await requireStore(this.store).versions(model);
    if (versions.length === 0) throw ScoringError.notFound(`model '${model}' is not registered`);
    return { name: model, versions };
  }

  @Get(':model/versions/:version')
  async version(@Param('model') model: string, @Param('version') version: string): Promise<VersionRecord> {
    const record = await requireStore(this.store).version(model, version);
    if (!record) throw ScoringError.notFound(`model '${model}' version ${version} is not registered`);
    return record;
  }

  /**
   * Registers a version: JSON `{repository_path}` for a model already in the repository, or
   * multipart with the ONNX `file` (streamed to the model store) and optional `config` (JSON),
   * `labels` (file), `version`, `description`, `tags` (JSON).
   */
  @Post(':model/versions')
  @HttpCode(201)
  @ApiConsumes('application/json', 'multipart/form-data')
  @ApiBody({
    description:
      'JSON: a version already in the repository. Multipart: fields (version, description, tags, config) ' +
      'first, then the optional `labels` file and the ONNX `file` part last.',
    schema: {
      oneOf: [
        { $ref: getSchemaPath(RegisterVersionDto) },
        {
          type: 'object',
          required: ['file'],
          properties: {
            version: { type: 'string', example: '2' },
            description: { type: 'string' },
            tags: { type: 'string', description: 'JSON object' },
            config: { type: 'string', description: 'model config, JSON' },
            labels: { type: 'string', format: 'binary' },
            file: { type: 'string', format: 'binary', description: 'the ONNX model' },
          },
        },
      ],
    },
  })
  async register(@Param('model') model: string, @Req() req: FastifyRequest): Promise<VersionRecord> {
    if (!MODEL_NAME.test(model)) throw ScoringError.badRequest(`model name '${model}' is not valid`);
    if (req.isMultipart()) {
      return readVersionUpload(req, this.env.MAX_UPLOAD_BYTES, (upload) => this.registry.registerUpload(model, upload));
    }
    // One route, two forms: the DTO is validated here because a multipart body has none.
    const dto = (await dtoValidation.transform(req.body ?? {}, {
      type: 'body',
      metatype: RegisterVersionDto,
    })) as RegisterVersionDto;
    return this.registry.registerFromRepository(model, dto);
  }

  @Delete(':model/versions/:version')
  @HttpCode(204)
  async remove(@Param('model') model: string, @Param('version') version: string): Promise<void> {
    await requireStore(this.store).removeVersion(model, version);
  }
}
