/**
 * The answer of GET /api/trace/:messageId, merged from what each node saw
 * (trace-store.ts): published, stored for whom, pushed to each (with the
 * attempt, counted over every node in time order), acknowledged, dropped
 * (explicit steps, and the queue-leaving markers of the clients still
 * pending), and still queued for whom.
 */
import { statusName } from '../../shared/status';
import type { ClientMarker, NodeTrace, TraceStep } from './trace-store';

const iso = (at: number) => new Date(at).toISOString();

/** Subscribers whose copy is neither acknowledged nor dropped by a step: the ones markers may explain. */
export function pendingOf(views: readonly NodeTrace[]): { clientIds: string[]; since: number; channel: string } | null {
  const origin = views.find((view) => view.stored !== undefined && view.published !== undefined);
  if (!origin) return null;
  const settled = new Set<string>();
  for (const view of views) for (const step of view.steps) if (step.kind === 'acked' || step.kind === 'dropped') settled.add(step.clientId);
  const clientIds = origin.stored!.filter((clientId) => !settled.has(clientId));
  return clientIds.length === 0 ? null : { clientIds, since: origin.storedAt ?? origin.published!.at, channel: origin.published!.channel };
}

export interface TraceAnswer {
  id: string;
  published: Record<string, unknown> | null;
  stored: { at: string | null; node: string; count: number; subscribers: string[] } | null;
  pushed: Array<{ clientId: string; at: string; node: string; attempt: number; via: string }>;
  deferred: Array<{ clientId: string; at: string; node: string }>;
  acknowledged: Array<{ clientId: string; at: string; node: string }>;
  dropped: Array<{ clientId: string; reason: string; at: string; node: string }>;
  /** Subscribers whose copy is still stored, as far as the trace knows. */
  queued: string[];
  /** Stored subscribers and steps that went past the per-message caps. */
  truncated: number;
  nodes: { answered: string[]; missing: string[] };
}

export function mergeTrace(views: readonly NodeTrace[], markers: ReadonlyArray<ClientMarker & { node: string }>, missing: string[]): TraceAnswer | null {
  if (views.length === 0) return null;
  const steps = views.flatMap((view) => view.steps.map((step) => ({ ...step, node: view.node })))
    .sort((a, b) => a.at - b.at);
  const origin = views.find((view) => view.published !== undefined);
  const stored = views.find((view) => view.stored !== undefined);
  const answer: TraceAnswer = {
    id: views[0]!.id,
    published: origin ? publishedOf(origin) : null,
    stored: stored ? { at: stored.storedAt ? iso(stored.storedAt) : null, node: stored.node, count: stored.storedTotal ?? 0, subscribers: stored.stored! } : null,
    pushed: [], deferred: [], acknowledged: [], dropped: [], queued: [],
    truncated: views.reduce((sum, view) => sum + view.truncated, 0),
    nodes: { answered: views.map((view) => view.node).sort(), missing },
  };
  const attempts = new Map<string, number>();
  const settled = new Set<string>();
  for (const step of steps) {
    const at = iso(step.at);
    switch (step.kind) {
      case 'pushed': {
        const attempt = (attempts.get(step.clientId) ?? 0) + 1;
        attempts.set(step.clientId, attempt);
        answer.pushed.push({ clientId: step.clientId, at, node: step.node, attempt, via: step.via ?? 'live' });
        break;
      }
      case 'deferred':
        answer.deferred.push({ clientId: step.clientId, at, node: step.node });
        break;
      case 'acked':
        settled.add(step.clientId);
        answer.acknowledged.push({ clientId: step.clientId, at, node: step.node });
        break;
      case 'dropped':
        settled.add(step.clientId);
        answer.dropped.push(droppedOf(step, step.node));
        break;
    }
  }
  for (const marker of [...markers].sort((a, b) => a.at - b.at)) {
    if (settled.has(marker.clientId)) continue;
    settled.add(marker.clientId);
    answer.dropped.push(droppedOf(marker, marker.node));
  }
  answer.dropped.sort((a, b) => a.at.localeCompare(b.at));
  if (stored) answer.queued = stored.stored!.filter((clientId) => !settled.has(clientId));
  return answer;
}

function publishedOf(view: NodeTrace): Record<string, unknown> {
  const { at, status, ...rest } = view.published!;
  const published: Record<string, unknown> = { ...rest, at: iso(at), node: view.node };
  if (status !== undefined) Object.assign(published, { status, statusName: statusName(status) });
  return published;
}

function droppedOf(step: Pick<TraceStep, 'clientId' | 'at' | 'reason'>, node: string) {
  return { clientId: step.clientId, reason: step.reason ?? 'unknown', at: iso(step.at), node };
}
