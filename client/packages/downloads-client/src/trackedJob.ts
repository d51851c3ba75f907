// What the tracker knows of one job: the followed state (jobState.ts) plus what only status documents carry,
// the progress samples of the ETA, and the page's own view (busy action, lost job). Pure functions.
import { applyEvent, initialJobState, type JobState } from './jobState.js';
import { EMPTY_SEQUENCE, receive, resync, type Sequence, type Step } from './sequence.js';
import { isTerminal, type JobEvent, type StatusDocument, type WebhookState } from './types.js';

export interface ProgressSample {
  /** Local clock, ms. */
  t: number;
  percent: number;
}

export type JobAction = 'pause' | 'resume' | 'cancel' | 'retry';

export interface TrackedJob extends JobState {
  /** Local time the job was added here (ms); the list is newest first. */
  addedAt: number;
  createdAt: string | null;
  startedAt: string | null;
  completedAt: string | null;
  /** When the download links stop working. */
  expiresAt: string | null;
  webhook: WebhookState | null;
  /** One ZIP of the completed files, once the job has ended with one. */
  archiveUrl: string | null;
  /** The job whose failed files this one retries. */
  retryOf: string | null;
  /** The ordering rules' state: events held past a gap, and since when. */
  sequence: Sequence;
  /** Recent progress samples for the ETA. */
  samples: ProgressSample[];
  /** The service no longer knows the job (404): it is not followed any more. */
  lost: boolean;
  /** A REST action in flight. */
  busy: JobAction | null;
  /** The last action that failed (409, network…), else null. */
  actionError: Error | null;
}

const MAX_SAMPLES = 30;

export function createTrackedJob(jobId: string, addedAt: number, total = 0): TrackedJob {
  return {
    ...initialJobState(jobId, total),
    addedAt,
    createdAt: null,
    startedAt: null,
    completedAt: null,
    expiresAt: null,
    webhook: null,
    archiveUrl: null,
    retryOf: null,
    sequence: EMPTY_SEQUENCE,
    samples: [],
    lost: false,
    busy: null,
    actionError: null,
  };
}

/** Still followed: neither ended nor lost. */
export function isFollowed(job: TrackedJob): boolean {
  return !job.lost && !isTerminal(job.status);
}

/** Ended one way or another: it can be dismissed. */
export function isEnded(job: TrackedJob): boolean {
  return job.lost || isTerminal(job.status);
}

function withSample(job: TrackedJob, now: number): TrackedJob {
  // A pause (or anything but processing) breaks the rate: start over.
  if (job.status !== 'processing') return job.samples.length ? { ...job, samples: [] } : job;
  const last = job.samples[job.samples.length - 1];
  if (last && last.percent === job.percent) return job;
  return { ...job, samples: [...job.samples, { t: now, percent: job.percent }].slice(-MAX_SAMPLES) };
}

function fold(job: TrackedJob, step: Step, now: number): TrackedJob {
  let next: TrackedJob = { ...job, sequence: step.sequence };
  for (const event of step.accepted) next = withSample({ ...next, ...applyEvent(next, event) }, now);
  return next;
}

/** Applies one pushed event by the contract's rules (stale dropped, past a gap held). */
export function receiveEvent(job: TrackedJob, event: JobEvent, now: number): TrackedJob {
  if (event.job_id.toLowerCase() !== job.jobId) return job;
  const step = receive(job.sequence, event, now);
  return step.accepted.length || step.sequence !== job.sequence ? fold(job, step, now) : job;
}

/**
 * Applies a status document (first load, polling, an action's answer): one as new as the state also brings what
 * only documents carry (expiry, webhook, archive); an older one is ignored.
 */
export function applyDocument(job: TrackedJob, doc: StatusDocument, now: number): TrackedJob {
  if (doc.job_id.toLowerCase() !== job.jobId || !Number.isFinite(doc.seq) || doc.seq < job.seq) return job;
  const folded = fold(job, resync(job.sequence, { ...doc, job_id: job.jobId }, now), now);
  return {
    ...folded,
    createdAt: doc.created_at ?? null,
    startedAt: doc.started_at ?? null,
    completedAt: doc.completed_at ?? null,
    expiresAt: doc.expires_at ?? null,
    webhook: doc.webhook ?? null,
    archiveUrl: doc.archive_url ?? null,
    retryOf: doc.retry_of ?? null,
    lost: false,
  };
}

/** Restarts the gap's clock after a re-sync was asked for, so that it is not asked again at once. */
export function markResyncRequested(job: TrackedJob, now: number): TrackedJob {
  return job.sequence.held.length ? { ...job, sequence: { ...job.sequence, gapSince: now } } : job;
}

export function markLost(job: TrackedJob, error: Error): TrackedJob {
  return { ...job, lost: true, sequence: { ...job.sequence, held: [], gapSince: null }, busy: null, error };
}

/** Seconds left, from the progress rate seen while processing; null when unknown. */
export function estimateEtaSeconds(job: TrackedJob, now: number): number | null {
  if (job.status !== 'processing' || job.samples.length < 2) return null;
  const first = job.samples[0];
  const last = job.samples[job.samples.length - 1];
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

/** Which actions the state allows (the service still has the last word: 409). */
export function jobActions(job: TrackedJob): JobActions {
  const idle = !job.busy && !job.lost;
  return {
    canPause: idle && (job.status === 'queued' || job.status === 'processing'),
    canResume: idle && job.status === 'paused',
    canCancel: idle && (job.status === 'queued' || job.status === 'processing' || job.status === 'paused'),
    canDismiss: isEnded(job),
    canRetry: idle && isTerminal(job.status) && job.failed > 0,
  };
}
