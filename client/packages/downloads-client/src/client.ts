// The typed client of the download service: REST calls plus live following of a job.
import { DEFAULT_TIMINGS, Follower, iterate, type FollowContext, type FollowOptions, type FollowTimings } from './follow.js';
import { HubShare } from './hubShare.js';
import { connectSharedHub, type HubLike, type HubOptions, type HubTransportName } from './hub.js';
import { ApiError, Http, newIdempotencyKey, type Credentials, type FetchLike } from './http.js';
import { applyEvent, initialJobState, type JobState } from './jobState.js';
import type { InitiateResponse, JobEvent, PendingResultDocument, ResultDocument, StatusDocument } from './types.js';

export interface DownloadsClientOptions {
  /** Where the service is, e.g. `https://downloads.example` (a path prefix is kept); `''` for the page's own origin. */
  baseUrl: string;
  /** The API key, where the service requires keys. Jobs then belong to it. */
  apiKey?: string;
  /** A fetch implementation (default: the global one). */
  fetch?: FetchLike;
  /** Timings of live following; see FollowTimings. */
  timings?: Partial<FollowTimings>;
  /** Extra options for the SignalR connection (headers, logger, a WebSocket constructor). */
  hubOptions?: HubOptions;
}

export interface InitiateOptions {
  /** Receives the terminal event as a signed webhook. */
  callbackUrl?: string;
  /** The same key and body within 24 h return the same job. Default: a fresh key, so that one retry after a network failure cannot start the job twice. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface JobOptions {
  /** The job's access token, when this client did not start the job itself (e.g. handed over by a back end). */
  accessToken?: string;
  signal?: AbortSignal;
}

export type SubscribeOptions = FollowOptions & Pick<JobOptions, 'accessToken'> & {
  /** Called once when following stops for good before the job ended (unknown job, refused credentials). */
  onError?: (error: Error) => void;
};

/** The answer of `result`: the result document once the job has ended, else where it stands. */
export type JobResult = ({ ended: true } & ResultDocument) | ({ ended: false; retryAfter: number | null } & PendingResultDocument);

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function jobPath(jobId: string): string {
  if (!JOB_ID.test(jobId)) throw new TypeError(`Not a job id: ${jobId}`);
  return jobId.toLowerCase();
}

export class DownloadsClient {
  private readonly http: Http;
  private readonly apiKey: string | undefined;
  /** Timings of live following (defaults merged with the options'). */
  readonly timings: FollowTimings;
  private readonly hubOptions: HubOptions | undefined;
  /** One shared hub connection per transport choice, for every job followed (`auto`: as negotiated). */
  private readonly hubShares = new Map<string, HubShare>();
  /** Access tokens of the jobs this client started (or was told about). */
  private readonly tokens = new Map<string, string>();

