// Many jobs followed at once over ONE hub connection (the general hub `/ws/download`: `Subscribe`, and after a
// reconnect or over a gap `SubscribeFrom(job_id, seq)`), REST polling while the hub cannot be reached, and the
// list kept in storage (localStorage in browsers) so that a reload, or another tab, picks the jobs up.
// Framework-agnostic: React reads it through useSyncExternalStore (react.ts). Listeners hear of changes at
// most once per animation frame, however many events arrive.
import type { DownloadsClient, InitiateOptions } from './client.js';
import type { FollowTimings } from './follow.js';
import { ApiError } from './http.js';
import { subscribeJob, type HubLike, type HubTransportName } from './hub.js';
import type { TransportName } from './jobState.js';
import {
  applyDocument,
  createTrackedJob,
  isEnded,
  isFollowed,
  markLost,
  markResyncRequested,
  receiveEvent,
  type JobAction,
  type TrackedJob,
} from './trackedJob.js';
import { gapExpired } from './sequence.js';
import { DEFAULT_STORAGE_KEY, defaultStorage, isJobId, loadStoredJobs, parseStoredJobs, saveStoredJobs, type StorageLike, type StoredJob } from './storage.js';
import type { InitiateResponse, JobEvent, StatusDocument } from './types.js';

/**
 * idle: not open. connecting: the first hub start is under way. push: events arrive over the hub. reconnecting: the
 * hub reconnects (jobs are polled meanwhile). polling: the hub could not connect; jobs are polled and the hub is
 * retried in the background. off: no hub (polling only).
 */
export type ConnectionMode = 'idle' | 'connecting' | 'push' | 'reconnecting' | 'polling' | 'off';

/** `auto`: the hub as negotiated; a transport's name: only that one; `off`: never the hub, polling only; or a hub to use. */
export type HubChoice = 'auto' | HubTransportName | 'off' | (() => HubLike);

export interface TrackerSnapshot {
  /** Newest first. */
  jobs: readonly TrackedJob[];
  mode: ConnectionMode;
  /** How updates reach the tracker now: a hub transport, `Polling`, or null while connecting. */
  transport: TransportName | null;
}

export interface TrackerOptions {
  /** Default: `localStorage` where there is one; null keeps nothing. */
  storage?: StorageLike | null;
  storageKey?: string;
  /** Called with a function that tells the listeners; default: once per animation frame. */
  schedule?: (flush: () => void) => void;
  hub?: HubChoice;
  /** Called once when a job that was seen running (or started here) ends. */
  onJobEnded?: (job: TrackedJob) => void;
  /** Default: the client's timings. `reconnectDelaysMs` spaces the restarts of a hub that gave up. */
  timings?: Partial<FollowTimings>;
  now?: () => number;
  random?: () => number;
}

type Timer = ReturnType<typeof setTimeout>;

const LOST = 'This job no longer exists on the service.';

export class DownloadTracker {
  private readonly storage: StorageLike | null;
  private readonly storageKey: string;
  private readonly schedule: (flush: () => void) => void;
  private readonly hubChoice: HubChoice;
  private readonly onJobEnded?: (job: TrackedJob) => void;
  private readonly timings: FollowTimings;
  private readonly now: () => number;
  private readonly random: () => number;

  private readonly jobs = new Map<string, TrackedJob>();
  private readonly tokens = new Map<string, string>();
  private readonly listeners = new Set<() => void>();
  private readonly gapTimers = new Map<string, Timer>();
  private readonly resyncCounts = new Map<string, number>();
  private readonly startedHere = new Set<string>();
  private snapshot: TrackerSnapshot = { jobs: [], mode: 'idle', transport: null };
  private mode: ConnectionMode = 'idle';
  private hub: HubLike | null = null;
  private pollTimer: Timer | null = null;
  private pollTimerDelay = 0;
  private polling = false;
  private restartTimer: Timer | null = null;
  private restartAttempt = 0;
  private flushPending = false;
  private closeTimer: Timer | null = null;
  /** Bumped by close(): work started before it must not touch what came after. */
  private generation = 0;
  private readonly onStorage = (e: StorageEvent) => {
    if (e.key === this.storageKey || e.key === null) this.handleStorageChange(e.key === null ? null : e.newValue);
  };

