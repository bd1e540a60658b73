import { Injectable, ValidationPipe, type ArgumentMetadata } from '@nestjs/common';

/**
 * ValidationPipe for bodies that carry tensor data. class-transformer copies every array
 * element when it builds the DTO (tens of ms for one image tensor), so the envelope is
 * validated with each input's `data` set aside, and the original body is passed on. The data
 * itself is checked by the tensor codec against datatype and shape.
 */
@Injectable()
export class TensorBodyValidationPipe extends ValidationPipe {
  constructor() {
    super({ whitelist: false, forbidUnknownValues: true });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'body' || !isRecord(value) || !Array.isArray(value.inputs)) {
      return super.transform(value, metadata);
    }
    const envelope = {
      ...value,
      inputs: value.inputs.map((input: unknown) =>
        isRecord(input) && 'data' in input ? { ...input, data: true } : input,
      ),
    };
    await super.transform(envelope, metadata);
    return value;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
