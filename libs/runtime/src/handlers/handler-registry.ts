import { ConfigError } from '../repository/config-error.js';
import type { LoadedModel } from '../session/loaded-model.js';
import { ImageClassificationHandler } from './image-classification.handler.js';
import { TextClassificationHandler } from './text-classification.handler.js';
import type { HandlerFactory, ModelHandler } from './model-handler.js';

/** Friendly-request handlers by the `handler.kind` a model config names. */
const FACTORIES = new Map<string, HandlerFactory>([
  ['text-classification', (model) => TextClassificationHandler.create(model)],
  ['image-classification', (model) => ImageClassificationHandler.create(model)],
]);

export function registerHandler(kind: string, factory: HandlerFactory): void {
  FACTORIES.set(kind, factory);
}

/** The model's friendly handler, or undefined for plain tensor models. */
export async function createFriendlyHandler(model: LoadedModel): Promise<ModelHandler | undefined> {
  const kind = model.config.handler.kind;
  if (kind === 'tensor') return undefined;
  const factory = FACTORIES.get(kind);
  if (!factory) throw new ConfigError(`model '${model.name}': handler.kind '${kind}' is not available`);
  return factory(model);
}
