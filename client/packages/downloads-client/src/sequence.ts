// The contract's ordering rules as pure functions: events are applied strictly in `seq` order, anything at or
// below what is held is dropped, a snapshot (or a status document) replaces the state, and events past a gap
// wait for the missing ones or for a re-sync.
import { isTerminal, type JobEvent, type StatusDocument } from './types.js';

export interface Sequence {
  /** Highest seq passed on; 0 before the first snapshot. */
  readonly seq: number;
  /** Events past a gap, ascending, waiting for the missing ones. */
  readonly held: readonly JobEvent[];
  /** When the current gap was first seen (ms); null without a gap. */
  readonly gapSince: number | null;
  /** A terminal event was passed on: nothing follows. */
  readonly ended: boolean;
}

export interface Step {
  sequence: Sequence;
  /** The events to pass on, in order. */
  accepted: JobEvent[];
}

export const EMPTY_SEQUENCE: Sequence = { seq: 0, held: [], gapSince: null, ended: false };

/** Held events beyond this are dropped: a re-sync brings their state anyway. */
const MAX_HELD = 1000;

/** A snapshot, or a terminal event (it carries the whole `results`): it stands for the whole state. */
function isWholeState(event: JobEvent): boolean {
  return event.type === 'snapshot' || (isTerminal(event.status) && Array.isArray(event.results));
}

function pass(sequence: Sequence, event: JobEvent, accepted: JobEvent[]): Sequence {
  accepted.push(event);
  return { ...sequence, seq: event.seq, ended: isTerminal(event.status) };
}

/** Passes on the held events that now follow, and forgets those already covered. */
function release(sequence: Sequence, accepted: JobEvent[]): Sequence {
  let current = sequence;
  let held = current.held.filter((e) => e.seq > current.seq);
  while (held.length && !current.ended && held[0].seq === current.seq + 1) {
    current = pass(current, held[0], accepted);
    held = held.slice(1);
  }
  if (current.ended) held = [];
  return { ...current, held, gapSince: held.length ? current.gapSince : null };
}

/** Applies one received event at time `now`. */
export function receive(sequence: Sequence, event: JobEvent, now: number): Step {
  const accepted: JobEvent[] = [];
  if (sequence.ended || !Number.isFinite(event.seq) || event.seq <= sequence.seq) return { sequence, accepted };
  if (isWholeState(event) || event.seq === sequence.seq + 1) {
    return { sequence: release(pass(sequence, event, accepted), accepted), accepted };
  }
  if (sequence.held.some((e) => e.seq === event.seq)) return { sequence, accepted };
  const held = [...sequence.held, event].sort((a, b) => a.seq - b.seq).slice(0, MAX_HELD);
  return { sequence: { ...sequence, held, gapSince: sequence.gapSince ?? now }, accepted };
}

/** The event a status document stands for: a `snapshot` of that state. */
export function snapshotOf(doc: StatusDocument): JobEvent {
  return {
    type: 'snapshot',
    job_id: doc.job_id,
    seq: doc.seq,
    status: doc.status,
    completed: doc.progress.completed,
    failed: doc.progress.failed,
    total: doc.progress.total,
    current_file: doc.progress.current_file,
    progress_percent: doc.progress.percent,
    results: doc.results,
  };
}

/** Applies a status document (first load, polling, re-sync): newer than what is held, it replaces the state. */
export function resync(sequence: Sequence, doc: StatusDocument, now: number): Step {
  const step = receive(sequence, snapshotOf(doc), now);
  // The gap is still open when the document is older than the held events: wait for it afresh.
  const gapSince = step.sequence.held.length ? now : null;
  return { ...step, sequence: { ...step.sequence, gapSince } };
}

/** True when a gap has stayed open for `holdMs`: time to fetch the status document. */
export function gapExpired(sequence: Sequence, now: number, holdMs: number): boolean {
  return !sequence.ended && sequence.gapSince !== null && now - sequence.gapSince >= holdMs;
}
