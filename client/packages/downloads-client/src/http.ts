// REST calls of the download service: one request function that adds credentials and turns every
// non-2xx answer into an ApiError carrying the problem details.
import type { ProblemDetails } from './types.js';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** An answer outside 2xx, with the service's problem details (`application/problem+json`). */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: ProblemDetails | null;
  /** Seconds, from `Retry-After` (429, 503), else null. */
  readonly retryAfter: number | null;

  constructor(status: number, problem: ProblemDetails | null, retryAfter: number | null) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

/** 401, 403 and 404 will not change by asking again: following such a job stops. */
export function isFatal(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 401 || error.status === 403 || error.status === 404);
}

export interface Credentials {
  /** The API key (`Authorization: Bearer`), where the service has keys configured. */
  apiKey?: string;
  /** A job's access token, sent as `?access_token=` when there is no API key. */
  accessToken?: string;
}

export class Http {
  private readonly baseUrl: string;
  private readonly doFetch: FetchLike;

  constructor(baseUrl: string, fetchImpl?: FetchLike) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    // Bound lazily: an unbound window.fetch throws "Illegal invocation".
    this.doFetch = fetchImpl ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** `path` on the service, with the job's access token in the query when no API key is used. */
  url(path: string, credentials: Credentials = {}): string {
    const url = `${this.baseUrl}${path}`;
    if (credentials.apiKey || !credentials.accessToken) return url;
    const separator = url.includes('?') ? '&' : '?';
    return `${url}${separator}access_token=${encodeURIComponent(credentials.accessToken)}`;
  }

  headers(credentials: Credentials, extra?: HeadersInit): Headers {
    const headers = new Headers(extra);
    if (credentials.apiKey) headers.set('Authorization', `Bearer ${credentials.apiKey}`);
    return headers;
  }

  /** Sends the request; resolves to the response when its status is accepted, else throws ApiError. */
  async send(path: string, credentials: Credentials, init: RequestInit = {}, accept: (status: number) => boolean = isOk): Promise<Response> {
    const headers = this.headers(credentials, init.headers);
    if (!headers.has('Accept')) headers.set('Accept', 'application/json, application/problem+json');
    const response = await this.doFetch(this.url(path, credentials), { ...init, headers, cache: 'no-store' });
    if (!accept(response.status)) {
      throw new ApiError(response.status, await readProblem(response), parseRetryAfter(response));
    }
    return response;
  }

  async json<T>(path: string, credentials: Credentials, init: RequestInit = {}): Promise<T> {
    const response = await this.send(path, credentials, init);
    return (await response.json()) as T;
  }
}

function isOk(status: number): boolean {
  return status >= 200 && status < 300;
}

async function readProblem(response: Response): Promise<ProblemDetails | null> {
  try {
    const text = await response.text();
    if (!text) return null;
    const body: unknown = JSON.parse(text);
    return body && typeof body === 'object' ? (body as ProblemDetails) : null;
  } catch {
    return null;
  }
}

function parseRetryAfter(response: Response): number | null {
  const value = response.headers.get('Retry-After');
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.round((date - Date.now()) / 1000));
}

export function newIdempotencyKey(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Waits `ms`, or less when `signal` aborts (never rejects). */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
