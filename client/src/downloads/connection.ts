// The downloads client: one shared hub connection for every tracked job, REST
// polling while the hub is unavailable, and the jobs kept in localStorage.
// Framework-agnostic; React reads it through useSyncExternalStore.
import { ApiError, createApi, describeError, statusUrlFor, toLocalUrl, type DownloadsApi } from './api';
import { parseTransportName, type HubLike, type TransportName } from './hub';
import {
  applyEvent,
  applyStatusDocument,
  createJobState,
  isEnded,
  isFollowed,
  markLost,
  markResyncRequested,
  needsResync,
  type JobState,
} from './jobState';
import { isJobId, loadTrackedJobs, parseTrackedJobs, saveTrackedJobs, STORAGE_KEY, type StorageLike, type TrackedJob } from './persistence';
import type { InitiateResponse, JobEvent, StatusDocument } from './types';

/**
 * idle: not started. connecting: first hub start in progress. push: events arrive over the hub.
 * reconnecting: the hub is reconnecting (jobs are polled meanwhile). polling: the hub could not
 * connect; jobs are polled and the hub is retried in the background. off: the hub is disabled.
 */
export type ConnectionMode = 'idle' | 'connecting' | 'push' | 'reconnecting' | 'polling' | 'off';

export const POLLING_LABEL = 'polling (fallback)';

export interface DownloadsSnapshot {
  /** Newest first. */
  jobs: readonly JobState[];
  mode: ConnectionMode;
  /** WebSockets / ServerSentEvents / LongPolling / polling (fallback) / connecting… */
  transport: string;
}

export interface DownloadsClientOptions {
  api?: DownloadsApi;
  storage?: StorageLike | null;
  /** Makes the hub connection; null disables SignalR (pure polling). */
  createHub?: (() => HubLike) | null;
  now?: () => number;
  random?: () => number;
  /** Polling period while the hub is not connected. */
  pollIntervalMs?: number;
  /** Slow safety check while connected, in case a terminal event was lost. 0 disables it. */
  safetyPollMs?: number;
  /** How long an event past a gap is held before a re-sync. */
  gapHoldMs?: number;
  /** Backoff between attempts to (re)start the hub after it failed or closed. */
  restartDelaysMs?: readonly number[];
  /** Called once when a job that was seen running ends. */
  onJobEnded?: (job: JobState) => void;
}

type Timer = ReturnType<typeof setTimeout>;

export class DownloadsClient {
  private readonly api: DownloadsApi;
  private readonly storage: StorageLike | null;
  private readonly createHub: (() => HubLike) | null;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly pollIntervalMs: number;
  private readonly safetyPollMs: number;
  private readonly gapHoldMs: number;
  private readonly restartDelaysMs: readonly number[];
  private readonly onJobEnded?: (job: JobState) => void;

  private readonly jobs = new Map<string, JobState>();
  private readonly listeners = new Set<() => void>();
  private readonly gapTimers = new Map<string, Timer>();
  private readonly resyncCounts = new Map<string, number>();
  private readonly startedHere = new Set<string>();
  private snapshot: DownloadsSnapshot;
  private mode: ConnectionMode = 'idle';
  private hub: HubLike | null = null;
  private pollTimer: Timer | null = null;
  private pollTimerDelay = 0;
  private polling = false;
  private restartTimer: Timer | null = null;
  private restartAttempt = 0;
  private disposed = false;

  constructor(options: DownloadsClientOptions = {}) {
    this.api = options.api ?? createApi();
    this.storage = options.storage === undefined ? defaultStorage() : options.storage;
    this.createHub = options.createHub ?? null;
    this.now = options.now ?? (() => Date.now());
    this.random = options.random ?? Math.random;
    this.pollIntervalMs = options.pollIntervalMs ?? 2000;
    this.safetyPollMs = options.safetyPollMs ?? 15_000;
    this.gapHoldMs = options.gapHoldMs ?? 1000;
    this.restartDelaysMs = options.restartDelaysMs?.length ? options.restartDelaysMs : [1000, 2000, 5000, 10_000, 20_000, 30_000];
    this.onJobEnded = options.onJobEnded;
    this.snapshot = { jobs: [], mode: this.mode, transport: this.transportLabel() };
  }

