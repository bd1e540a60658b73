import { ValidationPipe } from '@nestjs/common';

/**
 * The ValidationPipe for DTO bodies: unknown fields refused (typos fail loudly), values
 * transformed into DTO instances. Tensor bodies use TensorBodyValidationPipe instead.
 */
export const dtoValidation = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });
