import type { AsyncJobRecord, AsyncJobStatus, JobStatusBody, ScoringReply } from '#contracts';
import type { StoredAsyncJob } from '#runtime';

/** The status of a stored job; `running` only applies before an outcome exists. */
export function statusOf(job: StoredAsyncJob, running: boolean): AsyncJobStatus {
  const reply = job.outcome?.reply;
  if (!reply) return running ? 'running' : 'queued';
  if (reply.ok) return 'succeeded';
  return reply.status === 504 ? 'expired' : 'failed';
}

/** `GET /v1/jobs/{id}` and webhook body: the result has the shape its route would have answered. */
export function statusBody(job: StoredAsyncJob, running = false): JobStatusBody {
  const { record, outcome } = job;
  const reply = outcome?.reply;
  const body: JobStatusBody = {
    id: record.id,
    status: statusOf(job, running),
    model: record.model,
    version: reply?.ok ? reply.version : record.version,
    created_at: new Date(record.createdAt).toISOString(),
  };
  if (body.version === undefined) delete body.version;
  if (reply?.ok) body.result = renderResult(record, reply, outcome!.finishedAt);
  else if (reply) body.error = reply.error;
  if (outcome) body.finished_at = new Date(outcome.finishedAt).toISOString();
  return body;
}

/** True once the job has an outcome: nothing about it changes any more. */
export function isFinal(body: JobStatusBody): boolean {
  return body.status === 'succeeded' || body.status === 'failed' || body.status === 'expired';
}

function renderResult(record: AsyncJobRecord, reply: Extract<ScoringReply, { ok: true }>, finishedAt: number): unknown {
  switch (record.protocol) {
    case 'oip':
      return {
        model_name: record.model,
        model_version: reply.version,
        id: record.requestId ?? '',
        outputs: reply.outputs ?? [],
      };
    case 'predict':
      return {
        model: record.model,
        version: reply.version,
        predictions: reply.result,
        timings_ms: { ...reply.timings, total: finishedAt - record.createdAt },
      };
    default:
      return {
        model: record.model,
        version: reply.version,
        ...(reply.outputs ? { outputs: reply.outputs } : {}),
        ...(reply.result !== undefined ? { predictions: reply.result } : {}),
      };
  }
}