  constructor(options: DownloadsClientOptions) {
    this.http = new Http(options.baseUrl, options.fetch);
    this.apiKey = options.apiKey || undefined;
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings };
    this.hubOptions = options.hubOptions;
  }

  /** Remembers a job's access token (from a back end's initiate answer), used for every later call on that job. */
  useAccessToken(jobId: string, accessToken: string): void {
    this.tokens.set(jobPath(jobId), accessToken);
  }

  /** `POST /v1/download/initiate`: 1 to 1000 distinct file ids from 10000 to 100000000. */
  async initiate(fileIds: readonly number[], options: InitiateOptions = {}): Promise<InitiateResponse> {
    const body = JSON.stringify(options.callbackUrl ? { file_ids: fileIds, callback_url: options.callbackUrl } : { file_ids: fileIds });
    const init: RequestInit = {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': options.idempotencyKey ?? newIdempotencyKey() },
      body,
      signal: options.signal,
    };
    try {
      return this.remember(await this.http.json<InitiateResponse>('/v1/download/initiate', this.credentials(), init));
    } catch (error) {
      // A network failure (not an answer): once more with the same key, which cannot start the job twice.
      if (error instanceof ApiError || options.signal?.aborted) throw error;
      return this.remember(await this.http.json<InitiateResponse>('/v1/download/initiate', this.credentials(), init));
    }
  }

  status(jobId: string, options: JobOptions = {}): Promise<StatusDocument> {
    const id = jobPath(jobId);
    return this.http.json<StatusDocument>(`/v1/download/status/${id}`, this.credentials(id, options), { signal: options.signal });
  }

  /** The result document when the job has ended (`ended: true`), else its progress and the suggested wait. */
  async result(jobId: string, options: JobOptions = {}): Promise<JobResult> {
    const id = jobPath(jobId);
    const response = await this.http.send(`/v1/download/result/${id}`, this.credentials(id, options), { signal: options.signal });
    if (response.status === 202) {
      const retryAfter = Number(response.headers.get('Retry-After'));
      return { ended: false, retryAfter: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null, ...((await response.json()) as PendingResultDocument) };
    }
    return { ended: true, ...((await response.json()) as ResultDocument) };
  }

  cancel(jobId: string, options: JobOptions = {}): Promise<StatusDocument> {
    return this.act(jobId, '', 'DELETE', options);
  }

  pause(jobId: string, options: JobOptions = {}): Promise<StatusDocument> {
    return this.act(jobId, '/pause', 'POST', options);
  }

  resume(jobId: string, options: JobOptions = {}): Promise<StatusDocument> {
    return this.act(jobId, '/resume', 'POST', options);
  }

  /** A new job for the ended job's failed files (all of them, or `fileIds`); answered like an initiate, with `retry_of`. */
  async retry(jobId: string, fileIds?: readonly number[], options: JobOptions = {}): Promise<InitiateResponse> {
    const id = jobPath(jobId);
    const init: RequestInit = { method: 'POST', signal: options.signal };
    if (fileIds) {
      init.headers = { 'Content-Type': 'application/json' };
      init.body = JSON.stringify({ file_ids: fileIds });
    }
    return this.remember(await this.http.json<InitiateResponse>(`/v1/download/${id}/retry`, this.credentials(id, options), init));
  }

  /**
   * The job's events in order, from a first `snapshot` to the event whose status is terminal, then the iteration
   * ends. Nothing twice, nothing out of order: after a gap or a reconnect that could not be replayed comes a
   * `snapshot` of the whole state. Throws ApiError when the job is unknown (404) or the credentials are refused.
   */
  follow(jobId: string, options: FollowOptions & Pick<JobOptions, 'accessToken'> = {}): AsyncIterable<JobEvent> {
    const id = jobPath(jobId);
    return iterate((sink, signal) => this.follower(id, { ...options, signal: anySignal(signal, options.signal) }, options.accessToken, sink));
  }

  /**
   * Calls `onUpdate` with the job's state after every event (and the event), until the job ends or the returned
   * function is called.
   */
  subscribe(jobId: string, onUpdate: (state: JobState, event: JobEvent) => void, options: SubscribeOptions = {}): () => void {
    const id = jobPath(jobId);
    const abort = new AbortController();
    let state = initialJobState(id);
    const follower = this.follower(id, { ...options, signal: anySignal(abort.signal, options.signal) }, options.accessToken, (event, transport) => {
      state = { ...applyEvent(state, event), transport };
      onUpdate(state, event);
    });
    follower.run().catch((error: unknown) => {
      if (!abort.signal.aborted) options.onError?.(error instanceof Error ? error : new Error(String(error)));
    });
    return () => abort.abort();
  }

  /**
   * One connection to the general hub (`/ws/download`) on which many jobs can be followed (`Subscribe`,
   * `SubscribeFrom`); it reconnects by itself for about a minute. With an API key the key opens it, else
   * `accessTokenFactory` (a followed job's access token, where the service requires one).
   */
  connectHub(options: { transport?: HubTransportName | null; accessTokenFactory?: () => string | undefined } = {}): HubLike {
    const apiKey = this.apiKey;
    return connectSharedHub({
      url: this.http.url('/ws/download'),
      transport: options.transport,
      accessTokenFactory: apiKey ? () => apiKey : options.accessTokenFactory,
      hubOptions: this.hubOptions,
    });
  }

  /** Follows the job to its end; resolves to the last event (whose status says how it ended). */
  async waitForCompletion(jobId: string, options: FollowOptions & Pick<JobOptions, 'accessToken'> = {}): Promise<JobEvent> {
    let last: JobEvent | undefined;
    for await (const event of this.follow(jobId, options)) last = event;
    if (!last) throw new Error(`Stopped following job ${jobId} before it ended.`);
    return last;
  }

  private follower(jobId: string, options: FollowOptions, accessToken: string | undefined, sink: ConstructorParameters<typeof Follower>[3]): Follower {
    const context: FollowContext = {
      http: this.http,
      credentials: this.credentials(jobId, { accessToken }),
      timings: this.timings,
      hubOptions: this.hubOptions,
      hubShare: (transport) => this.hubShare(transport),
    };
    return new Follower(context, jobId, options, sink);
  }

  private hubShare(transport: HubTransportName | null): HubShare {
    const key = transport ?? 'auto';
    let share = this.hubShares.get(key);
    if (!share) {
      share = new HubShare((accessTokenFactory) => this.connectHub({ transport, accessTokenFactory }));
      this.hubShares.set(key, share);
    }
    return share;
  }

  private act(jobId: string, suffix: string, method: string, options: JobOptions): Promise<StatusDocument> {
    const id = jobPath(jobId);
    return this.http.json<StatusDocument>(`/v1/download/${id}${suffix}`, this.credentials(id, options), { method, signal: options.signal });
  }

  private remember(answer: InitiateResponse): InitiateResponse {
    if (answer.access_token) this.tokens.set(answer.job_id.toLowerCase(), answer.access_token);
    return answer;
  }

  private credentials(jobId?: string, options: Pick<JobOptions, 'accessToken'> = {}): Credentials {
    const accessToken = options.accessToken ?? (jobId ? this.tokens.get(jobId) : undefined);
    return { apiKey: this.apiKey, accessToken };
  }
}

/** A signal that aborts when any of the given ones does. */
function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  return present.length === 1 ? present[0] : AbortSignal.any(present);
}
