// Many jobs followed at once, kept in storage (localStorage in browsers) so that a reload picks them up
// again. Framework-agnostic: React reads it through useSyncExternalStore (see react.ts).
import type { DownloadsClient, InitiateOptions } from './client.js';
import { initialJobState, type JobState } from './jobState.js';
import type { InitiateResponse } from './types.js';

export type StorageLike = Pick<Storage, 'getItem' | 'setItem'>;

export interface TrackedJob extends JobState {
  /** Local time the job was added here (ms); the list is newest first. */
  addedAt: number;
  /** A REST action of this job that failed (409, network…), else null. */
  actionError: Error | null;
}

export interface TrackerOptions {
  /** Default: `localStorage` where there is one; null keeps nothing. */
  storage?: StorageLike | null;
  storageKey?: string;
  /** Called with a function that applies the pending changes; default: once per animation frame. */
  schedule?: (flush: () => void) => void;
}

interface StoredJob {
  job_id: string;
  added_at: number;
  access_token?: string;
}

export const DEFAULT_STORAGE_KEY = 'downloads-client.jobs';
const MAX_STORED = 100;
const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class DownloadTracker {
  private readonly jobs = new Map<string, TrackedJob>();
  private readonly tokens = new Map<string, string>();
  private readonly unsubscribes = new Map<string, () => void>();
  private readonly listeners = new Set<() => void>();
  private readonly storage: StorageLike | null;
  private readonly storageKey: string;
  private readonly schedule: (flush: () => void) => void;
  private snapshot: readonly TrackedJob[] = [];
  private flushPending = false;
  private loaded = false;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly client: DownloadsClient,
    options: TrackerOptions = {},
  ) {
    this.storage = options.storage === undefined ? defaultStorage() : options.storage;
    this.storageKey = options.storageKey ?? DEFAULT_STORAGE_KEY;
    this.schedule = options.schedule ?? perFrame;
  }

  /** Jobs are followed while someone listens; the last listener leaving stops them (a re-render's resubscribe does not). */
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.load();
    return () => {
      this.listeners.delete(listener);
      if (!this.listeners.size && !this.idleTimer) this.idleTimer = setTimeout(() => this.dispose(), 0);
    };
  };

  getSnapshot = (): readonly TrackedJob[] => this.snapshot;

  /** Starts a job and follows it; throws ApiError when the service refuses it. */
  async start(fileIds: readonly number[], options?: InitiateOptions): Promise<InitiateResponse> {
    const answer = await this.client.initiate(fileIds, options);
    this.add(answer, Date.now());
    return answer;
  }

  /**
   * Follows a job started elsewhere (a back end that holds the API key hands the page its id and access token) and
   * keeps it, with its token, in storage like the jobs started here.
   */
  adopt(jobId: string, accessToken?: string): void {
    if (!JOB_ID.test(jobId)) throw new TypeError(`Not a job id: ${jobId}`);
    // The stored jobs first: saving before they are loaded would forget them.
    this.load();
    const id = jobId.toLowerCase();
    if (accessToken) this.tokens.set(id, accessToken);
    this.follow(id, Date.now(), 0);
    this.save();
  }

  /** A new job for the failed files of an ended one, followed like the others. */
  async retry(jobId: string, fileIds?: readonly number[]): Promise<InitiateResponse> {
    const answer = await this.client.retry(jobId, fileIds, { accessToken: this.tokens.get(jobId) });
    this.add(answer, Date.now());
    return answer;
  }

  cancel(jobId: string): Promise<void> {
    return this.act(jobId, (accessToken) => this.client.cancel(jobId, { accessToken }));
  }

  pause(jobId: string): Promise<void> {
    return this.act(jobId, (accessToken) => this.client.pause(jobId, { accessToken }));
  }

  resume(jobId: string): Promise<void> {
    return this.act(jobId, (accessToken) => this.client.resume(jobId, { accessToken }));
  }

  /** Stops following a job and removes it from the list and the storage. */
  dismiss(jobId: string): void {
    this.unsubscribes.get(jobId)?.();
    this.unsubscribes.delete(jobId);
    this.tokens.delete(jobId);
    if (this.jobs.delete(jobId)) {
      this.save();
      this.changed();
    }
  }

  /** Stops following every job (the list stays stored; a later subscriber loads it again). */
  dispose(): void {
    this.idleTimer = null;
    for (const unsubscribe of this.unsubscribes.values()) unsubscribe();
    this.unsubscribes.clear();
    this.jobs.clear();
    this.loaded = false;
  }

  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    for (const entry of readStored(this.storage, this.storageKey)) {
      if (entry.access_token) this.tokens.set(entry.job_id, entry.access_token);
      this.follow(entry.job_id, entry.added_at, 0);
    }
  }

  private add(answer: InitiateResponse, addedAt: number): void {
    const jobId = answer.job_id.toLowerCase();
    if (answer.access_token) this.tokens.set(jobId, answer.access_token);
    this.follow(jobId, addedAt, answer.total_files);
    this.save();
  }

  private follow(jobId: string, addedAt: number, total: number): void {
    if (this.jobs.has(jobId)) return;
    this.jobs.set(jobId, { ...initialJobState(jobId, total), addedAt, actionError: null });
    this.changed();
    const unsubscribe = this.client.subscribe(
      jobId,
      (state) => this.update(jobId, (job) => ({ ...job, ...state })),
      {
        accessToken: this.tokens.get(jobId),
        onError: (error) => this.update(jobId, (job) => ({ ...job, error })),
      },
    );
    this.unsubscribes.set(jobId, unsubscribe);
  }

  private async act(jobId: string, call: (accessToken: string | undefined) => Promise<unknown>): Promise<void> {
    this.update(jobId, (job) => ({ ...job, actionError: null }));
    try {
      await call(this.tokens.get(jobId));
    } catch (error) {
      this.update(jobId, (job) => ({ ...job, actionError: error instanceof Error ? error : new Error(String(error)) }));
    }
  }

  private update(jobId: string, change: (job: TrackedJob) => TrackedJob): void {
    const job = this.jobs.get(jobId);
    if (!job) return;
    this.jobs.set(jobId, change(job));
    this.changed();
  }

  private save(): void {
    if (!this.storage) return;
    const entries: StoredJob[] = [...this.jobs.values()]
      .sort((a, b) => b.addedAt - a.addedAt)
      .slice(0, MAX_STORED)
      .map((job) => {
        const token = this.tokens.get(job.jobId);
        return token ? { job_id: job.jobId, added_at: job.addedAt, access_token: token } : { job_id: job.jobId, added_at: job.addedAt };
      });
    try {
      this.storage.setItem(this.storageKey, JSON.stringify(entries));
    } catch {
      // Full or forbidden storage: the jobs are still followed, only not recovered after a reload.
    }
  }

  // Many events may arrive within one frame: listeners hear of them once.
  private changed(): void {
    if (this.flushPending) return;
    this.flushPending = true;
    this.schedule(() => {
      this.flushPending = false;
      this.snapshot = [...this.jobs.values()].sort((a, b) => b.addedAt - a.addedAt || a.jobId.localeCompare(b.jobId));
      for (const listener of [...this.listeners]) listener();
    });
  }
}

function readStored(storage: StorageLike | null, key: string): StoredJob[] {
  let data: unknown;
  try {
    data = JSON.parse(storage?.getItem(key) ?? '[]');
  } catch {
    return [];
  }
  if (!Array.isArray(data)) return [];
  return data
    .filter((e): e is StoredJob => !!e && typeof e === 'object' && typeof e.job_id === 'string' && JOB_ID.test(e.job_id))
    .map((e) => ({
      job_id: e.job_id.toLowerCase(),
      added_at: typeof e.added_at === 'number' ? e.added_at : 0,
      ...(typeof e.access_token === 'string' ? { access_token: e.access_token } : {}),
    }));
}

function defaultStorage(): StorageLike | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

/** Once per animation frame in browsers, soon after elsewhere. */
export function perFrame(flush: () => void): void {
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => flush());
  else setTimeout(flush, 16);
}
