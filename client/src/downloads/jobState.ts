// Pure, framework-agnostic job state: applies status documents and pushed
// events strictly in `seq` order, holding events that arrive past a gap.
import {
  isTerminal,
  type FileResult,
  type JobEvent,
  type JobStatusValue,
  type StatusDocument,
  type WebhookState,
} from './types';

export interface ProgressSample {
  /** Local clock, ms. */
  t: number;
  percent: number;
}

export interface JobState {
  jobId: string;
  statusUrl: string;
  /** Local time the job was first tracked here; newest first in the list. */
  addedAt: number;
  status: JobStatusValue;
  /** Highest seq applied; 0 while nothing authoritative is known. */
  seq: number;
  createdAt: string | null;
  startedAt: string | null;
  completedAt: string | null;
  expiresAt: string | null;
  completed: number;
  failed: number;
  total: number;
  /** 0..100, never decreases. */
  percent: number;
  currentFile: number | null;
  results: FileResult[];
  webhook: WebhookState | null;
  /** One ZIP of the completed files (from the status document once the job has ended). */
  archiveUrl: string | null;
  /** The job whose failed files this one retries. */
  retryOf: string | null;
  /** Events received past a gap, ascending by seq, waiting for the missing ones. */
  pending: JobEvent[];
  /** When the current gap was first seen (or last re-synced); null without a gap. */
  gapSince: number | null;
  /** Recent progress samples for the ETA estimate. */
  samples: ProgressSample[];
  /** The job no longer exists on the server (404); it is not followed any more. */
  lost: boolean;
  /** Transport that last delivered state for this job. */
  transport: string | null;
  /** A REST action in flight. */
  busy: 'pause' | 'resume' | 'cancel' | 'retry' | null;
  /** Last action or load error to show on the card. */
  error: string | null;
  /** The job's access token (sent with actions and hub subscriptions); null when none was given. */
  accessToken: string | null;
}

export interface NewJob {
  jobId: string;
  statusUrl: string;
  addedAt: number;
  status?: JobStatusValue;
  total?: number;
  accessToken?: string | null;
}

const MAX_SAMPLES = 30;
const MAX_PENDING = 500;

export function createJobState(init: NewJob): JobState {
  return {
    jobId: init.jobId,
    statusUrl: init.statusUrl,
    accessToken: init.accessToken ?? null,
    addedAt: init.addedAt,
    status: init.status ?? 'queued',
    seq: 0,
    createdAt: null,
    startedAt: null,
    completedAt: null,
    expiresAt: null,
    completed: 0,
    failed: 0,
    total: init.total ?? 0,
    percent: 0,
    currentFile: null,
    results: [],
    webhook: null,
    archiveUrl: null,
    retryOf: null,
    pending: [],
    gapSince: null,
    samples: [],
    lost: false,
    transport: null,
    busy: null,
    error: null,
  };
}

/** Whether the job is still followed (pushed events or polling). */
export function isFollowed(state: JobState): boolean {
  return !state.lost && !isTerminal(state.status);
}

/** A job that has ended, one way or another: it can be dismissed. */
export function isEnded(state: JobState): boolean {
  return state.lost || isTerminal(state.status);
}

function clampPercent(value: unknown): number {
  const n = typeof value === 'number' && Number.isFinite(value) ? value : 0;
  return Math.min(100, Math.max(0, n));
}

function upsertFile(results: FileResult[], file: FileResult): FileResult[] {
  const index = results.findIndex((r) => r.file_id === file.file_id);
  if (index < 0) return [...results, { ...file }];
  const next = results.slice();
  next[index] = { ...results[index], ...file };
  return next;
}

function withSample(state: JobState, now: number): JobState {
  // A pause (or anything but processing) breaks the rate: start over.
  if (state.status !== 'processing') {
    return state.samples.length ? { ...state, samples: [] } : state;
  }
  const last = state.samples[state.samples.length - 1];
  if (last && last.percent === state.percent) return state;
  const samples = [...state.samples, { t: now, percent: state.percent }].slice(-MAX_SAMPLES);
  return { ...state, samples };
}

/** Applies the counters an event carries; the caller has checked its seq. */
function applyEventFields(state: JobState, event: JobEvent, now: number): JobState {
  let results = state.results;
  if (Array.isArray(event.results)) {
    results = event.results.map((r) => ({ ...r }));
  } else if (event.file) {
    results = upsertFile(results, event.file);
  }
  const next: JobState = {
    ...state,
    seq: event.seq,
    status: event.status,
    completed: event.completed,
    failed: event.failed,
    total: event.total,
    currentFile: event.current_file ?? null,
    percent: Math.max(state.percent, clampPercent(event.progress_percent)),
    results,
  };
  return withSample(next, now);
}

