// REST calls of the download service. `fetch` is injectable for tests.
import type { InitiateResponse, ProblemDetails, StatusDocument } from './types';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export class ApiError extends Error {
  readonly status: number;
  readonly problem: ProblemDetails | null;
  /** Seconds, from `Retry-After` (429, 503). */
  readonly retryAfter: number | null;

  constructor(status: number, problem: ProblemDetails | null, retryAfter: number | null) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

export interface DownloadsApi {
  initiate(fileIds: number[], callbackUrl?: string): Promise<InitiateResponse>;
  /** `accessToken` is added to `statusUrl` unless it carries one already (initiate's URLs do where keys are required). */
  getStatus(statusUrl: string, accessToken?: string | null): Promise<StatusDocument>;
  cancel(jobId: string, accessToken?: string | null): Promise<StatusDocument>;
  pause(jobId: string, accessToken?: string | null): Promise<StatusDocument>;
  resume(jobId: string, accessToken?: string | null): Promise<StatusDocument>;
  /** A new job of the ended job's failed files (all of them without `fileIds`). */
  retry(jobId: string, fileIds?: number[], accessToken?: string | null): Promise<InitiateResponse>;
}

/** `url` with the job's access token as `?access_token=` (how the service takes it from browsers), if there is one. */
export function withAccessToken(url: string, accessToken?: string | null): string {
  if (!accessToken || /[?&]access_token=/.test(url)) return url;
  return `${url}${url.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(accessToken)}`;
}

export function statusUrlFor(jobId: string): string {
  return `/v1/download/status/${encodeURIComponent(jobId)}`;
}

/**
 * The page is served by the API itself, so every service URL is used on the
 * page's own origin: absolute URLs from the server keep their path and query.
 * This keeps the Vite dev proxy (and any reverse proxy) in the path.
 */
export function toLocalUrl(url: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url;
  try {
    const u = new URL(url);
    return `${u.pathname}${u.search}`;
  } catch {
    return url;
  }
}

function newIdempotencyKey(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
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

export function createApi(fetchImpl?: FetchLike): DownloadsApi {
  // Bound lazily: an unbound window.fetch throws "Illegal invocation".
  const doFetch: FetchLike = fetchImpl ?? ((input, init) => globalThis.fetch(input, init));

  async function request<T>(url: string, init: RequestInit = {}): Promise<T> {
    const headers = new Headers(init.headers);
    headers.set('Accept', 'application/json, application/problem+json');
    const response = await doFetch(toLocalUrl(url), { ...init, headers, cache: 'no-store' });
    if (!response.ok) {
      throw new ApiError(response.status, await readProblem(response), parseRetryAfter(response));
    }
    return (await response.json()) as T;
  }

  return {
    async initiate(fileIds, callbackUrl) {
      const body = JSON.stringify(callbackUrl ? { file_ids: fileIds, callback_url: callbackUrl } : { file_ids: fileIds });
      const init: RequestInit = {
        method: 'POST',
        // One key per submission: a retry after a network failure cannot start the job twice.
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': newIdempotencyKey() },
        body,
      };
      try {
        return await request<InitiateResponse>('/v1/download/initiate', init);
      } catch (error) {
        if (error instanceof ApiError) throw error;
        return await request<InitiateResponse>('/v1/download/initiate', init);
      }
    },
    getStatus(statusUrl, accessToken) {
      return request<StatusDocument>(withAccessToken(statusUrl, accessToken));
    },
    cancel(jobId, accessToken) {
      return request<StatusDocument>(withAccessToken(`/v1/download/${encodeURIComponent(jobId)}`, accessToken), { method: 'DELETE' });
    },
    pause(jobId, accessToken) {
      return request<StatusDocument>(withAccessToken(`/v1/download/${encodeURIComponent(jobId)}/pause`, accessToken), { method: 'POST' });
    },
    resume(jobId, accessToken) {
      return request<StatusDocument>(withAccessToken(`/v1/download/${encodeURIComponent(jobId)}/resume`, accessToken), { method: 'POST' });
    },
    retry(jobId, fileIds, accessToken) {
      return request<InitiateResponse>(withAccessToken(`/v1/download/${encodeURIComponent(jobId)}/retry`, accessToken), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(fileIds ? { file_ids: fileIds } : {}),
      });
    },
  };
}

function fieldLabel(key: string, fileIds: readonly number[]): string {
  const m = /^file_ids\[(\d+)\]$/i.exec(key);
  if (m) {
    const index = Number(m[1]);
    const id = fileIds[index];
    return id === undefined ? `File #${index + 1}` : `File ${id}`;
  }
  if (/^file_ids$/i.test(key)) return 'File ids';
  if (/^callback_url$/i.test(key)) return 'Callback URL';
  if (!key || key === '$' || key === 'body') return 'Request';
  return key;
}

/** Human-readable lines for an error: the problem's detail, then one line per field error. */
export function describeError(error: unknown, fileIds: readonly number[] = []): string[] {
  if (error instanceof ApiError) {
    const p = error.problem;
    const lines: string[] = [];
    const errors = p?.errors && typeof p.errors === 'object' ? Object.entries(p.errors) : [];
    const headline =
      error.status === 429
        ? `Too many requests${error.retryAfter !== null ? `: try again in ${error.retryAfter} s` : ''}.`
        : p?.detail || p?.title || `The server answered ${error.status}.`;
    if (!errors.length || p?.detail) lines.push(headline);
    else lines.push(p?.title || 'The request was not valid.');
    for (const [key, messages] of errors) {
      const list = Array.isArray(messages) ? messages : [String(messages)];
      for (const message of list) lines.push(`${fieldLabel(key, fileIds)}: ${message}`);
    }
    return lines;
  }
  if (error instanceof Error && error.message) {
    return [error.name === 'TypeError' ? 'Could not reach the download service.' : error.message];
  }
  return ['Something went wrong.'];
}
