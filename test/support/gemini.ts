import { vi } from 'vitest';

/**
 * A fake Gemini at the HTTP boundary: the real `@google/genai` SDK builds and sends its
 * requests; `globalThis.fetch` answers those addressed to FAKE_GEMINI_URL and passes every
 * other request through.
 */
export const FAKE_GEMINI_URL = 'https://gemini.fake.test';
export const FAKE_GEMINI_KEY = 'fake-gemini-key-0123456789';

export interface GeminiCall {
  url: string;
  headers: Headers;
  body: {
    contents: { role: string; parts: { text: string }[] }[];
    systemInstruction?: { parts: { text: string }[] };
    generationConfig?: Record<string, unknown>;
  };
}

export function fakeGemini(answer: (call: GeminiCall, n: number) => Response | Promise<Response>) {
  const calls: GeminiCall[] = [];
  const realFetch = globalThis.fetch;
  const spy = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (!request.url.startsWith(FAKE_GEMINI_URL)) return realFetch(input, init);
    const call: GeminiCall = { url: request.url, headers: request.headers, body: (await request.json()) as GeminiCall['body'] };
    calls.push(call);
    return answer(call, calls.length);
  });
  return { calls, restore: () => spy.mockRestore() };
}

/** A generateContent answer whose JSON text is `{"description": text}`. */
export function geminiAnswer(text: string, extra: { finishReason?: string; promptFeedback?: unknown; rawText?: string } = {}): Response {
  return Response.json({
    candidates: [
      {
        content: { role: 'model', parts: [{ text: extra.rawText ?? JSON.stringify({ description: text }) }] },
        finishReason: extra.finishReason ?? 'STOP',
        index: 0,
      },
    ],
    ...(extra.promptFeedback ? { promptFeedback: extra.promptFeedback } : {}),
    usageMetadata: { promptTokenCount: 50, candidatesTokenCount: 40, totalTokenCount: 90 },
    modelVersion: 'gemini-2.5-flash',
  });
}

export function geminiError(status: number, retryDelay?: string): Response {
  const details = retryDelay ? [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay }] : [];
  return Response.json({ error: { code: status, message: `fake error ${status}`, status: status === 429 ? 'RESOURCE_EXHAUSTED' : 'UNAVAILABLE', details } }, { status });
}