/** Drops held events the state has caught up with and applies those that are now next. */
function drain(state: JobState, now: number): JobState {
  if (!state.pending.length) return state.gapSince === null ? state : { ...state, gapSince: null };
  let current = state;
  let pending = state.pending.filter((e) => e.seq > current.seq);
  while (pending.length && pending[0].seq === current.seq + 1) {
    const [first, ...rest] = pending;
    current = applyEventFields(current, first, now);
    pending = rest;
  }
  return { ...current, pending, gapSince: pending.length ? current.gapSince : null };
}

function isFullState(event: JobEvent): boolean {
  // Snapshots and terminal events carry the whole `results` list.
  return event.type === 'snapshot' || (isTerminal(event.status) && Array.isArray(event.results));
}

/**
 * Applies one pushed event.
 * - seq <= current: duplicate or stale, dropped.
 * - snapshot (or terminal event with all results) with a higher seq: replaces the state.
 * - seq == current + 1: applied, then any held events that now follow.
 * - seq > current + 1: a gap; the event is held until the missing ones arrive or a re-sync.
 */
export function applyEvent(state: JobState, event: JobEvent, now: number): JobState {
  if (event.job_id !== state.jobId) return state;
  if (!Number.isFinite(event.seq) || event.seq <= state.seq) return state;

  if (isFullState(event)) {
    return drain(applyEventFields(state, event, now), now);
  }
  if (event.seq === state.seq + 1) {
    return drain(applyEventFields(state, event, now), now);
  }
  if (state.pending.some((e) => e.seq === event.seq)) return state;
  const pending = [...state.pending, event].sort((a, b) => a.seq - b.seq).slice(0, MAX_PENDING);
  return { ...state, pending, gapSince: state.gapSince ?? now };
}

/**
 * Applies a status document (initial load, polling, action answers). A document
 * with a seq at or above the current one replaces the state; an older one is ignored.
 */
export function applyStatusDocument(state: JobState, doc: StatusDocument, now: number): JobState {
  if (doc.job_id !== state.jobId) return state;
  if (!Number.isFinite(doc.seq) || doc.seq < state.seq) return state;
  const progress = doc.progress;
  const next: JobState = {
    ...state,
    seq: doc.seq,
    status: doc.status,
    createdAt: doc.created_at ?? null,
    startedAt: doc.started_at ?? null,
    completedAt: doc.completed_at ?? null,
    expiresAt: doc.expires_at ?? null,
    completed: progress?.completed ?? state.completed,
    failed: progress?.failed ?? state.failed,
    total: progress?.total ?? state.total,
    currentFile: progress?.current_file ?? null,
    percent: Math.max(state.percent, clampPercent(progress?.percent)),
    results: Array.isArray(doc.results) ? doc.results.map((r) => ({ ...r })) : state.results,
    webhook: doc.webhook ?? null,
    archiveUrl: doc.archive_url ?? null,
    retryOf: doc.retry_of ?? null,
    lost: false,
  };
  return drain(withSample(next, now), now);
}

/** True when a gap has stayed open for `holdMs`: time to fetch a fresh snapshot. */
export function needsResync(state: JobState, now: number, holdMs: number): boolean {
  return isFollowed(state) && state.pending.length > 0 && state.gapSince !== null && now - state.gapSince >= holdMs;
}

/** Restarts the gap timer after a re-sync was asked for, so that it is not asked again at once. */
export function markResyncRequested(state: JobState, now: number): JobState {
  return state.pending.length ? { ...state, gapSince: now } : state;
}

export function markLost(state: JobState, message: string): JobState {
  return { ...state, lost: true, pending: [], gapSince: null, busy: null, error: message };
}

/** Seconds left, from the progress rate seen while processing; null when unknown. */
export function estimateEtaSeconds(state: JobState, now: number): number | null {
  if (state.status !== 'processing' || state.samples.length < 2) return null;
  const first = state.samples[0];
  const last = state.samples[state.samples.length - 1];
  const gained = last.percent - first.percent;
  const elapsed = last.t - first.t;
  if (gained <= 0 || elapsed <= 0) return null;
  const remainingMs = ((100 - last.percent) * elapsed) / gained - Math.max(0, now - last.t);
  return Math.max(0, Math.round(remainingMs / 1000));
}

export interface JobActions {
  canPause: boolean;
  canResume: boolean;
  canCancel: boolean;
  canDismiss: boolean;
  /** Ended with failed files: they can be retried as a new job. */
  canRetry: boolean;
}

/** Which buttons a job's state allows (the server still has the last word: 409). */
export function jobActions(state: JobState): JobActions {
  const idle = !state.busy && !state.lost;
  return {
    canPause: idle && (state.status === 'queued' || state.status === 'processing'),
    canResume: idle && state.status === 'paused',
    canCancel: idle && (state.status === 'queued' || state.status === 'processing' || state.status === 'paused'),
    canDismiss: isEnded(state),
    canRetry: idle && isTerminal(state.status) && state.failed > 0,
  };
}