  constructor(
    private readonly client: DownloadsClient,
    options: TrackerOptions = {},
  ) {
    this.storage = options.storage === undefined ? defaultStorage() : options.storage;
    this.storageKey = options.storageKey ?? DEFAULT_STORAGE_KEY;
    this.schedule = options.schedule ?? perFrame;
    this.hubChoice = options.hub ?? 'auto';
    this.onJobEnded = options.onJobEnded;
    this.timings = { ...client.timings, ...options.timings };
    this.now = options.now ?? (() => Date.now());
    this.random = options.random ?? Math.random;
  }

  // ---- store interface ---------------------------------------------------------------------

  /** Jobs are followed while someone listens; the last listener leaving closes the tracker (a re-render's resubscribe does not). */
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.closeTimer = null;
    this.open();
    return () => {
      this.listeners.delete(listener);
      if (!this.listeners.size && !this.closeTimer) this.closeTimer = setTimeout(() => void this.close(), 0);
    };
  };

  getSnapshot = (): TrackerSnapshot => this.snapshot;

  getJob(jobId: string): TrackedJob | undefined {
    return this.jobs.get(jobId.toLowerCase());
  }

  /** A token of a followed job for the hub connection itself (a service with API keys asks one of browsers). */
  connectionAccessToken = (): string | undefined => {
    for (const job of this.jobs.values()) {
      const token = this.tokens.get(job.jobId);
      if (token && isFollowed(job)) return token;
    }
    return undefined;
  };

  // ---- lifecycle -----------------------------------------------------------------------------

  /** Picks up the stored jobs and connects (or polls). */
  open(): void {
    if (this.mode !== 'idle') return;
    if (this.storage && typeof window !== 'undefined' && this.storage === defaultStorage()) window.addEventListener('storage', this.onStorage);
    const useHub = this.hubChoice !== 'off';
    this.setMode(useHub ? 'connecting' : 'off');
    for (const entry of loadStoredJobs(this.storage, this.storageKey)) this.track(entry, false);
    if (useHub) void this.startHub();
  }

  /** Stops following (the list stays stored; open() picks it up again). */
  async close(): Promise<void> {
    this.closeTimer = null;
    this.generation++;
    if (typeof window !== 'undefined') window.removeEventListener('storage', this.onStorage);
    this.clearPollTimer();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    for (const timer of this.gapTimers.values()) clearTimeout(timer);
    this.gapTimers.clear();
    this.jobs.clear();
    this.resyncCounts.clear();
    this.mode = 'idle';
    const hub = this.hub;
    this.hub = null;
    if (hub) await hub.stop().catch(() => undefined);
  }

  /** Adopts the job list another tab wrote (the `storage` event). */
  handleStorageChange(raw: string | null): void {
    const entries = parseStoredJobs(raw);
    const ids = new Set(entries.map((e) => e.job_id));
    for (const entry of entries) this.track(entry, false);
    for (const id of [...this.jobs.keys()]) if (!ids.has(id)) this.forget(id);
    this.changed();
  }

  // ---- actions -------------------------------------------------------------------------------

  /** Starts a job and follows it; throws ApiError when the service refuses it. */
  async start(fileIds: readonly number[], options?: InitiateOptions): Promise<InitiateResponse> {
    return this.trackStarted(await this.client.initiate(fileIds, options));
  }

  /**
   * Follows a job started elsewhere (a back end that holds the API key hands the page its id and access token) and
   * keeps it, with its token, in storage like the jobs started here. Before open() it is only stored: open() picks
   * it up, its token in hand before the hub connects.
   */
  adopt(jobId: string, accessToken?: string): void {
    if (!isJobId(jobId)) throw new TypeError(`Not a job id: ${jobId}`);
    const entry: StoredJob = { job_id: jobId.toLowerCase(), added_at: this.now(), ...(accessToken ? { access_token: accessToken } : {}) };
    if (accessToken) this.tokens.set(entry.job_id, accessToken);
    this.persist((list) => [entry, ...list.filter((e) => e.job_id !== entry.job_id)]);
    this.track(entry, false);
  }

  /** A new job of an ended job's failed files (all, or `fileIds`), followed like the others; null when refused (see the job's actionError). */
  async retry(jobId: string, fileIds?: readonly number[]): Promise<InitiateResponse | null> {
    const id = jobId.toLowerCase();
    let answer: InitiateResponse | null = null;
    await this.act(id, 'retry', async () => {
      answer = this.trackStarted(await this.client.retry(id, fileIds, { accessToken: this.tokens.get(id) }));
    });
    return answer;
  }

  cancel(jobId: string): Promise<void> {
    return this.act(jobId.toLowerCase(), 'cancel', (id, accessToken) => this.client.cancel(id, { accessToken }));
  }

  pause(jobId: string): Promise<void> {
    return this.act(jobId.toLowerCase(), 'pause', (id, accessToken) => this.client.pause(id, { accessToken }));
  }

  resume(jobId: string): Promise<void> {
    return this.act(jobId.toLowerCase(), 'resume', (id, accessToken) => this.client.resume(id, { accessToken }));
  }

  /** Removes a job from the list, the storage and every tab. */
  dismiss(jobId: string): void {
    const id = jobId.toLowerCase();
    const job = this.jobs.get(id);
    if (!job) return;
    this.forget(id);
    if (isFollowed(job)) this.unsubscribeHub(id);
    this.persist((list) => list.filter((e) => e.job_id !== id));
    this.changed();
  }

  private trackStarted(answer: InitiateResponse): InitiateResponse {
    const jobId = answer.job_id.toLowerCase();
    this.startedHere.add(jobId);
    const entry: StoredJob = { job_id: jobId, added_at: this.now(), ...(answer.access_token ? { access_token: answer.access_token } : {}) };
    this.track(entry, true, answer.total_files);
    return answer;
  }

  private async act(jobId: string, action: JobAction, call: (jobId: string, accessToken: string | undefined) => Promise<StatusDocument | void>): Promise<void> {
    if (!this.jobs.has(jobId)) return;
    const generation = this.generation;
    this.commit(jobId, (job) => ({ ...job, busy: action, actionError: null }));
    try {
      const doc = await call(jobId, this.tokens.get(jobId));
      if (generation !== this.generation) return;
      this.commit(jobId, (job) => ({ ...(doc ? applyDocument(job, doc, this.now()) : job), busy: null }));
    } catch (error) {
      if (generation !== this.generation) return;
      if (error instanceof ApiError && error.status === 404) this.commit(jobId, (job) => markLost(job, new Error(LOST)));
      else this.commit(jobId, (job) => ({ ...job, busy: null, actionError: asError(error) }));
    }
  }

  // ---- tracking ------------------------------------------------------------------------------

  private track(entry: StoredJob, persist: boolean, total = 0): void {
    if (this.jobs.has(entry.job_id) || this.mode === 'idle') return;
    if (entry.access_token) this.tokens.set(entry.job_id, entry.access_token);
    this.jobs.set(entry.job_id, createTrackedJob(entry.job_id, entry.added_at, total));
    if (persist) this.persist((list) => [entry, ...list.filter((e) => e.job_id !== entry.job_id)]);
    this.changed();
    void this.refresh(entry.job_id, false);
    if (this.hub?.connected && this.mode === 'push') void this.subscribeHub(entry.job_id);
    this.schedulePoll();
  }

  private forget(jobId: string): void {
    this.jobs.delete(jobId);
    this.tokens.delete(jobId);
    this.resyncCounts.delete(jobId);
    this.startedHere.delete(jobId);
    const timer = this.gapTimers.get(jobId);
    if (timer) clearTimeout(timer);
    this.gapTimers.delete(jobId);
  }

  private persist(change: (list: StoredJob[]) => StoredJob[]): void {
    // Read-modify-write, so that jobs another tab added meanwhile are kept.
    saveStoredJobs(this.storage, this.storageKey, change(loadStoredJobs(this.storage, this.storageKey)));
  }

  /** Applies `update` to a job and reacts to what changed. */
  private commit(jobId: string, update: (job: TrackedJob) => TrackedJob, endedByEvent = false): void {
    const before = this.jobs.get(jobId);
    if (!before) return;
    const after = update(before);
    if (after === before) return;
    this.jobs.set(jobId, after);
    if (!isEnded(before) && isEnded(after)) this.onEnded(before, after, endedByEvent);
    this.scheduleGapCheck(after);
    this.changed();
  }

  private onEnded(before: TrackedJob, after: TrackedJob, endedByEvent: boolean): void {
    const timer = this.gapTimers.get(after.jobId);
    if (timer) clearTimeout(timer);
    this.gapTimers.delete(after.jobId);
    this.unsubscribeHub(after.jobId);
    // Events carry neither times nor expiry nor the archive: read them once from the status document.
    if (endedByEvent && !after.lost) void this.refresh(after.jobId, false);
    // Only a job started or seen running here is announced, not one loaded already ended.
    if ((before.seq > 0 || this.startedHere.has(after.jobId)) && !after.lost) this.onJobEnded?.(after);
  }

  /** GETs the status document; `fallback` marks the job's updates as coming from polling. */
  private async refresh(jobId: string, fallback: boolean): Promise<void> {
    const job = this.jobs.get(jobId);
    if (!job || job.lost) return;
    const generation = this.generation;
    try {
      const doc = await this.client.status(jobId, { accessToken: this.tokens.get(jobId) });
      if (generation !== this.generation) return;
      this.commit(jobId, (j) => {
        let next = applyDocument(j, doc, this.now());
        if (fallback && next.transport !== 'Polling') next = { ...next, transport: 'Polling' };
        // A first load that failed before is forgotten once one succeeds.
        return next.error && next !== j && !next.lost ? { ...next, error: null } : next;
      });
    } catch (error) {
      if (generation !== this.generation) return;
      if (error instanceof ApiError && error.status === 404) this.commit(jobId, (j) => markLost(j, new Error(LOST)));
      else if (job.seq === 0) this.commit(jobId, (j) => (j.seq === 0 ? { ...j, error: asError(error) } : j));
    }
  }

  // ---- hub -----------------------------------------------------------------------------------

  private createHub(): HubLike {
    const choice = this.hubChoice;
    if (typeof choice === 'function') return choice();
    return this.client.connectHub({ transport: choice === 'auto' || choice === 'off' ? null : choice, accessTokenFactory: this.connectionAccessToken });
  }

  private async startHub(): Promise<void> {
    this.restartTimer = null;
    if (this.mode === 'idle' || this.hubChoice === 'off') return;
    const generation = this.generation;
    if (!this.hub) {
      const hub = this.createHub();
      this.hub = hub;
      hub.onUpdate((event) => this.onHubEvent(event));
      hub.onReconnecting(() => this.setMode('reconnecting'));
      hub.onReconnected(() => this.onHubConnected());
      hub.onClose(() => {
        if (this.hub !== hub) return;
        this.setMode('polling');
        this.scheduleRestart();
      });
    }
    try {
      await this.hub.start();
    } catch {
      if (generation !== this.generation) return;
      this.setMode('polling');
      this.scheduleRestart();
      return;
    }
    if (generation === this.generation) this.onHubConnected();
  }

  private onHubConnected(): void {
    if (this.mode === 'idle') return;
    this.restartAttempt = 0;
    this.setMode('push');
    // Subscriptions do not survive a new connection: subscribe again, each job from the seq it has.
    for (const job of this.jobs.values()) if (isFollowed(job)) void this.subscribeHub(job.jobId);
  }

  private scheduleRestart(): void {
    if (this.mode === 'idle') return;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const delays = this.timings.reconnectDelaysMs;
    const base = delays[Math.min(this.restartAttempt, delays.length - 1)] ?? 1000;
    this.restartAttempt++;
    this.restartTimer = setTimeout(() => void this.startHub(), Math.round(base * (0.8 + 0.4 * this.random())));
  }

  private async subscribeHub(jobId: string): Promise<void> {
    const hub = this.hub;
    if (!hub) return;
    // A job known here resumes after its seq: the hub replays the events missed (after a reconnect, or over a gap)
    // while it still holds them, else sends a snapshot. A job not known yet starts from a snapshot.
    try {
      await subscribeJob(hub, jobId, this.jobs.get(jobId)?.seq ?? 0, this.tokens.get(jobId));
    } catch {
      // An unknown job or a dropped connection: the status document tells which.
      await this.refresh(jobId, false);
    }
  }

  private unsubscribeHub(jobId: string): void {
    if (this.hub?.connected && this.mode === 'push') this.hub.invoke('Unsubscribe', jobId).catch(() => undefined);
  }

  private onHubEvent(event: JobEvent): void {
    if (!event || typeof event.job_id !== 'string') return;
    const transport = this.hub?.transport() ?? null;
    this.commit(
      event.job_id.toLowerCase(),
      (job) => {
        const next = receiveEvent(job, event, this.now());
        return next === job || next.transport === transport ? next : { ...next, transport };
      },
      true,
    );
  }

  // ---- gaps ----------------------------------------------------------------------------------

  private scheduleGapCheck(job: TrackedJob): void {
    const existing = this.gapTimers.get(job.jobId);
    const gapSince = job.sequence.gapSince;
    if (gapSince === null || !isFollowed(job)) {
      if (existing) clearTimeout(existing);
      this.gapTimers.delete(job.jobId);
      return;
    }
    if (existing) return;
    const wait = Math.max(0, gapSince + this.timings.gapHoldMs - this.now());
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
    if (!gapExpired(job.sequence, this.now(), this.timings.gapHoldMs)) {
      this.scheduleGapCheck(job);
      return;
    }
    this.commit(jobId, (j) => markResyncRequested(j, this.now()));
    // Alternately the hub's replay and the status document, should one not help.
    const count = this.resyncCounts.get(jobId) ?? 0;
    this.resyncCounts.set(jobId, count + 1);
    if (count % 2 === 0 && this.hub?.connected && this.mode === 'push') void this.subscribeHub(jobId);
    else void this.refresh(jobId, false);
  }

  // ---- polling -------------------------------------------------------------------------------

  private setMode(mode: ConnectionMode): void {
    if (this.mode === 'idle' && mode !== 'connecting' && mode !== 'off') return;
    if (this.mode !== mode) {
      this.mode = mode;
      this.changed();
    }
    this.schedulePoll(true);
  }

  private pollDelay(): number {
    if (this.mode === 'idle' || this.mode === 'connecting') return 0;
    return this.mode === 'push' ? this.timings.safetyPollMs : this.timings.pollIntervalMs;
  }

  private clearPollTimer(): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  /** Keeps one poll timer running while some job is followed; `reset` re-times it after a mode change. */
  private schedulePoll(reset = false): void {
    const delay = this.pollDelay();
    if (delay <= 0 || ![...this.jobs.values()].some(isFollowed)) {
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
    this.polling = true;
    const fallback = this.mode !== 'push';
    const followed = [...this.jobs.values()].filter(isFollowed).map((j) => j.jobId);
    try {
      await Promise.all(followed.map((id) => this.refresh(id, fallback)));
    } finally {
      this.polling = false;
      this.schedulePoll();
    }
  }

  // ---- snapshot ------------------------------------------------------------------------------

  private transport(): TransportName | null {
    switch (this.mode) {
      case 'push':
        return this.hub?.transport() ?? null;
      case 'polling':
      case 'off':
      case 'reconnecting':
        return 'Polling';
      default:
        return null;
    }
  }

  // Many events may arrive within one frame: listeners hear of them once, with the list as it then is.
  private changed(): void {
    if (this.flushPending) return;
    this.flushPending = true;
    this.schedule(() => {
      this.flushPending = false;
      const jobs = [...this.jobs.values()].sort((a, b) => b.addedAt - a.addedAt || a.jobId.localeCompare(b.jobId));
      this.snapshot = { jobs, mode: this.mode, transport: this.transport() };
      for (const listener of [...this.listeners]) listener();
    });
  }
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** Once per animation frame in browsers, soon after elsewhere. */
export function perFrame(flush: () => void): void {
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => flush());
  else setTimeout(flush, 16);
}

export { DEFAULT_STORAGE_KEY };
