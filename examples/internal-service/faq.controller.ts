import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { lastValueFrom, timeout } from 'rxjs';
import { SwitchyardHttpClient, type JobStatusBody, type ScoreResult } from '#client';

/** Injection token of the Switchyard ClientProxy (see InternalServiceModule). */
export const SWITCHYARD = 'SWITCHYARD';

interface FaqPrediction {
  label: string;
  score: number;
  top_k: { label: string; score: number; question?: string; answer?: string }[];
}

export interface Answer {
  question: string;
  /** The FAQ entry that matched best, with its answer. */
  matched: string | undefined;
  answer: string | undefined;
  score: number;
}

/**
 * An internal service that answers JavaScript questions from the `faq` model: synchronously
 * over the microservices transport (`send('score.faq', ...)`), and later through an async
 * job made with the typed HTTP client.
 */
@Controller()
export class FaqController {
  constructor(
    @Inject(SWITCHYARD) private readonly switchyard: ClientProxy,
    @Inject(SwitchyardHttpClient) private readonly http: SwitchyardHttpClient,
  ) {}

  /** `GET /ask?q=...`: scored now, over the queues (no HTTP hop to the API). */
  @Get('ask')
  async ask(@Query('q') q: string): Promise<Answer> {
    const result = await lastValueFrom(
      this.switchyard.send<ScoreResult>('score.faq', { text: q, parameters: { top_k: 1 } }).pipe(timeout(15_000)),
    );
    return toAnswer(q, (result.predictions as FaqPrediction[])[0]!);
  }

  /** `POST /ask-later {question}`: an async job on the API; answers with its id. */
  @Post('ask-later')
  @HttpCode(202)
  async askLater(@Body() body: { question: string }): Promise<{ id: string }> {
    const { id } = await this.http.scoreAsync('faq', { text: body.question }, { topK: 1 });
    return { id };
  }

  /** `GET /answers/:id`: the job's status, with the answer once it has succeeded. */
  @Get('answers/:id')
  async answer(@Param('id') id: string): Promise<{ status: JobStatusBody['status']; answer?: Answer }> {
    const job = await this.http.getJob(id);
    if (job.status !== 'succeeded') return { status: job.status };
    const result = job.result as { predictions: FaqPrediction[] };
    return { status: job.status, answer: toAnswer('', result.predictions[0]!) };
  }
}

function toAnswer(question: string, prediction: FaqPrediction): Answer {
  const best = prediction.top_k[0];
  return { question, matched: best?.question, answer: best?.answer, score: prediction.score };
}
