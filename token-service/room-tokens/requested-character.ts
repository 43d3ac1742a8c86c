import { z } from 'zod';
import { AppError } from '../../core/errors.js';

/**
 * The `room_config` of LiveKit's standard token request: what LiveKit's SDKs send
 * (`TokenSource.endpoint(url).fetch({ agentName, agentMetadata })` and its twins in Swift,
 * Kotlin and Flutter). Other fields of LiveKit's `RoomConfiguration` are accepted and ignored.
 */
export const roomConfigBody = z.looseObject({
  agents: z
    .array(
      z.looseObject({
        agent_name: z.string().max(100).optional(),
        metadata: z.string().max(4_096).optional(),
      }),
    )
    .max(4)
    .optional(),
});

type RoomConfigBody = z.infer<typeof roomConfigBody>;

/** What a mobile app puts in the agent metadata to name the character it wants to talk to. */
const agentMetadata = z.looseObject({ character_id: z.uuid() });

/**
 * The character a token request asks for: Parley's own `character_id`, or the `character_id`
 * in the agent metadata of LiveKit's standard request (`{"character_id": "<uuid>"}`), so a
 * mobile app needs nothing but LiveKit's SDK. The agent's name is the server's to choose and
 * is ignored. Both given and different, or metadata that names no character: REQUEST.INVALID.
 */
export function requestedCharacter(body: {
  character_id?: string | undefined;
  room_config?: RoomConfigBody | undefined;
}): string | undefined {
  const fromAgents = (body.room_config?.agents ?? []).flatMap((agent, index) =>
    agent.metadata === undefined || agent.metadata === ''
      ? []
      : [characterIn(agent.metadata, index)],
  );
  const named = new Set([body.character_id, ...fromAgents].filter((id) => id !== undefined));
  if (named.size > 1) {
    throw invalid('character_id', 'names a different character than the agent metadata');
  }
  return named.values().next().value;
}

function characterIn(metadata: string, index: number): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(metadata);
  } catch {
    parsed = undefined;
  }
  const result = agentMetadata.safeParse(parsed);
  if (!result.success) {
    throw invalid(
      `room_config.agents[${index}].metadata`,
      'must be JSON {"character_id": "<character uuid>"}',
    );
  }
  return result.data.character_id;
}

function invalid(field: string, message: string): AppError {
  return new AppError('REQUEST.INVALID', `${field} ${message}`, {
    details: [{ in: 'body', field, message }],
  });
}
