import { Logger } from '@nestjs/common';
import { describeTracing, type Tracing } from '../tracing/tracing.js';

/** One line at start: whether spans are exported, and any OTEL_* setting not honoured. */
export function logTracingState(tracing: Tracing): void {
  const logger = new Logger('Tracing');
  for (const warning of tracing.settings.warnings) logger.warn(warning);
  logger.log(describeTracing(tracing));
}