  /** A token of a followed job, for the hub connection itself (where the service requires API keys it needs one). */
  connectionAccessToken = (): string | undefined => {
    for (const job of this.jobs.values()) if (job.accessToken && isFollowed(job)) return job.accessToken;
    return undefined;
  };

  // ---- store interface -------------------------------------------------------------------

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): DownloadsSnapshot => this.snapshot;

  getJob(jobId: string): JobState | undefined {
    return this.jobs.get(jobId);
  }

  get connectionMode(): ConnectionMode {
    return this.mode;
  }

  // ---- lifecycle -------------------------------------------------------------------------

  /** Picks up the stored jobs and connects (or starts polling). */
  start(): void {
    if (this.mode !== 'idle' || this.disposed) return;
    for (const entry of loadTrackedJobs(this.storage)) this.track(entry, false);
    if (this.createHub) {
      this.setMode('connecting');
      void this.startHub();
    } else {
      this.setMode('off');
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.clearPollTimer();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    for (const timer of this.gapTimers.values()) clearTimeout(timer);
    this.gapTimers.clear();
    this.listeners.clear();
    const hub = this.hub;
    this.hub = null;
    if (hub) await hub.stop().catch(() => undefined);
  }

  /** Adopts the job list another tab wrote (the `storage` event). */
  handleStorageChange(raw: string | null): void {
    const entries = parseTrackedJobs(raw);
    const ids = new Set(entries.map((e) => e.job_id));
    for (const entry of entries) this.track(entry, false);
    let removed = false;
    for (const id of [...this.jobs.keys()]) {
      if (!ids.has(id)) {
        this.forget(id);
        removed = true;
      }
    }
    if (removed) this.emit();
  }

  // ---- actions ---------------------------------------------------------------------------

  /** Starts a job; throws ApiError (problem details) when the service refuses it. */
  async startJob(fileIds: number[], callbackUrl?: string): Promise<JobState> {
    return this.trackStarted(await this.api.initiate(fileIds, callbackUrl));
  }

  /** Starts a new job of the failed files of an ended one; the ended job stays in the list as it was. */
  async retryFailed(jobId: string): Promise<JobState | null> {
    if (!this.jobs.has(jobId)) return null;
    this.commit(jobId, (job) => ({ ...job, busy: 'retry', error: null }));
    try {
      const started = this.trackStarted(await this.api.retry(jobId, undefined, this.jobs.get(jobId)?.accessToken));
      this.commit(jobId, (job) => ({ ...job, busy: null }));
      return started;
    } catch (error) {
      const message = describeError(error).join(' ');
      this.commit(jobId, (job) => ({ ...job, busy: null, error: message }));
      return null;
    }
  }

  /**
   * Follows a job started elsewhere: a back end that holds the API key starts it and hands the page its id and
   * access token (see `handoverFromUrl`). Remembered with its token like a job started here.
   */
  adopt(jobId: string, accessToken?: string | null): JobState | null {
    if (!isJobId(jobId)) return null;
    const id = jobId.toLowerCase();
    this.track({ job_id: id, status_url: statusUrlFor(id), added_at: this.now(), ...(accessToken ? { access_token: accessToken } : {}) }, true);
    return this.jobs.get(id) ?? null;
  }

  private trackStarted(response: InitiateResponse): JobState {
    const jobId = response.job_id.toLowerCase();
    this.startedHere.add(jobId);
    this.track(
      {
        job_id: jobId,
        status_url: toLocalUrl(response.status_url),
        added_at: this.now(),
        ...(response.access_token ? { access_token: response.access_token } : {}),
      },
      true,
      { status: response.status, total: response.total_files },
    );
    return this.jobs.get(jobId)!;
  }

  cancel(jobId: string): Promise<void> {
    return this.runAction(jobId, 'cancel', () => this.api.cancel(jobId, this.jobs.get(jobId)?.accessToken));
  }

  pause(jobId: string): Promise<void> {
    return this.runAction(jobId, 'pause', () => this.api.pause(jobId, this.jobs.get(jobId)?.accessToken));
  }

  resume(jobId: string): Promise<void> {
    return this.runAction(jobId, 'resume', () => this.api.resume(jobId, this.jobs.get(jobId)?.accessToken));
  }

  /** Removes a job from the list (and from every tab). */
  dismiss(jobId: string): void {
    if (!this.jobs.has(jobId)) return;
    const followed = isFollowed(this.jobs.get(jobId)!);
    this.forget(jobId);
    if (followed) this.unsubscribeHub(jobId);
    this.persist((list) => list.filter((e) => e.job_id !== jobId));
    this.emit();
  }

  // ---- tracking --------------------------------------------------------------------------

  private track(entry: TrackedJob, persist: boolean, initial?: Pick<JobState, 'status' | 'total'>): void {
    if (this.jobs.has(entry.job_id) || this.disposed) return;
    this.jobs.set(
      entry.job_id,
      createJobState({
        jobId: entry.job_id,
        statusUrl: entry.status_url,
        addedAt: entry.added_at,
        accessToken: entry.access_token ?? null,
        ...initial,
      }),
    );
    if (persist) this.persist((list) => [entry, ...list.filter((e) => e.job_id !== entry.job_id)]);
    this.emit();
    void this.refresh(entry.job_id, null);
    if (this.hub?.connected && this.mode === 'push') void this.subscribeHub(entry.job_id);
    this.schedulePoll();
  }

  private forget(jobId: string): void {
    this.jobs.delete(jobId);
    this.resyncCounts.delete(jobId);
    this.startedHere.delete(jobId);
    const timer = this.gapTimers.get(jobId);
    if (timer) clearTimeout(timer);
    this.gapTimers.delete(jobId);
  }

  private persist(change: (list: TrackedJob[]) => TrackedJob[]): void {
    // Read-modify-write so that jobs another tab added in the meantime are kept.
    saveTrackedJobs(this.storage, change(loadTrackedJobs(this.storage)));
  }

  /** Applies `update` to a job and reacts to what changed. */
  private commit(jobId: string, update: (job: JobState) => JobState, endedByEvent = false): void {
    const before = this.jobs.get(jobId);
    if (!before) return;
    const after = update(before);
    if (after === before) return;
    this.jobs.set(jobId, after);
    if (!isEnded(before) && isEnded(after)) this.onEnded(before, after, endedByEvent);
    this.scheduleGapCheck(after);
    this.emit();
  }

  private onEnded(before: JobState, after: JobState, endedByEvent: boolean): void {
    const timer = this.gapTimers.get(after.jobId);
    if (timer) clearTimeout(timer);
    this.gapTimers.delete(after.jobId);
    this.unsubscribeHub(after.jobId);
    // Events carry no timestamps nor expiry: read them once from the status document.
    if (endedByEvent && !after.lost) void this.refresh(after.jobId, null);
    // Only a job started or seen running here is announced, not one loaded already finished.
    if ((before.seq > 0 || this.startedHere.has(after.jobId)) && !after.lost) this.onJobEnded?.(after);
  }

  private async runAction(jobId: string, action: NonNullable<JobState['busy']>, call: () => Promise<StatusDocument>): Promise<void> {
    if (!this.jobs.has(jobId)) return;
    this.commit(jobId, (job) => ({ ...job, busy: action, error: null }));
    try {
      const doc = await call();
      this.commit(jobId, (job) => ({ ...applyStatusDocument(job, doc, this.now()), busy: null }));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        this.commit(jobId, (job) => markLost(job, 'This job no longer exists on the server.'));
      } else {
        const message = describeError(error).join(' ');
        this.commit(jobId, (job) => ({ ...job, busy: null, error: message }));
      }
    }
  }

  /** GETs the status document. `label` marks the job's transport when this is the fallback polling. */
  private async refresh(jobId: string, label: string | null): Promise<void> {
    const job = this.jobs.get(jobId);
    if (!job || job.lost) return;
    try {
      const doc = await this.api.getStatus(job.statusUrl, job.accessToken);
      this.commit(jobId, (j) => {
        const loadFailedBefore = j.seq === 0 && j.error !== null;
        let next = applyStatusDocument(j, doc, this.now());
        if (label && next.transport !== label) next = { ...next, transport: label };
        return loadFailedBefore && next !== j ? { ...next, error: null } : next;
      });
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        this.commit(jobId, (j) => markLost(j, 'This job no longer exists on the server.'));
      } else if (job.seq === 0) {
        const message = `Could not load the job: ${describeError(error).join(' ')}`;
        this.commit(jobId, (j) => (j.seq === 0 && j.error !== message ? { ...j, error: message } : j));
      }
    }
  }

  // ---- hub -------------------------------------------------------------------------------

  private async startHub(): Promise<void> {
    this.restartTimer = null;
    if (this.disposed || !this.createHub) return;
    if (!this.hub) {
      const hub = this.createHub();
      this.hub = hub;
      hub.onUpdate((event) => this.onHubEvent(event));
      hub.onReconnecting(() => this.setMode('reconnecting'));
      hub.onReconnected(() => this.onHubConnected());
      hub.onClose(() => {
        if (this.disposed) return;
        this.setMode('polling');
        this.scheduleRestart();
      });
    }
    try {
      await this.hub.start();
    } catch {
      if (this.disposed) return;
      this.setMode('polling');
      this.scheduleRestart();
      return;
    }
    this.onHubConnected();
  }

  private onHubConnected(): void {
    if (this.disposed) return;
    this.restartAttempt = 0;
    this.setMode('push');
    // Subscriptions do not survive a new connection: subscribe again, each job from the seq it has.
    for (const job of this.jobs.values()) if (isFollowed(job)) void this.subscribeHub(job.jobId);
  }

  private scheduleRestart(): void {
    if (this.disposed || !this.createHub) return;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const base = this.restartDelaysMs[Math.min(this.restartAttempt, this.restartDelaysMs.length - 1)];
    this.restartAttempt++;
    const delay = Math.round(base * (0.8 + 0.4 * this.random()));
    this.restartTimer = setTimeout(() => void this.startHub(), delay);
  }

  private async subscribeHub(jobId: string): Promise<void> {
    const hub = this.hub;
    if (!hub) return;
    // A job known here resumes after its seq: the hub replays the events missed (after a reconnect, or over a
    // gap) while it still holds them, else sends a snapshot. A job not known yet starts from a snapshot.
    const seq = this.jobs.get(jobId)?.seq ?? 0;
    try {
      // A job handed over with an access token subscribes with it (the service may require it).
      const token = this.jobs.get(jobId)?.accessToken;
      const answer = token
        ? seq > 0
          ? await hub.invoke('SubscribeFromWithToken', jobId, seq, token)
          : await hub.invoke('SubscribeWithToken', jobId, token)
        : seq > 0
          ? await hub.invoke('SubscribeFrom', jobId, seq)
          : await hub.invoke('Subscribe', jobId);
      // The snapshot comes as an `update`; a server may also return it from the call.
      if (answer && typeof answer === 'object' && 'seq' in answer && 'job_id' in answer) {
        if ('progress' in answer) this.commit(jobId, (j) => applyStatusDocument(j, answer as StatusDocument, this.now()));
        else if ('type' in answer) this.onHubEvent(answer as JobEvent);
      }
    } catch {
      // Unknown job or a dropped connection: the status document tells which.
      await this.refresh(jobId, null);
    }
  }

  private unsubscribeHub(jobId: string): void {
    if (this.hub?.connected && this.mode === 'push') this.hub.invoke('Unsubscribe', jobId).catch(() => undefined);
  }

  private onHubEvent(event: JobEvent): void {
    if (!event || typeof event.job_id !== 'string') return;
    const jobId = event.job_id.toLowerCase();
    const label = this.hub?.transport() ?? 'SignalR';
    this.commit(
      jobId,
      (job) => {
        const next = applyEvent(job, { ...event, job_id: jobId }, this.now());
        return next.transport === label ? next : { ...next, transport: label };
      },
      true,
    );
  }

  // ---- gaps ------------------------------------------------------------------------------

  private scheduleGapCheck(job: JobState): void {
    const existing = this.gapTimers.get(job.jobId);
    if (!job.pending.length || !isFollowed(job)) {
      if (existing) clearTimeout(existing);
      this.gapTimers.delete(job.jobId);
      return;
    }
    if (existing || job.gapSince === null) return;
    const wait = Math.max(0, job.gapSince + this.gapHoldMs - this.now());
    this.gapTimers.set(
      job.jobId,
      setTimeout(() => {
        this.gapTimers.delete(job.jobId);
        this.checkGap(job.jobId);
      }, wait),
    );
  }

  private checkGap(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (!job) return;
    if (!needsResync(job, this.now(), this.gapHoldMs)) {
      this.scheduleGapCheck(job);
      return;
    }
    this.commit(jobId, (j) => markResyncRequested(j, this.now()));
    // Alternate between a hub snapshot and the status document, should one not help.
    const count = this.resyncCounts.get(jobId) ?? 0;
    this.resyncCounts.set(jobId, count + 1);
    if (count % 2 === 0 && this.hub?.connected && this.mode === 'push') void this.subscribeHub(jobId);
    else void this.refresh(jobId, null);
  }

  // ---- polling ---------------------------------------------------------------------------

  private setMode(mode: ConnectionMode): void {
    if (this.disposed) return;
    if (this.mode !== mode) {
      this.mode = mode;
      this.emit();
    }
    this.schedulePoll(true);
  }

  private pollDelay(): number {
    if (this.mode === 'idle') return 0;
    return this.mode === 'push' ? this.safetyPollMs : this.pollIntervalMs;
  }

  private clearPollTimer(): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  /** Keeps one poll timer running while some job is followed; `reset` re-times it after a mode change. */
  private schedulePoll(reset = false): void {
    if (this.disposed) return;
    const delay = this.pollDelay();
    const wanted = delay > 0 && [...this.jobs.values()].some(isFollowed);
    if (!wanted) {
      this.clearPollTimer();
      return;
    }
    if (this.pollTimer && !(reset && this.pollTimerDelay !== delay)) return;
    if (this.polling && !this.pollTimer) return; // the running poll re-arms itself
    this.clearPollTimer();
    this.pollTimerDelay = delay;
    this.pollTimer = setTimeout(() => void this.pollOnce(), delay);
  }

  private async pollOnce(): Promise<void> {
    this.pollTimer = null;
    if (this.disposed) return;
    this.polling = true;
    const fallback = this.mode === 'polling' || this.mode === 'off' || this.mode === 'reconnecting';
    const followed = [...this.jobs.values()].filter(isFollowed).map((j) => j.jobId);
    try {
      await Promise.all(followed.map((id) => this.refresh(id, fallback ? POLLING_LABEL : null)));
    } finally {
      this.polling = false;
      this.schedulePoll();
    }
  }

  // ---- snapshot --------------------------------------------------------------------------

  private transportLabel(): string {
    switch (this.mode) {
      case 'push':
        return this.hub?.transport() ?? 'SignalR';
      case 'polling':
      case 'off':
      case 'reconnecting':
        return POLLING_LABEL;
      case 'connecting':
        return 'connecting…';
      default:
        return '—';
    }
  }

  private emit(): void {
    const jobs = [...this.jobs.values()].sort((a, b) => b.addedAt - a.addedAt || a.jobId.localeCompare(b.jobId));
    this.snapshot = { jobs, mode: this.mode, transport: this.transportLabel() };
    for (const listener of [...this.listeners]) listener();
  }
}

function defaultStorage(): StorageLike | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

export function transportFromUrl(search: string): { transport: TransportName | null; hubOff: boolean } {
  const params = new URLSearchParams(search);
  return { transport: parseTransportName(params.get('transport')), hubOff: params.get('hub') === 'off' };
}

/**
 * A job handed to the page in its URL's fragment, `#job={job_id}&access_token={token}`: a fragment never reaches a
 * server, its logs or a Referer. Null when the fragment holds no job id.
 */
export function handoverFromUrl(hash: string): { jobId: string; accessToken: string | null } | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const jobId = params.get('job');
  return isJobId(jobId) ? { jobId: jobId.toLowerCase(), accessToken: params.get('access_token') || null } : null;
}

export { STORAGE_KEY };
