import { z } from 'zod';
import { type DescriptionInput, RESPONSE_JSON_SCHEMA, SYSTEM_INSTRUCTION, userPrompt } from './description-text.ts';

/**
 * Gemini through `@google/genai`, the maintained SDK (`@google/generative-ai` was archived in
 * 2025). The key goes in the `x-goog-api-key` header, never in a URL. The SDK is loaded on first
 * use, so the worker does no work for it at start-up.
 *
 * One attempt per call: retries belong to the queue (backoff between deliveries, a deadline per
 * job), not to an in-process loop that would hold a consumer for a minute.
 */
export interface GeminiSettings {
  apiKey: string;
  model: string;
  baseUrl?: string | undefined;
  timeoutMs: number;
  thinkingBudget: number;
}

/** What went wrong, and whether trying again can help. `reason` is short and safe to show an admin. */
export type GeminiFailure = { retry: true; reason: string; delaySeconds?: number | undefined } | { retry: false; reason: string };

export class GeminiError extends Error {
  readonly failure: GeminiFailure;
  constructor(failure: GeminiFailure) {
    super(failure.reason);
    this.name = 'GeminiError';
    this.failure = failure;
  }
}

const Answer = z.object({ description: z.string() });

/** Seconds from a `google.rpc.RetryInfo` detail (`"retryDelay": "17s"`), if the error carries one. */
export function retryInfoDelay(errorBody: string): number | undefined {
  try {
    const parsed = JSON.parse(errorBody) as { error?: { details?: { '@type'?: string; retryDelay?: string }[] } };
    const info = parsed.error?.details?.find((d) => d['@type']?.endsWith('google.rpc.RetryInfo'));
    const match = /^(\d+(?:\.\d+)?)s$/.exec(info?.retryDelay ?? '');
    return match ? Math.ceil(Number(match[1])) : undefined;
  } catch {
    return undefined;
  }
}

/** 429 and 5xx (and 408) are worth another try; any other 4xx will fail the same way again. */
function classify(error: unknown, status: number | undefined): GeminiFailure {
  if (status === 429) {
    return { retry: true, reason: 'Gemini rate limit reached (HTTP 429).', delaySeconds: retryInfoDelay(error instanceof Error ? error.message : '') };
  }
  if (status !== undefined && (status >= 500 || status === 408)) return { retry: true, reason: `Gemini is unavailable (HTTP ${status}).` };
  if (status !== undefined) return { retry: false, reason: `Gemini refused the request (HTTP ${status}).` };
  const name = error instanceof Error ? error.name : '';
  return { retry: true, reason: name === 'AbortError' || name === 'TimeoutError' ? 'Gemini did not answer in time.' : 'Gemini could not be reached.' };
}

const BLOCKING_FINISH = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY']);

/** Asks the model for a description; returns its raw text (the caller cleans it). */
export async function generateDescription(settings: GeminiSettings, input: DescriptionInput): Promise<string> {
  const { GoogleGenAI, ApiError } = await import('@google/genai');
  const ai = new GoogleGenAI({
    apiKey: settings.apiKey,
    httpOptions: {
      ...(settings.baseUrl ? { baseUrl: settings.baseUrl } : {}),
      timeout: settings.timeoutMs,
      retryOptions: { attempts: 1 },
    },
  });
  let response;
  try {
    response = await ai.models.generateContent({
      model: settings.model,
      contents: [{ role: 'user', parts: [{ text: userPrompt(input) }] }],
      config: {
        systemInstruction: SYSTEM_INSTRUCTION,
        responseMimeType: 'application/json',
        responseJsonSchema: RESPONSE_JSON_SCHEMA,
        // A short text needs little or no reasoning; thinking tokens cost time and money.
        thinkingConfig: { thinkingBudget: settings.thinkingBudget },
        maxOutputTokens: 1024,
        temperature: 0.7,
      },
    });
  } catch (error) {
    throw new GeminiError(classify(error, error instanceof ApiError ? error.status : undefined));
  }
  if (response.promptFeedback?.blockReason) throw new GeminiError({ retry: false, reason: 'Gemini blocked the request (safety filters).' });
  const finish = response.candidates?.[0]?.finishReason;
  if (finish && BLOCKING_FINISH.has(finish)) throw new GeminiError({ retry: false, reason: 'Gemini blocked the answer (safety filters).' });
  let answer: string | undefined;
  try {
    answer = Answer.parse(JSON.parse(response.text ?? '')).description;
  } catch {
    answer = undefined;
  }
  if (!answer || answer.trim() === '') throw new GeminiError({ retry: false, reason: 'Gemini returned no description.' });
  return answer;
}
