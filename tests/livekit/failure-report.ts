import type { WorkerProcess } from '../worker/worker-process.js';
import type { RoomServer } from './room-server-view.js';

/**
 * What a failed room test needs to be understood afterwards: the rooms as the server sees
 * them (participants, their tracks, their PeerConnections) and the worker's and job
 * processes' own output, which is otherwise thrown away.
 */
export function roomTestReport(server: RoomServer, worker: WorkerProcess | undefined): string {
  const rooms = server.rooms.map((room) => ({
    room: room.name,
    participants: room.participants.map((p) => ({
      identity: p.identity,
      connected: p.connected,
      tracks: p.info.tracks.map((t) => `${t.sid} ${t.name}`),
      attributes: p.info.attributes,
      ...p.peerStates,
    })),
  }));
  const dispatches = server.dispatches.map((d) => `${d.job.room?.name}: ${d.outcome}`);
  const logs = (worker?.logs ?? []).slice(-120).map((line) => JSON.stringify(line));
  return [
    '--- rooms ---',
    JSON.stringify(rooms, null, 1),
    `--- dispatches --- ${dispatches.join(', ')}`,
    '--- worker and job logs (last 120) ---',
    ...logs,
    '--- worker stderr and other output (last 80) ---',
    ...(worker?.otherOutput ?? []).slice(-80),
  ].join('\n');
}
